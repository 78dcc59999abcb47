"""Sentences for the synthetic corpus: the text side, in six languages.

:class:`SentenceGenerator` draws one normalized sentence at a time from small
template grammars, one set per language, grouped in families: smart-home and
voice commands, numbers and quantities, dates, times, short descriptions, and
weather / travel / shopping questions. Each template fills its slots from word
lists (nouns with their gender or noun class, adjectives with their forms) and
agrees articles, adjectives and numbers with the noun it uses, so the text has
real structure for a word n-gram LM.

Normalized text: lower case, no punctuation, numbers spelled out with
:mod:`asr.text.numbers`, single spaces; only letters (with the language's
accents, see :data:`LANG_CHARS`) and apostrophes inside words (``don't``,
``l'eau``, ``dov'è``). Hyphenated words are written with a space, as the
numbers are (``après midi``, ``réveille moi``).

Held-out vocabulary: in every language about 10% of the single-word entries of
the open word lists (nouns, names, cities, colours) is held out, chosen by a
hash of the word, so independent of list order. ``train`` and ``dev`` never use
them; in ``test`` a share (``held_out_rate``, 30% by default) of the sentences
contains at least one held-out word and the others use only seen words. See
:func:`held_out_words`.

Determinism: everything is drawn from the ``random.Random`` passed to
:meth:`SentenceGenerator.sample`, from tuples in a fixed order; the same rng
state gives the same sentence.
"""

from __future__ import annotations

import random
import re
import zlib
from functools import lru_cache
from typing import Callable, NamedTuple

from asr.text.numbers import number_to_words, ordinal_to_words, year_to_words

__all__ = [
    "LANGS",
    "LANG_CHARS",
    "SPLITS",
    "SentenceGenerator",
    "held_out_words",
    "content_words",
]

LANGS: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
SPLITS: tuple[str, ...] = ("train", "dev", "test")
HELD_OUT_FRACTION = 0.10

# the letters a normalized sentence may use (plus space); apostrophes only inside words
LANG_CHARS: dict[str, str] = {
    "en": "abcdefghijklmnopqrstuvwxyz'",
    "es": "abcdefghijklmnopqrstuvwxyzáéíóúüñ'",
    "de": "abcdefghijklmnopqrstuvwxyzäöüß'",
    "fr": "abcdefghijklmnopqrstuvwxyzàâæçéèêëîïôœùûüÿ'",
    "it": "abcdefghijklmnopqrstuvwxyzàèéìíòóùú'",
    "sw": "abcdefghijklmnopqrstuvwxyz'",
}


# ============================================================================ framework
class L(NamedTuple):
    """One word-list entry: its surface forms (first = lemma) and a grammatical tag.

    Nouns: ``(singular, plural)``; adjectives: the forms the language needs
    (e.g. Spanish ``(m sg, f sg, m pl, f pl)``). ``g`` is the gender
    (``m``/``f``/``n``) or, in Swahili, the noun class of the singular.
    """

    forms: tuple[str, ...]
    g: str = ""

    @property
    def sg(self) -> str:
        return self.forms[0]

    @property
    def pl(self) -> str:
        return self.forms[1] if len(self.forms) > 1 else self.forms[0]

    def words(self) -> set[str]:
        return {w for f in self.forms for w in f.split()}


def _lex(spec: str, pluralize: Callable[[str], str] | None = None) -> tuple[L, ...]:
    """Parse ``"sg/pl:g sg2/pl2:g2 ..."``; ``_`` stands for a space inside an entry.

    Without an explicit plural, ``pluralize(sg)`` gives it when provided.
    """
    out = []
    for tok in spec.split():
        forms_s, _, g = tok.partition(":")
        forms = tuple(f.replace("_", " ") for f in forms_s.split("/"))
        if len(forms) == 1 and pluralize is not None:
            forms = (forms[0], pluralize(forms[0]))
        out.append(L(forms, g))
    return tuple(out)


class _Ctx:
    """What a template function sees: the rng and a word picker that obeys the split."""

    def __init__(self, gen: "SentenceGenerator | None", rng: random.Random, featured: bool, allow_held: bool):
        self._gen = gen
        self.rng = rng
        self.featured = featured
        self.allow_held = allow_held
        self.picked: set[str] = set()  # only filled when tracing (gen is None)

    def pick(self, pool: tuple[L, ...]) -> L:
        if self._gen is None:  # tracing which words come from word lists
            entry = self.rng.choice(pool)
            self.picked |= entry.words()
            return entry
        seen, held = self._gen._split_pool(pool)
        if self.allow_held and held:
            if self.featured and self.rng.random() < 0.5:
                return self.rng.choice(held)
            return self.rng.choice(seen + held)
        return self.rng.choice(seen)

    def choice(self, seq):
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def randint(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def count(self, lo: int = 2) -> int:
        """A quantity, mostly small: 2-20 (40%), 21-99, 100-999, 1000-9999, up to 999999."""
        r = self.rng.random()
        if r < 0.40:
            return self.rng.randint(lo, 20)
        if r < 0.70:
            return self.rng.randint(21, 99)
        if r < 0.90:
            return self.rng.randint(100, 999)
        if r < 0.98:
            return self.rng.randint(1000, 9999)
        return self.rng.randint(10000, 999999)

    def price(self) -> int:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.randint(2, 99)
        if r < 0.85:
            return self.rng.randint(100, 999)
        return self.rng.randint(1000, 50000)


Family = Callable[[_Ctx], str]


class _LangSpec(NamedTuple):
    families: tuple[tuple[float, Family], ...]
    open_pools: tuple[tuple[L, ...], ...]  # eligible for held-out words
    closed_pools: tuple[tuple[L, ...], ...]  # everything else picked with ctx.pick


_SPECS: dict[str, _LangSpec] = {}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_month(c: "_Ctx", months: tuple[L, ...]) -> tuple[int, L]:
    """A valid (day, month) pair: the month from ``months`` (January first), then its day."""
    m = c.pick(months)
    return c.randint(1, _MONTH_DAYS[months.index(m)]), m


def _daypart(c: "_Ctx", hour: int, table: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    """A part of the day that fits the clock ``hour`` (1..12) said, or ''."""
    opts = tuple(label for label, hours in table if hour in hours)
    return c.choice(opts) if opts else ""


# ============================================================================ English
EN_POLITE = ("", "please ", "can you ", "could you ", "could you please ")
EN_DEVICES = _lex(
    "lights lamp heater fan radio television tv oven air_conditioner dishwasher washing_machine "
    "coffee_machine speakers printer computer kettle"
)
EN_OPENABLE = _lex("door window curtains blinds garage_door gate shutters")
EN_ROOMS = _lex(
    "kitchen bedroom bathroom living_room dining_room hallway garage office basement attic garden "
    "nursery laundry_room guest_room study playroom porch"
)
EN_GENRES = _lex("jazz classical rock pop folk country blues reggae soul disco funk opera hip_hop")
EN_NAMES = _lex(
    "anna david emma james john laura lucy mark mary michael oliver paul peter rachel robert sarah "
    "sophie thomas william grace henry jack kate lily alice george helen daniel olivia chloe"
)
EN_TASKS = _lex(
    "buy_milk water_the_plants take_out_the_trash feed_the_cat pick_up_the_kids take_my_medicine "
    "pay_the_bills walk_the_dog book_a_table charge_my_phone"
)
EN_ITEMS = _lex(
    "box/boxes bottle/bottles apple/apples egg/eggs chair/chairs ticket/tickets book/books "
    "pencil/pencils cup/cups plate/plates candle/candles battery/batteries towel/towels "
    "blanket/blankets envelope/envelopes stamp/stamps glass/glasses spoon/spoons fork/forks "
    "knife/knives bag/bags shirt/shirts sock/socks orange/oranges lemon/lemons tomato/tomatoes "
    "potato/potatoes banana/bananas sandwich/sandwiches cookie/cookies onion/onions carrot/carrots "
    "brick/bricks nail/nails screw/screws bucket/buckets flower/flowers pillow/pillows "
    "notebook/notebooks folder/folders"
)
EN_PEOPLE = _lex(
    "person/people student/students child/children guest/guests passenger/passengers "
    "worker/workers visitor/visitors teacher/teachers player/players"
)
EN_CURRENCIES = _lex("dollar/dollars euro/euros pound/pounds")
EN_MONTHS = _lex("january february march april may june july august september october november december")
EN_WEEKDAYS = _lex("monday tuesday wednesday thursday friday saturday sunday")
EN_EVENTS = _lex(
    "meeting movie concert class lecture game show flight dinner party conference wedding match "
    "rehearsal interview appointment tour"
)
EN_VEHICLES = _lex("train bus ferry flight tram coach")
EN_THINGS = _lex(
    "car/cars bike/bikes boat/boats cat/cats dog/dogs bag/bags ball/balls box/boxes book/books "
    "chair/chairs table/tables lamp/lamps truck/trucks van/vans horse/horses bird/birds kite/kites "
    "umbrella/umbrellas bench/benches tent/tents ladder/ladders kettle/kettles clock/clocks mug/mugs"
)
EN_LANDMARKS = _lex(
    "bridge church station tree house wall river fence school library fountain tower gate castle "
    "museum market hotel bakery harbour lake statue barn hospital"
)
EN_SIZES = _lex("small big little large tiny huge")
EN_ADJS = _lex("old new tall quiet busy empty famous wooden narrow modern")
EN_COLOURS = _lex("red blue green yellow black white grey brown pink purple orange silver golden")
EN_PREPS = _lex("near behind next_to in_front_of under beside across_from close_to opposite")
EN_RELATIVES = _lex("sister brother mother father neighbour friend uncle aunt cousin grandmother")
EN_CITIES = _lex(
    "london paris berlin madrid rome tokyo boston chicago dallas denver seattle toronto sydney "
    "dublin glasgow manchester liverpool houston phoenix atlanta miami vienna prague lisbon oslo "
    "stockholm cairo nairobi lagos delhi mumbai bangkok seoul lima montreal vancouver edinburgh"
)
EN_PLACES = _lex(
    "station airport museum hospital pharmacy bank post_office library bakery supermarket hotel "
    "beach park cinema stadium zoo market bus_stop city_hall police_station gas_station"
)
EN_CLOTHES = _lex(
    "shirt/shirts jacket/jackets dress/dresses skirt/skirts hat/hats scarf/scarves coat/coats "
    "sweater/sweaters belt/belts glove/gloves boot/boots sandal/sandals tie/ties "
    "umbrella/umbrellas backpack/backpacks watch/watches"
)
EN_FOODS = _lex(
    "apples oranges tomatoes potatoes rice cheese sugar flour coffee beans carrots onions grapes "
    "cherries strawberries pears peaches lemons plums meat fish"
)
EN_WHEN = ("today", "tomorrow", "tonight", "this weekend", "next week", "this afternoon", "tomorrow morning")


def _en_num(n: int) -> str:
    return number_to_words(n, "en")


_EN_DAYPARTS = (
    ("in the morning", (4, 5, 6, 7, 8, 9, 10, 11)),
    ("in the afternoon", (12, 1, 2, 3, 4, 5)),
    ("in the evening", (5, 6, 7, 8, 9, 10)),
    ("at night", (8, 9, 10, 11, 12, 1, 2, 3)),
)


def _en_time(c: _Ctx) -> str:
    h = c.randint(1, 12)
    nxt = h % 12 + 1
    k = c.randint(0, 8)
    shown = nxt if k in (3, 5) else h
    if k == 0:
        t = f"{_en_num(h)} o'clock"
    elif k == 1:
        t = f"half past {_en_num(h)}"
    elif k == 2:
        t = f"a quarter past {_en_num(h)}"
    elif k == 3:
        t = f"a quarter to {_en_num(nxt)}"
    elif k == 4:
        m = c.choice((5, 10, 20, 25))
        t = f"{_en_num(m)} past {_en_num(h)}"
    elif k == 5:
        m = c.choice((5, 10, 20, 25))
        t = f"{_en_num(m)} to {_en_num(nxt)}"
    elif k == 6:
        m = c.randint(1, 9)
        t = f"{_en_num(h)} oh {_en_num(m)}"
    else:
        m = c.choice((15, 30, 45, 10, 20, 40, 50, 35, 25, 55))
        t = f"{_en_num(h)} {_en_num(m)}"
    if c.chance(0.3):
        t += " " + _daypart(c, shown, _EN_DAYPARTS)
    return t


def _en_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return "on " + c.pick(EN_WEEKDAYS).sg
    return c.choice(EN_WHEN)


def _en_date(c: _Ctx, year: bool = False) -> str:
    d, m_ = _day_month(c, EN_MONTHS)
    m = m_.sg
    out = c.choice((f"the {ordinal_to_words(d, 'en')} of {m}", f"{m} {ordinal_to_words(d, 'en')}"))
    if year:
        out += " " + year_to_words(c.randint(1950, 2030), "en")
    return out


def _en_a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def en_home(c: _Ctx) -> str:
    p = c.choice(EN_POLITE)
    room = c.pick(EN_ROOMS).sg
    k = c.randint(0, 5)
    if k <= 1:
        v = c.choice(("turn on", "turn off", "switch on", "switch off"))
        return f"{p}{v} the {c.pick(EN_DEVICES).sg} in the {room}"
    if k == 2:
        dev = c.pick(EN_DEVICES).sg
        return f"{p}turn the {room} {dev} {c.choice(('on', 'off'))}"
    if k == 3:
        return f"{p}{c.choice(('open', 'close', 'shut'))} the {c.pick(EN_OPENABLE).sg} in the {room}"
    if k == 4:
        return f"{p}dim the lights in the {room} to {_en_num(c.randint(1, 9) * 10)} percent"
    return f"{p}set the temperature in the {room} to {_en_num(c.randint(15, 28))} degrees"


def en_assistant(c: _Ctx) -> str:
    k = c.randint(0, 7)
    if k == 0:
        return f"{c.choice(EN_POLITE)}set an alarm for {_en_time(c)}"
    if k == 1:
        return f"{c.choice(EN_POLITE)}wake me up at {_en_time(c)}"
    if k == 2:
        return f"set a timer for {_en_num(c.randint(2, 90))} minutes"
    if k == 3:
        return f"{c.choice(EN_POLITE)}play some {c.pick(EN_GENRES).sg} music in the {c.pick(EN_ROOMS).sg}"
    if k == 4:
        return f"{c.choice(('call', 'please call', 'send a message to', 'text'))} {c.pick(EN_NAMES).sg}"
    if k == 5:
        task = c.pick(EN_TASKS).sg if c.chance(0.8) else "call " + c.pick(EN_NAMES).sg
        return f"remind me to {task} at {_en_time(c)}"
    if k == 6:
        return f"don't forget to {c.pick(EN_TASKS).sg} {c.choice(EN_WHEN)}"
    return f"what's on my calendar {_en_when(c)}"


def en_quantity(c: _Ctx) -> str:
    k = c.randint(0, 6)
    item = c.pick(EN_ITEMS).pl
    n = _en_num(c.count())
    if k == 0:
        return f"i need {n} {item}"
    if k == 1:
        return f"please order {n} {item}"
    if k == 2:
        return f"we only have {n} {item} left"
    if k == 3:
        return f"there are {n} {c.pick(EN_PEOPLE).pl} at the {c.pick(EN_PLACES).sg}"
    if k == 4:
        return f"it costs {_en_num(c.price())} {c.pick(EN_CURRENCIES).pl}"
    if k == 5:
        return f"i paid {_en_num(c.price())} {c.pick(EN_CURRENCIES).pl} for {c.choice(('the', 'these', 'those'))} {item}"
    return f"we are expecting {n} {c.pick(EN_PEOPLE).pl} {c.choice(EN_WHEN)}"


def en_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"the {c.pick(EN_EVENTS).sg} is on {_en_date(c)}"
    if k == 1:
        return f"my birthday is on {_en_date(c)}"
    if k == 2:
        return f"we leave on {c.pick(EN_WEEKDAYS).sg} {_en_date(c)}"
    if k == 3:
        return f"i was born on {_en_date(c, year=True)}"
    if k == 4:
        return f"today is {c.pick(EN_WEEKDAYS).sg} {_en_date(c)}"
    return f"the {c.pick(EN_EVENTS).sg} was moved to {_en_date(c)}"


def en_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        return f"the {c.pick(EN_VEHICLES).sg} leaves at {_en_time(c)}"
    if k == 1:
        return f"the {c.pick(EN_EVENTS).sg} starts at {_en_time(c)}"
    if k == 2:
        return f"let's meet at the {c.pick(EN_PLACES).sg} at {_en_time(c)}"
    return f"the {c.pick(EN_PLACES).sg} opens at {_en_time(c)}"


def en_describe(c: _Ctx) -> str:
    thing = c.pick(EN_THINGS)
    plural = c.chance(0.25)
    adjs = []
    if c.chance(0.7):
        adjs.append(c.pick(EN_SIZES).sg)
    if c.chance(0.7):
        adjs.append(c.pick(EN_COLOURS).sg)
    np = " ".join(adjs + [thing.pl if plural else thing.sg])
    k = c.randint(0, 3)
    if k <= 1:
        where = c.pick(EN_PREPS).sg
        land = c.pick(EN_LANDMARKS).sg
        if c.chance(0.6):
            land = c.pick(EN_ADJS).sg + " " + land
        verb = "are" if plural else "is"
        return f"the {np} {verb} {where} the {land}"
    if k == 2:
        who = c.pick(EN_RELATIVES).sg
        return f"my {who} has " + (np if plural else _en_a(np))
    if plural:
        return f"these {np} are {c.choice(('very', 'too', 'quite'))} {c.pick(EN_ADJS).sg}"
    return f"this {np} is {c.choice(('very', 'too', 'quite'))} {c.pick(EN_ADJS).sg}"


def en_weather(c: _Ctx) -> str:
    city = c.pick(EN_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"what's the weather like in {city} {_en_when(c)}"
    if k == 1:
        return f"will it {c.choice(('rain', 'snow'))} in {city} {_en_when(c)}"
    if k == 2:
        return f"how {c.choice(('cold', 'warm', 'hot', 'windy'))} will it be in {city} {_en_when(c)}"
    if k == 3:
        return f"it is {_en_num(c.randint(2, 35))} degrees in {city} {c.choice(('today', 'right now', 'this morning'))}"
    return f"is it going to be sunny in {city} {_en_when(c)}"


def en_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"how do i get to the {c.pick(EN_PLACES).sg}"
    if k == 1:
        return f"when does the next {c.pick(EN_VEHICLES).sg} to {c.pick(EN_CITIES).sg} leave"
    if k == 2:
        return f"how long does it take to get to {c.pick(EN_CITIES).sg} by {c.choice(('train', 'bus', 'car', 'plane'))}"
    if k == 3:
        return f"where is the nearest {c.pick(EN_PLACES).sg}"
    if k == 4:
        return f"i'd like {c.choice(('a ticket', 'two tickets', 'a return ticket'))} to {c.pick(EN_CITIES).sg}"
    return f"is there {_en_a(c.pick(EN_PLACES).sg)} near here"


def en_shopping(c: _Ctx) -> str:
    k = c.randint(0, 5)
    cl = c.pick(EN_CLOTHES)
    if k == 0:
        return f"how much does this {cl.sg} cost"
    if k == 1:
        return f"how much are these {cl.pl}"
    if k == 2:
        return f"do you have this {cl.sg} in {c.pick(EN_COLOURS).sg}"
    if k == 3:
        return f"do you sell {c.pick(EN_ITEMS).pl}"
    if k == 4:
        n = c.randint(1, 12)
        unit = "a kilo" if n == 1 else f"{_en_num(n)} kilos"
        return f"i'd like {unit} of {c.pick(EN_FOODS).sg}"
    return f"i'm looking for {_en_a(c.pick(EN_COLOURS).sg)} {cl.sg}"


_SPECS["en"] = _LangSpec(
    families=(
        (2.0, en_home), (1.5, en_assistant), (1.5, en_quantity), (1.0, en_date), (1.0, en_time),
        (1.5, en_describe), (1.0, en_weather), (1.0, en_travel), (1.0, en_shopping),
    ),
    open_pools=(EN_DEVICES, EN_ROOMS, EN_GENRES, EN_NAMES, EN_ITEMS, EN_EVENTS, EN_THINGS,
                EN_LANDMARKS, EN_COLOURS, EN_CITIES, EN_PLACES, EN_CLOTHES, EN_FOODS),
    closed_pools=(EN_OPENABLE, EN_TASKS, EN_PEOPLE, EN_CURRENCIES, EN_MONTHS, EN_WEEKDAYS,
                  EN_VEHICLES, EN_SIZES, EN_ADJS, EN_PREPS, EN_RELATIVES),
)


# ============================================================================ Spanish
_ES_UNACCENT = str.maketrans("áéíóú", "aeiou")


def _es_plural(sg: str) -> str:
    if sg[-1] in "aeiouáéó":
        return sg + "s"
    if sg.endswith("z"):
        return sg[:-1] + "ces"
    if re.search(r"[áéíóú][ns]$", sg):  # canción -> canciones, autobús -> autobuses
        sg = sg[:-2] + sg[-2].translate(_ES_UNACCENT) + sg[-1]
    return sg + "es"


def _es_adjs(spec: str) -> tuple[L, ...]:
    """Adjectives as ``(m sg, f sg, m pl, f pl)``; ``rojo`` and ``azul`` inflect themselves."""
    out = []
    for tok in spec.split():
        if "/" in tok:
            out.append(L(tuple(tok.split("/"))))
        elif tok.endswith("o"):
            out.append(L((tok, tok[:-1] + "a", tok + "s", tok[:-1] + "as")))
        else:
            pl = _es_plural(tok)
            out.append(L((tok, tok, pl, pl)))
    return tuple(out)


def _es_adj(a: L, g: str, pl: bool) -> str:
    return a.forms[(g == "f") + 2 * pl]


_ES_ART = {
    "def": ("el", "la", "los", "las"),
    "indef": ("un", "una", "unos", "unas"),
    "dem": ("este", "esta", "estos", "estas"),
}


def _es_np(kind: str, n: L, pl: bool = False, pre: L | None = None, post: L | None = None) -> str:
    words = []
    if kind != "none":
        words.append(_ES_ART[kind][(n.g == "f") + 2 * pl])
    if pre is not None:
        words.append(_es_adj(pre, n.g, pl))
    words.append(n.pl if pl else n.sg)
    if post is not None:
        words.append(_es_adj(post, n.g, pl))
    return " ".join(words)


def _es_fix(text: str) -> str:
    """Contractions: de el -> del, a el -> al."""
    return re.sub(r"\b(de|a) el\b", lambda m: "del" if m.group(1) == "de" else "al", text)


def _es_num(n: int, g: str = "m") -> str:
    return number_to_words(n, "es", gender=g, attributive=True)


ES_DEVICES = _lex(
    "luz:f lámpara:f calefacción:f ventilador:m radio:f televisión:f horno:m aire_acondicionado:m "
    "lavavajillas/lavavajillas:m lavadora:f cafetera:f altavoz:m ordenador:m impresora:f tostadora:f",
    _es_plural,
)
ES_ROOMS = _lex(
    "cocina:f dormitorio:m baño:m salón:m comedor:m pasillo:m garaje:m oficina:f sótano:m ático:m "
    "jardín:m despacho:m lavandería:f terraza:f entrada:f habitación:f",
    _es_plural,
)
ES_OPENABLE = _lex("puerta:f ventana:f cortina:f persiana:f verja:f", _es_plural)
ES_GENRES = _lex("jazz rock pop clásica latina electrónica flamenca romántica tropical")
ES_NAMES = _lex(
    "ana carlos carmen diego elena javier josé juan laura lucía luis manuel marta miguel pablo "
    "pedro rosa sara sofía teresa andrés isabel raúl beatriz jorge cristina alberto pilar"
)
ES_TASKS = _lex(
    "comprar_leche regar_las_plantas sacar_la_basura dar_de_comer_al_gato recoger_a_los_niños "
    "tomar_mis_medicinas pagar_las_facturas pasear_al_perro reservar_una_mesa cargar_el_móvil"
)
ES_ITEMS = _lex(
    "caja:f botella:f manzana:f huevo:m silla:f billete:m libro:m lápiz:m taza:f plato:m vela:f "
    "pila:f toalla:f manta:f sobre:m sello:m vaso:m cuchara:f tenedor:m cuchillo:m bolsa:f "
    "camisa:f calcetín:m naranja:f limón:m tomate:m patata:f plátano:m bocadillo:m galleta:f "
    "cebolla:f zanahoria:f ladrillo:m clavo:m tornillo:m cubo:m flor:f almohada:f cuaderno:m "
    "carpeta:f",
    _es_plural,
)
ES_PEOPLE = _lex(
    "persona:f estudiante:m niño:m invitado:m pasajero:m trabajador:m visitante:m profesor:m "
    "jugador:m",
    _es_plural,
)
ES_CURRENCIES = _lex("euro:m dólar:m peso:m", _es_plural)
ES_MONTHS = _lex("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre")
ES_WEEKDAYS = _lex("lunes martes miércoles jueves viernes sábado domingo")
ES_EVENTS = _lex(
    "reunión:f película:f concierto:m clase:f partido:m espectáculo:m vuelo:m cena:f fiesta:f "
    "conferencia:f boda:f ensayo:m entrevista:f cita:f excursión:f",
    _es_plural,
)
ES_VEHICLES = _lex("tren:m autobús:m barco:m vuelo:m tranvía:m", _es_plural)
ES_THINGS = _lex(
    "coche:m bicicleta:f barco:m gato:m perro:m bolso:m balón:m caja:f libro:m silla:f mesa:f "
    "lámpara:f camión:m furgoneta:f caballo:m pájaro:m cometa:f paraguas/paraguas:m banco:m "
    "escalera:f tetera:f reloj:m taza:f moto:f mochila:f",
    _es_plural,
)
ES_LANDMARKS = _lex(
    "puente:m iglesia:f estación:f árbol:m casa:f muro:m río:m valla:f escuela:f biblioteca:f "
    "fuente:f torre:f castillo:m museo:m mercado:m hotel:m panadería:f puerto:m lago:m estatua:f "
    "granero:m hospital:m ayuntamiento:m",
    _es_plural,
)
ES_PRE_ADJS = _es_adjs("pequeño viejo nuevo")
ES_POST_ADJS = _es_adjs("antiguo moderno grande alto famoso blanco viejo nuevo")
ES_PRED_ADJS = _es_adjs("caro barato bonito viejo nuevo grande pequeño pesado ligero rápido")
ES_COLOURS = _es_adjs(
    "rojo azul verde amarillo negro blanco gris marrón rosa/rosa/rosa/rosa morado "
    "naranja/naranja/naranja/naranja dorado plateado"
)
ES_PREPS = ("cerca de", "al lado de", "delante de", "detrás de", "debajo de", "encima de", "enfrente de")
ES_RELATIVES = _lex(
    "hermana:f hermano:m madre:f padre:m vecino:m vecina:f amigo:m amiga:f tío:m tía:f primo:m "
    "abuela:f"
)
ES_CITIES = _lex(
    "madrid barcelona sevilla valencia bilbao málaga granada toledo salamanca zaragoza córdoba "
    "lima quito bogotá caracas santiago montevideo londres parís roma berlín lisboa cádiz murcia "
    "oviedo santander pamplona burgos vigo alicante asunción"
)
ES_PLACES = _lex(
    "estación:f aeropuerto:m museo:m hospital:m farmacia:f banco:m oficina_de_correos:f "
    "biblioteca:f panadería:f supermercado:m hotel:m playa:f parque:m cine:m estadio:m "
    "zoológico:m mercado:m parada_de_autobús:f ayuntamiento:m comisaría:f gasolinera:f",
    _es_plural,
)
ES_CLOTHES = _lex(
    "camisa:f chaqueta:f vestido:m falda:f sombrero:m bufanda:f abrigo:m jersey/jerséis:m "
    "cinturón:m guante:m bota:f sandalia:f corbata:f paraguas/paraguas:m mochila:f reloj:m "
    "camiseta:f",
    _es_plural,
)
ES_FOODS = _lex(
    "manzanas naranjas tomates patatas arroz azúcar harina café judías zanahorias cebollas uvas "
    "cerezas fresas peras melocotones limones ciruelas queso carne pescado"
)
ES_WHEN = ("hoy", "mañana", "pasado mañana", "esta noche", "este fin de semana", "la próxima semana", "mañana por la mañana")


def _es_time(c: _Ctx) -> str:
    """``a las siete y media de la tarde``."""
    hh = c.randint(7, 22)
    k = c.randint(0, 6)
    suffix = ""
    if k == 0:
        suffix = " en punto"
    elif k == 1:
        suffix = " y cuarto"
    elif k == 2:
        suffix = " y media"
    elif k == 3:
        hh, suffix = hh + 1, " menos cuarto"
    elif k == 4:
        suffix = " y " + number_to_words(c.choice((5, 10, 20, 25)), "es")
    elif k == 5:
        hh, suffix = hh + 1, " menos " + number_to_words(c.choice((5, 10, 20, 25)), "es")
    h = hh % 12 or 12
    out = "a la una" if h == 1 else "a las " + number_to_words(h, "es", gender="f")
    out += suffix
    if c.chance(0.5):
        out += " " + ("del mediodía" if hh == 12 else "de la mañana" if hh < 12 else "de la tarde" if hh <= 20 else "de la noche")
    return out


def _es_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return "el " + c.pick(ES_WEEKDAYS).sg
    return c.choice(ES_WHEN)


def _es_date(c: _Ctx, year: bool = False) -> str:
    d, m = _day_month(c, ES_MONTHS)
    out = f"{'primero' if d == 1 else number_to_words(d, 'es')} de {m.sg}"
    if year:
        out += " de " + year_to_words(c.randint(1950, 2030), "es")
    return out


def es_home(c: _Ctx) -> str:
    room = _es_np("def", c.pick(ES_ROOMS))
    please = c.choice(("", "", "por favor "))
    k = c.randint(0, 5)
    if k <= 1:
        v = c.choice(("enciende", "apaga"))
        return f"{please}{v} {_es_np('def', c.pick(ES_DEVICES))} de {room}"
    if k == 2:
        v = c.choice(("encender", "apagar"))
        return f"puedes {v} {_es_np('def', c.pick(ES_DEVICES))} de {room}"
    if k == 3:
        v = c.choice(("abre", "cierra"))
        return f"{please}{v} {_es_np('def', c.pick(ES_OPENABLE), c.chance(0.4))} de {room}"
    if k == 4:
        return f"baja las luces de {room} al {number_to_words(c.randint(1, 9) * 10, 'es')} por ciento"
    return f"pon la calefacción de {room} a {_es_num(c.randint(15, 28))} grados"


def es_assistant(c: _Ctx) -> str:
    k = c.randint(0, 7)
    if k == 0:
        return f"pon una alarma {_es_time(c)}"
    if k == 1:
        return f"despiértame {_es_time(c)}"
    if k == 2:
        return f"pon un temporizador de {_es_num(c.randint(2, 90))} minutos"
    if k == 3:
        return f"pon música {c.pick(ES_GENRES).sg} en {_es_np('def', c.pick(ES_ROOMS))}"
    if k == 4:
        return f"{c.choice(('llama a', 'por favor llama a', 'envía un mensaje a', 'escribe a'))} {c.pick(ES_NAMES).sg}"
    if k == 5:
        task = c.pick(ES_TASKS).sg if c.chance(0.8) else "llamar a " + c.pick(ES_NAMES).sg
        return f"recuérdame {task} {_es_time(c)}"
    if k == 6:
        return f"no te olvides de {c.pick(ES_TASKS).sg} {_es_when(c)}"
    return f"qué tengo en la agenda {_es_when(c)}"


def es_quantity(c: _Ctx) -> str:
    item = c.pick(ES_ITEMS)
    n = _es_num(c.count(), item.g)
    k = c.randint(0, 6)
    if k == 0:
        return f"necesito {n} {item.pl}"
    if k == 1:
        return f"por favor pide {n} {item.pl}"
    if k == 2:
        return f"solo nos quedan {n} {item.pl}"
    if k == 3:
        who = c.pick(ES_PEOPLE)
        return f"hay {_es_num(c.count(), who.g)} {who.pl} en {_es_np('def', c.pick(ES_PLACES))}"
    if k == 4:
        return f"cuesta {_es_num(c.price())} {c.pick(ES_CURRENCIES).pl}"
    if k == 5:
        return f"pagué {_es_num(c.price())} {c.pick(ES_CURRENCIES).pl} por {_es_np('def', item, True)}"
    who = c.pick(ES_PEOPLE)
    return f"esperamos {_es_num(c.count(), who.g)} {who.pl} {_es_when(c)}"


def es_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"{_es_np('def', c.pick(ES_EVENTS))} es el {_es_date(c)}"
    if k == 1:
        return f"mi cumpleaños es el {_es_date(c)}"
    if k == 2:
        return f"salimos el {c.pick(ES_WEEKDAYS).sg} {_es_date(c)}"
    if k == 3:
        return f"nací el {_es_date(c, year=True)}"
    if k == 4:
        return f"hoy es {c.pick(ES_WEEKDAYS).sg} {_es_date(c)}"
    return f"{_es_np('def', c.pick(ES_EVENTS))} se ha cambiado al {_es_date(c)}"


def es_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        return f"{_es_np('def', c.pick(ES_VEHICLES))} sale {_es_time(c)}"
    if k == 1:
        return f"{_es_np('def', c.pick(ES_EVENTS))} empieza {_es_time(c)}"
    if k == 2:
        return f"nos vemos en {_es_np('def', c.pick(ES_PLACES))} {_es_time(c)}"
    return f"{_es_np('def', c.pick(ES_PLACES))} abre {_es_time(c)}"


def es_describe(c: _Ctx) -> str:
    thing = c.pick(ES_THINGS)
    pl = c.chance(0.25)
    pre = c.pick(ES_PRE_ADJS) if c.chance(0.5) else None
    post = c.pick(ES_COLOURS) if c.chance(0.7) else None
    k = c.randint(0, 3)
    if k <= 1:
        land = c.pick(ES_LANDMARKS)
        land_np = _es_np("def", land, post=c.pick(ES_POST_ADJS) if c.chance(0.5) else None)
        verb = "están" if pl else "está"
        return f"{_es_np('def', thing, pl, pre, post)} {verb} {c.choice(ES_PREPS)} {land_np}"
    if k == 2:
        return f"mi {c.pick(ES_RELATIVES).sg} tiene {_es_np('indef', thing, pl, pre, post)}"
    adj = _es_adj(c.pick(ES_PRED_ADJS), thing.g, pl)
    verb = "son" if pl else "es"
    return f"{_es_np('dem', thing, pl, pre, post)} {verb} {c.choice(('muy', 'demasiado', 'bastante'))} {adj}"


def es_weather(c: _Ctx) -> str:
    city = c.pick(ES_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"qué tiempo hará {_es_when(c)} en {city}"
    if k == 1:
        return f"va a {c.choice(('llover', 'nevar'))} {_es_when(c)} en {city}"
    if k == 2:
        return f"hará {c.choice(('frío', 'calor', 'viento'))} {_es_when(c)} en {city}"
    if k == 3:
        return f"hace {_es_num(c.randint(2, 35))} grados en {city}"
    return f"va a hacer sol {_es_when(c)} en {city}"


def es_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"cómo llego a {_es_np('def', c.pick(ES_PLACES))}"
    if k == 1:
        return f"cuándo sale el próximo {c.pick(ES_VEHICLES).sg} para {c.pick(ES_CITIES).sg}"
    if k == 2:
        how = c.choice(("tren", "autobús", "coche", "avión"))
        return f"cuánto se tarda en llegar a {c.pick(ES_CITIES).sg} en {how}"
    if k == 3:
        place = c.pick(ES_PLACES)
        near = "cercana" if place.g == "f" else "cercano"
        return f"dónde está {_es_np('def', place)} más {near}"
    if k == 4:
        what = c.choice(("un billete", "dos billetes", "un billete de ida y vuelta"))
        return f"quiero {what} para {c.pick(ES_CITIES).sg}"
    return f"hay {_es_np('indef', c.pick(ES_PLACES))} cerca de aquí"


def es_shopping(c: _Ctx) -> str:
    cl = c.pick(ES_CLOTHES)
    k = c.randint(0, 5)
    if k == 0:
        return f"cuánto cuesta {_es_np('dem', cl)}"
    if k == 1:
        return f"cuánto cuestan {_es_np('dem', cl, True)}"
    if k == 2:
        return f"tiene {_es_np('dem', cl)} en {c.pick(ES_COLOURS).sg}"
    if k == 3:
        return f"venden {c.pick(ES_ITEMS).pl}"
    if k == 4:
        n = c.randint(1, 12)
        return f"quiero {'un kilo' if n == 1 else _es_num(n) + ' kilos'} de {c.pick(ES_FOODS).sg}"
    return f"busco {_es_np('indef', cl, post=c.pick(ES_COLOURS))}"


def _es_wrap(fn: Family) -> Family:
    def wrapped(c: _Ctx) -> str:
        return _es_fix(fn(c))

    wrapped.__name__ = fn.__name__
    return wrapped


_SPECS["es"] = _LangSpec(
    families=tuple(
        (w, _es_wrap(f))
        for w, f in (
            (2.0, es_home), (1.5, es_assistant), (1.5, es_quantity), (1.0, es_date), (1.0, es_time),
            (1.5, es_describe), (1.0, es_weather), (1.0, es_travel), (1.0, es_shopping),
        )
    ),
    open_pools=(ES_DEVICES, ES_ROOMS, ES_GENRES, ES_NAMES, ES_ITEMS, ES_EVENTS, ES_THINGS,
                ES_LANDMARKS, ES_COLOURS, ES_CITIES, ES_PLACES, ES_CLOTHES, ES_FOODS),
    closed_pools=(ES_OPENABLE, ES_TASKS, ES_PEOPLE, ES_CURRENCIES, ES_MONTHS, ES_WEEKDAYS,
                  ES_VEHICLES, ES_PRE_ADJS, ES_POST_ADJS, ES_PRED_ADJS, ES_RELATIVES),
)


# ============================================================================ German
# nouns: "sg/pl:g" with g in m f n; adjectives: the stem ("rot"), endings added here
_DE_GI = {"m": 0, "f": 1, "n": 2, "p": 3}
_DE_DEF = {"nom": ("der", "die", "das", "die"), "acc": ("den", "die", "das", "die"), "dat": ("dem", "der", "dem", "den")}
_DE_DIES = {"nom": ("dieser", "diese", "dieses", "diese"), "acc": ("diesen", "diese", "dieses", "diese"), "dat": ("diesem", "dieser", "diesem", "diesen")}
_DE_INDEF = {"nom": ("ein", "eine", "ein"), "acc": ("einen", "eine", "ein"), "dat": ("einem", "einer", "einem")}
_DE_MIXED = {"nom": ("er", "e", "es"), "acc": ("en", "e", "es"), "dat": ("en", "en", "en")}


def _de_weak(case: str, key: str) -> str:
    """Adjective ending after der/dieser."""
    if key == "p" or case == "dat" or (case == "acc" and key == "m"):
        return "en"
    return "e"


def _de_np(case: str, n: L, pl: bool = False, adjs: tuple[L, ...] = (), art: str = "def") -> str:
    """A German noun phrase; ``art``: def, dies, indef (singular), none (plural)."""
    key = "p" if pl else n.g
    noun = n.pl if pl else n.sg
    if pl and case == "dat" and not noun.endswith(("n", "s")):
        noun += "n"
    if art == "def":
        words, end = [_DE_DEF[case][_DE_GI[key]]], _de_weak(case, key)
    elif art == "dies":
        words, end = [_DE_DIES[case][_DE_GI[key]]], _de_weak(case, key)
    elif art == "indef":
        if pl:
            raise ValueError("indefinite article in the plural")
        words, end = [_DE_INDEF[case][_DE_GI[key]]], _DE_MIXED[case][_DE_GI[key]]
    else:  # no article: strong endings (plural only here)
        words, end = [], "en" if case == "dat" else "e"
    words += [a.sg + end for a in adjs]
    words.append(noun)
    return " ".join(words)


_DE_CONTRACT = {"in dem": "im", "zu dem": "zum", "zu der": "zur", "an dem": "am", "von dem": "vom", "bei dem": "beim"}


def _de_fix(text: str) -> str:
    return re.sub(r"\b(in|zu|an|von|bei) (dem|der)\b", lambda m: _DE_CONTRACT.get(m.group(0), m.group(0)), text)


def _de_num(n: int) -> str:
    return number_to_words(n, "de")


DE_DEVICES = _lex(
    "licht/lichter:n lampe/lampen:f heizung/heizungen:f ventilator/ventilatoren:m radio/radios:n "
    "fernseher/fernseher:m backofen/backöfen:m klimaanlage/klimaanlagen:f "
    "spülmaschine/spülmaschinen:f waschmaschine/waschmaschinen:f kaffeemaschine/kaffeemaschinen:f "
    "lautsprecher/lautsprecher:m drucker/drucker:m computer/computer:m wasserkocher/wasserkocher:m"
)
DE_ROOMS = _lex(
    "küche/küchen:f schlafzimmer/schlafzimmer:n badezimmer/badezimmer:n wohnzimmer/wohnzimmer:n "
    "esszimmer/esszimmer:n flur/flure:m garage/garagen:f büro/büros:n keller/keller:m "
    "garten/gärten:m kinderzimmer/kinderzimmer:n gästezimmer/gästezimmer:n "
    "arbeitszimmer/arbeitszimmer:n waschküche/waschküchen:f"
)
DE_OPENABLE = _lex("fenster/fenster:n tür/türen:f vorhang/vorhänge:m jalousie/jalousien:f tor/tore:n garagentor/garagentore:n")
DE_GENRES = _lex("jazz rockmusik popmusik klassik schlager reggae volksmusik techno")
DE_NAMES = _lex(
    "anna bernd claudia felix frank hans jan jonas julia karin klaus lena lukas maria max monika "
    "paul petra sabine stefan thomas ute uwe jürgen heike mia leon emma ben sophie"
)
DE_TASKS = _lex(
    "milch_zu_kaufen die_blumen_zu_gießen den_müll_rauszubringen die_katze_zu_füttern "
    "die_kinder_abzuholen meine_tabletten_zu_nehmen die_rechnungen_zu_bezahlen "
    "mit_dem_hund_rauszugehen einen_tisch_zu_reservieren mein_handy_aufzuladen"
)
DE_ITEMS = _lex(
    "kiste/kisten:f flasche/flaschen:f apfel/äpfel:m ei/eier:n stuhl/stühle:m fahrkarte/fahrkarten:f "
    "buch/bücher:n bleistift/bleistifte:m tasse/tassen:f teller/teller:m kerze/kerzen:f "
    "batterie/batterien:f handtuch/handtücher:n decke/decken:f umschlag/umschläge:m "
    "briefmarke/briefmarken:f glas/gläser:n löffel/löffel:m gabel/gabeln:f messer/messer:n "
    "tüte/tüten:f hemd/hemden:n socke/socken:f orange/orangen:f zitrone/zitronen:f "
    "tomate/tomaten:f kartoffel/kartoffeln:f banane/bananen:f brötchen/brötchen:n keks/kekse:m "
    "zwiebel/zwiebeln:f karotte/karotten:f ziegelstein/ziegelsteine:m nagel/nägel:m "
    "schraube/schrauben:f eimer/eimer:m blume/blumen:f kissen/kissen:n heft/hefte:n ordner/ordner:m"
)
DE_PEOPLE = _lex(
    "person/personen:f student/studenten:m kind/kinder:n gast/gäste:m fahrgast/fahrgäste:m "
    "arbeiter/arbeiter:m besucher/besucher:m lehrer/lehrer:m spieler/spieler:m"
)
DE_CURRENCIES = _lex("euro dollar franken")
DE_MONTHS = _lex("januar februar märz april mai juni juli august september oktober november dezember")
DE_WEEKDAYS = _lex("montag dienstag mittwoch donnerstag freitag samstag sonntag")
DE_EVENTS = _lex(
    "treffen/treffen:n film/filme:m konzert/konzerte:n unterricht/unterricht:m "
    "vorlesung/vorlesungen:f spiel/spiele:n vorstellung/vorstellungen:f flug/flüge:m "
    "abendessen/abendessen:n feier/feiern:f konferenz/konferenzen:f hochzeit/hochzeiten:f probe/proben:f "
    "interview/interviews:n termin/termine:m führung/führungen:f"
)
DE_VEHICLES = _lex("zug/züge:m bus/busse:m fähre/fähren:f straßenbahn/straßenbahnen:f regionalbahn/regionalbahnen:f")
DE_THINGS = _lex(
    "auto/autos:n fahrrad/fahrräder:n boot/boote:n katze/katzen:f hund/hunde:m tasche/taschen:f "
    "ball/bälle:m kiste/kisten:f buch/bücher:n stuhl/stühle:m tisch/tische:m lampe/lampen:f "
    "lastwagen/lastwagen:m pferd/pferde:n vogel/vögel:m drachen/drachen:m "
    "regenschirm/regenschirme:m bank/bänke:f zelt/zelte:n leiter/leitern:f "
    "wasserkocher/wasserkocher:m uhr/uhren:f becher/becher:m motorrad/motorräder:n rucksack/rucksäcke:m"
)
DE_LANDMARKS = _lex(
    "brücke/brücken:f kirche/kirchen:f bahnhof/bahnhöfe:m baum/bäume:m haus/häuser:n "
    "mauer/mauern:f fluss/flüsse:m zaun/zäune:m schule/schulen:f bibliothek/bibliotheken:f "
    "brunnen/brunnen:m turm/türme:m tor/tore:n burg/burgen:f museum/museen:n markt/märkte:m "
    "hotel/hotels:n bäckerei/bäckereien:f hafen/häfen:m see/seen:m statue/statuen:f "
    "scheune/scheunen:f krankenhaus/krankenhäuser:n rathaus/rathäuser:n"
)
DE_SIZES = _lex("klein groß alt neu")
DE_LAND_ADJS = _lex("alt neu groß klein modern berühmt schmal ruhig")
DE_PRED_ADJS = _lex("teuer billig schön alt neu groß klein schwer leicht schnell")
DE_COLOURS = _lex("rot blau grün gelb schwarz weiß grau braun golden silbern")
DE_PREPS = ("neben", "hinter", "vor", "unter", "auf", "bei")
DE_RELATIVES = _lex(
    "schwester:f bruder:m mutter:f vater:m nachbar:m nachbarin:f freund:m freundin:f onkel:m "
    "tante:f cousin:m oma:f"
)
DE_CITIES = _lex(
    "berlin hamburg münchen köln frankfurt stuttgart dresden leipzig bremen hannover nürnberg bonn "
    "wien zürich basel salzburg graz innsbruck kiel rostock mainz freiburg potsdam paris london "
    "rom madrid prag erfurt"
)
DE_PLACES = _lex(
    "bahnhof/bahnhöfe:m flughafen/flughäfen:m museum/museen:n krankenhaus/krankenhäuser:n "
    "apotheke/apotheken:f bank/banken:f post/posten:f bibliothek/bibliotheken:f "
    "bäckerei/bäckereien:f supermarkt/supermärkte:m hotel/hotels:n strand/strände:m "
    "park/parks:m kino/kinos:n stadion/stadien:n zoo/zoos:m markt/märkte:m "
    "bushaltestelle/bushaltestellen:f rathaus/rathäuser:n kirche/kirchen:f "
    "tankstelle/tankstellen:f polizeiwache/polizeiwachen:f"
)
DE_CLOTHES = _lex(
    "hemd/hemden:n jacke/jacken:f kleid/kleider:n rock/röcke:m hut/hüte:m schal/schals:m "
    "mantel/mäntel:m pullover/pullover:m gürtel/gürtel:m handschuh/handschuhe:m "
    "stiefel/stiefel:m sandale/sandalen:f krawatte/krawatten:f regenschirm/regenschirme:m "
    "rucksack/rucksäcke:m uhr/uhren:f"
)
DE_FOODS = _lex(
    "äpfel orangen tomaten kartoffeln reis zucker mehl kaffee bohnen karotten zwiebeln trauben "
    "kirschen erdbeeren birnen pfirsiche zitronen pflaumen käse fleisch fisch"
)
DE_WHEN = ("heute", "morgen", "übermorgen", "heute abend", "am wochenende", "nächste woche", "morgen früh")


_DE_DAYPARTS = (
    ("morgens", (5, 6, 7, 8, 9, 10, 11)),
    ("nachmittags", (12, 1, 2, 3, 4, 5)),
    ("abends", (6, 7, 8, 9, 10, 11)),
    ("nachts", (11, 12, 1, 2, 3, 4)),
)


def _de_time(c: _Ctx) -> str:
    """Without the preposition: ``halb acht``, ``sieben uhr dreißig``, ``siebzehn uhr``."""
    h = c.randint(1, 12)
    nxt = h % 12 + 1
    k = c.randint(0, 7)
    shown = nxt if k in (2, 4) else h
    uhr = "ein" if h == 1 else _de_num(h)
    if k == 0:
        t = f"{uhr} uhr"
    elif k == 1:
        t = f"{uhr} uhr {_de_num(c.choice((5, 10, 15, 20, 30, 40, 45, 50)))}"
    elif k == 2:
        t = f"halb {_de_num(nxt)}"
    elif k == 3:
        t = f"viertel nach {_de_num(h)}"
    elif k == 4:
        t = f"viertel vor {_de_num(nxt)}"
    elif k == 5:
        if c.chance(0.5):
            t = f"{_de_num(c.choice((5, 10, 20)))} nach {_de_num(h)}"
        else:
            t, shown = f"{_de_num(c.choice((5, 10, 20)))} vor {_de_num(nxt)}", nxt
    else:
        hh = c.randint(13, 23)
        t = f"{_de_num(hh)} uhr" + (f" {_de_num(c.choice((15, 30, 45, 10, 20)))}" if c.chance(0.5) else "")
        return t
    if c.chance(0.3):
        t += " " + _daypart(c, shown, _DE_DAYPARTS)
    return t


def _de_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return "am " + c.pick(DE_WEEKDAYS).sg
    return c.choice(DE_WHEN)


def _de_date(c: _Ctx, ending: str = "en") -> str:
    d, m = _day_month(c, DE_MONTHS)
    return f"{ordinal_to_words(d, 'de', ending=ending)} {m.sg}"


def _de_in(room: L) -> str:
    return "in " + _de_np("dat", room)


_DE_PLACE_PREP = {"bushaltestelle": "an", "tankstelle": "an", "strand": "an", "bahnhof": "an",
                  "flughafen": "an", "markt": "auf", "post": "auf", "polizeiwache": "auf"}


def _de_at(place: L) -> str:
    """Where something is: am bahnhof, auf der post, im museum."""
    return _DE_PLACE_PREP.get(place.sg, "in") + " " + _de_np("dat", place)


_DE_COLOUR_NOUN = {"golden": "gold", "silbern": "silber"}


def de_home(c: _Ctx) -> str:
    loc = _de_in(c.pick(DE_ROOMS))
    please = c.choice(("", "", "bitte "))
    k = c.randint(0, 6)
    if k == 0:
        return f"{please}schalte {_de_np('acc', c.pick(DE_DEVICES))} {loc} {c.choice(('ein', 'aus'))}"
    if k == 1:
        return f"{please}mach {_de_np('acc', c.pick(DE_DEVICES))} {loc} {c.choice(('an', 'aus'))}"
    if k == 2:
        v = c.choice(("einschalten", "ausschalten", "anmachen", "ausmachen"))
        return f"kannst du {_de_np('acc', c.pick(DE_DEVICES))} {loc} {v}"
    if k == 3:
        v = c.choice(("öffne", "schließe"))
        return f"{please}{v} {_de_np('acc', c.pick(DE_OPENABLE), c.chance(0.3))} {loc}"
    if k == 4:
        return f"mach {_de_np('acc', c.pick(DE_OPENABLE), c.chance(0.3))} {loc} {c.choice(('auf', 'zu'))}"
    if k == 5:
        return f"dimme das licht {loc} auf {_de_num(c.randint(1, 9) * 10)} prozent"
    return f"stell die heizung {loc} auf {_de_num(c.randint(15, 28))} grad"


def de_assistant(c: _Ctx) -> str:
    k = c.randint(0, 8)
    if k == 0:
        return f"stell den wecker auf {_de_time(c)}"
    if k == 1:
        return f"weck mich um {_de_time(c)}"
    if k == 2:
        return f"stell einen wecker in {_de_num(c.randint(2, 90))} minuten"
    if k == 3:
        return f"spiel {c.pick(DE_GENRES).sg} {_de_in(c.pick(DE_ROOMS))}"
    if k == 4:
        return f"ruf {c.pick(DE_NAMES).sg} an"
    if k == 5:
        return f"schick {c.pick(DE_NAMES).sg} eine nachricht"
    if k == 6:
        task = c.pick(DE_TASKS).sg if c.chance(0.8) else c.pick(DE_NAMES).sg + " anzurufen"
        return f"erinnere mich um {_de_time(c)} daran {task}"
    if k == 7:
        return f"vergiss nicht {_de_when(c)} {c.pick(DE_TASKS).sg}"
    return f"was steht {_de_when(c)} in meinem kalender"


def de_quantity(c: _Ctx) -> str:
    item = c.pick(DE_ITEMS)
    n = _de_num(c.count())
    k = c.randint(0, 6)
    if k == 0:
        return f"ich brauche {n} {item.pl}"
    if k == 1:
        return f"bitte bestell {n} {item.pl}"
    if k == 2:
        return f"wir haben nur noch {n} {item.pl}"
    if k == 3:
        return f"es sind {n} {c.pick(DE_PEOPLE).pl} {_de_at(c.pick(DE_PLACES))}"
    if k == 4:
        return f"das kostet {_de_num(c.price())} {c.pick(DE_CURRENCIES).sg}"
    if k == 5:
        return f"ich habe {_de_num(c.price())} {c.pick(DE_CURRENCIES).sg} für {_de_np('acc', item, True)} bezahlt"
    return f"wir erwarten {_de_when(c)} {n} {c.pick(DE_PEOPLE).pl}"


def de_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"{_de_np('nom', c.pick(DE_EVENTS))} ist am {_de_date(c)}"
    if k == 1:
        return f"mein geburtstag ist am {_de_date(c)}"
    if k == 2:
        return f"wir fahren am {c.pick(DE_WEEKDAYS).sg} den {_de_date(c)}"
    if k == 3:
        return f"ich bin am {_de_date(c)} {year_to_words(c.randint(1950, 2030), 'de')} geboren"
    if k == 4:
        return f"heute ist {c.pick(DE_WEEKDAYS).sg} der {_de_date(c, 'e')}"
    return f"{_de_np('nom', c.pick(DE_EVENTS))} wurde auf den {_de_date(c)} verschoben"


def de_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        return f"{_de_np('nom', c.pick(DE_VEHICLES))} fährt um {_de_time(c)}"
    if k == 1:
        return f"{_de_np('nom', c.pick(DE_EVENTS))} beginnt um {_de_time(c)}"
    if k == 2:
        return f"treffen wir uns um {_de_time(c)} vor {_de_np('dat', c.pick(DE_PLACES))}"
    return f"{_de_np('nom', c.pick(DE_PLACES))} öffnet um {_de_time(c)}"


def de_describe(c: _Ctx) -> str:
    thing = c.pick(DE_THINGS)
    pl = c.chance(0.25)
    adjs = []
    if c.chance(0.6):
        adjs.append(c.pick(DE_SIZES))
    if c.chance(0.7):
        adjs.append(c.pick(DE_COLOURS))
    adjs_t = tuple(adjs)
    k = c.randint(0, 3)
    if k <= 1:
        land = c.pick(DE_LANDMARKS)
        land_adjs = (c.pick(DE_LAND_ADJS),) if c.chance(0.5) else ()
        verb = "sind" if pl else "ist"
        return f"{_de_np('nom', thing, pl, adjs_t)} {verb} {c.choice(DE_PREPS)} {_de_np('dat', land, False, land_adjs)}"
    if k == 2:
        rel = c.pick(DE_RELATIVES)
        obj = _de_np("acc", thing, pl, adjs_t, "none" if pl else "indef")
        return f"{'meine' if rel.g == 'f' else 'mein'} {rel.sg} hat {obj}"
    verb = "sind" if pl else "ist"
    return f"{_de_np('nom', thing, pl, adjs_t, 'dies')} {verb} {c.choice(('sehr', 'zu', 'ziemlich'))} {c.pick(DE_PRED_ADJS).sg}"


def de_weather(c: _Ctx) -> str:
    city = c.pick(DE_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"wie wird das wetter {_de_when(c)} in {city}"
    if k == 1:
        return f"wird es {_de_when(c)} in {city} {c.choice(('regnen', 'schneien'))}"
    if k == 2:
        return f"wie {c.choice(('kalt', 'warm', 'heiß'))} wird es {_de_when(c)} in {city}"
    if k == 3:
        return f"in {city} sind es {c.choice(('heute', 'gerade', 'jetzt'))} {_de_num(c.randint(2, 35))} grad"
    return f"scheint {_de_when(c)} in {city} die sonne"


def de_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"wie komme ich zu {_de_np('dat', c.pick(DE_PLACES))}"
    if k == 1:
        nxt = L(("nächst",))
        return f"wann fährt {_de_np('nom', c.pick(DE_VEHICLES), False, (nxt,))} nach {c.pick(DE_CITIES).sg}"
    if k == 2:
        return f"wie lange dauert die fahrt nach {c.pick(DE_CITIES).sg}"
    if k == 3:
        nxt = L(("nächst",))
        return f"wo ist {_de_np('nom', c.pick(DE_PLACES), False, (nxt,))}"
    if k == 4:
        what = c.choice(("eine fahrkarte", "zwei fahrkarten", "eine rückfahrkarte"))
        return f"ich möchte {what} nach {c.pick(DE_CITIES).sg}"
    return f"gibt es hier in der nähe {_de_np('acc', c.pick(DE_PLACES), art='indef')}"


def de_shopping(c: _Ctx) -> str:
    cl = c.pick(DE_CLOTHES)
    k = c.randint(0, 5)
    if k == 0:
        return f"wie viel kostet {_de_np('nom', cl, art='dies')}"
    if k == 1:
        return f"wie viel kosten {_de_np('nom', cl, True, art='dies')}"
    if k == 2:
        col = c.pick(DE_COLOURS).sg
        return f"haben sie {_de_np('acc', cl, art='dies')} auch in {_DE_COLOUR_NOUN.get(col, col)}"
    if k == 3:
        return f"verkaufen sie {c.pick(DE_ITEMS).pl}"
    if k == 4:
        n = c.randint(1, 12)
        return f"ich hätte gern {'ein' if n == 1 else _de_num(n)} kilo {c.pick(DE_FOODS).sg}"
    return f"ich suche {_de_np('acc', cl, False, (c.pick(DE_COLOURS),), 'indef')}"


def _de_wrap(fn: Family) -> Family:
    def wrapped(c: _Ctx) -> str:
        return _de_fix(fn(c))

    wrapped.__name__ = fn.__name__
    return wrapped


_SPECS["de"] = _LangSpec(
    families=tuple(
        (w, _de_wrap(f))
        for w, f in (
            (2.0, de_home), (1.5, de_assistant), (1.5, de_quantity), (1.0, de_date), (1.0, de_time),
            (1.5, de_describe), (1.0, de_weather), (1.0, de_travel), (1.0, de_shopping),
        )
    ),
    open_pools=(DE_DEVICES, DE_ROOMS, DE_GENRES, DE_NAMES, DE_ITEMS, DE_EVENTS, DE_THINGS,
                DE_LANDMARKS, DE_COLOURS, DE_CITIES, DE_PLACES, DE_CLOTHES, DE_FOODS),
    closed_pools=(DE_OPENABLE, DE_TASKS, DE_PEOPLE, DE_CURRENCIES, DE_MONTHS, DE_WEEKDAYS,
                  DE_VEHICLES, DE_SIZES, DE_LAND_ADJS, DE_PRED_ADJS, DE_RELATIVES),
)


# ============================================================================ French
# adjectives: (m sg, f sg, m pl, f pl[, m sg before a vowel]); nouns "sg/pl:g"
_FR_H_ASPIRE = ("hip",)


def _fr_vowel(word: str) -> bool:
    return word[0] in "aeiouyàâéèêëîïôûùœæh" and not word.startswith(_FR_H_ASPIRE)


def _fr_plural(sg: str) -> str:
    if sg.endswith(("s", "x", "z")):
        return sg
    if sg.endswith(("eau", "au", "eu")):
        return sg + "x"
    return sg + "s"


def _fr_adjs(spec: str) -> tuple[L, ...]:
    out = []
    for tok in spec.split():
        if "/" in tok:
            out.append(L(tuple(tok.split("/"))))
        elif tok.endswith("e"):
            out.append(L((tok, tok, tok + "s", tok + "s")))
        else:
            out.append(L((tok, tok + "e", tok + "s", tok + "es")))
    return tuple(out)


def _fr_adj(a: L, g: str, pl: bool, before_vowel: bool = False) -> str:
    if before_vowel and g == "m" and not pl and len(a.forms) > 4:
        return a.forms[4]  # vieil, nouvel
    return a.forms[(g == "f") + 2 * pl]


_FR_ARTS = {
    # kind: (m, f, before a vowel in the singular, plural)
    "def": ("le", "la", "l'", "les"),
    "de": ("du", "de la", "de l'", "des"),
    "a": ("au", "à la", "à l'", "aux"),
    "indef": ("un", "une", None, "des"),
    "dem": ("ce", "cette", None, "ces"),
}


def _fr_art(kind: str, g: str, pl: bool, nxt: str) -> str:
    m, f, v, p = _FR_ARTS[kind]
    if pl:
        return p
    if kind == "dem" and g == "m" and _fr_vowel(nxt):
        return "cet"
    if v is not None and _fr_vowel(nxt):
        return v
    return f if g == "f" else m


def _fr_join(art: str, rest: str) -> str:
    return art + rest if art.endswith("'") else f"{art} {rest}"


def _fr_np(kind: str, n: L, pl: bool = False, pre: L | None = None, post: L | None = None) -> str:
    noun = n.pl if pl else n.sg
    words = []
    if pre is not None:
        words.append(_fr_adj(pre, n.g, pl, before_vowel=_fr_vowel(noun)))
    words.append(noun)
    if post is not None:
        words.append(_fr_adj(post, n.g, pl))
    rest = " ".join(words)
    if kind == "none":
        return rest
    return _fr_join(_fr_art(kind, n.g, pl, rest), rest)


def _fr_de(word: str) -> str:
    """The preposition de before a word: de / d'."""
    return _fr_join("d'" if _fr_vowel(word) else "de", word)


def _fr_num(n: int, g: str = "m") -> str:
    return number_to_words(n, "fr", gender=g)


FR_DEVICES = _lex(
    "lumière:f lampe:f chauffage:m ventilateur:m radio:f télévision:f four:m climatisation:f "
    "lave_vaisselle/lave_vaisselle:m machine_à_laver/machines_à_laver:f cafetière:f enceinte:f "
    "ordinateur:m imprimante:f bouilloire:f",
    _fr_plural,
)
FR_ROOMS = _lex(
    "cuisine:f chambre:f salle_de_bain/salles_de_bain:f salon:m "
    "salle_à_manger/salles_à_manger:f couloir:m garage:m bureau:m cave:f grenier:m jardin:m "
    "buanderie:f entrée:f véranda:f",
    _fr_plural,
)
FR_OPENABLE = _lex("porte:f fenêtre:f rideau:m volet:m portail:m store:m", _fr_plural)
FR_GENRES = _lex("jazz rock reggae rap classique hip_hop disco musette")
FR_NAMES = _lex(
    "alice antoine camille chloé claire émile hugo jules julie léa louis lucas manon marie mathieu "
    "nicolas paul pierre sophie thomas élise margaux théo inès zoé hélène bernard céline françois"
)
FR_TASKS = _lex(
    "acheter_du_lait arroser_les_plantes sortir_la_poubelle nourrir_le_chat chercher_les_enfants "
    "prendre_mes_médicaments payer_les_factures promener_le_chien réserver_une_table "
    "charger_mon_téléphone"
)
FR_ITEMS = _lex(
    "boîte:f bouteille:f pomme:f œuf:m chaise:f billet:m livre:m crayon:m tasse:f assiette:f "
    "bougie:f pile:f serviette:f couverture:f enveloppe:f timbre:m verre:m cuillère:f "
    "fourchette:f couteau:m sac:m chemise:f chaussette:f orange:f citron:m tomate:f banane:f "
    "biscuit:m oignon:m carotte:f brique:f clou:m seau:m fleur:f oreiller:m cahier:m "
    "classeur:m",
    _fr_plural,
)
FR_PEOPLE = _lex(
    "personne:f étudiant:m enfant:m invité:m passager:m ouvrier:m visiteur:m professeur:m joueur:m",
    _fr_plural,
)
FR_CURRENCIES = _lex("euro:m dollar:m franc:m", _fr_plural)
FR_MONTHS = _lex("janvier février mars avril mai juin juillet août septembre octobre novembre décembre")
FR_WEEKDAYS = _lex("lundi mardi mercredi jeudi vendredi samedi dimanche")
FR_EVENTS = _lex(
    "réunion:f film:m concert:m cours/cours:m match/matchs:m spectacle:m vol:m dîner:m fête:f "
    "conférence:f mariage:m répétition:f entretien:m visite:f soirée:f",
    _fr_plural,
)
FR_VEHICLES = _lex("train:m bus:m bateau:m tramway:m car:m")
FR_THINGS = _lex(
    "voiture:f vélo:m bateau:m chat:m chien:m sac:m ballon:m boîte:f livre:m chaise:f table:f "
    "lampe:f camion:m camionnette:f cheval/chevaux:m oiseau:m parapluie:m banc:m tente:f "
    "échelle:f bouilloire:f horloge:f tasse:f moto:f valise:f",
    _fr_plural,
)
FR_LANDMARKS = _lex(
    "pont:m église:f gare:f arbre:m maison:f mur:m rivière:f clôture:f école:f bibliothèque:f "
    "fontaine:f tour:f château:m musée:m marché:m hôtel:m boulangerie:f port:m lac:m statue:f "
    "grange:f hôpital:m mairie:f",
    _fr_plural,
)
FR_PRE_ADJS = _fr_adjs("petit grand joli vieux/vieille/vieux/vieilles/vieil nouveau/nouvelle/nouveaux/nouvelles/nouvel")
FR_POST_ADJS = _fr_adjs("moderne célèbre ancien/ancienne/anciens/anciennes immense tranquille blanc/blanche/blancs/blanches")
FR_PRED_ADJS = _fr_adjs("cher/chère/chers/chères lourd léger/légère/légers/légères joli petit grand neuf/neuve/neufs/neuves vieux/vieille/vieux/vieilles rapide solide")
FR_COLOURS = _fr_adjs(
    "rouge bleu vert jaune noir blanc/blanche/blancs/blanches gris/grise/gris/grises "
    "marron/marron/marron/marron rose violet/violette/violets/violettes orange/orange/orange/orange "
    "doré argenté"
)
FR_PREPS = (("près", "de"), ("à côté", "de"), ("en face", "de"), ("devant", "def"), ("derrière", "def"), ("sous", "def"), ("sur", "def"))
FR_RELATIVES = _lex(
    "sœur:f frère:m mère:f père:m voisin:m voisine:f ami:m copine:f oncle:m tante:f cousin:m "
    "cousine:f"
)
FR_CITIES = _lex(
    "paris lyon marseille toulouse nice nantes bordeaux lille strasbourg rennes montpellier "
    "grenoble dijon genève bruxelles lausanne québec montréal londres berlin madrid rome reims "
    "brest nîmes metz avignon limoges"
)
FR_PLACES = _lex(
    "gare:f aéroport:m musée:m hôpital:m pharmacie:f banque:f poste:f bibliothèque:f "
    "boulangerie:f supermarché:m hôtel:m plage:f parc:m cinéma:m stade:m zoo:m marché:m "
    "arrêt_de_bus/arrêts_de_bus:m mairie:f commissariat:m station_service/stations_service:f",
    _fr_plural,
)
FR_CLOTHES = _lex(
    "chemise:f veste:f robe:f jupe:f chapeau:m écharpe:f manteau:m gilet:m ceinture:f gant:m "
    "botte:f sandale:f cravate:f parapluie:m sacoche:f montre:f",
    _fr_plural,
)
FR_FOODS = _lex(
    "pommes oranges tomates pommes_de_terre carottes fraises cerises bananes poires citrons "
    "oignons raisin riz sucre farine café abricots pêches prunes fromage viande poisson"
)
FR_WHEN = ("aujourd'hui", "demain", "après demain", "ce soir", "cette semaine", "la semaine prochaine", "demain matin")


_FR_DAYPARTS = (
    ("du matin", (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)),
    ("de l'après midi", (1, 2, 3, 4, 5)),
    ("du soir", (5, 6, 7, 8, 9, 10, 11)),
)


def _fr_time(c: _Ctx) -> str:
    """With the preposition: ``à sept heures et demie``, ``à dix sept heures trente``, ``à midi``."""

    def heures(h: int) -> str:
        return f"{_fr_num(h, 'f')} {'heure' if h <= 1 else 'heures'}"

    k = c.randint(0, 7)
    if k == 7:
        return "à " + c.choice(("midi", "minuit", "midi et demi", "minuit et demi"))
    if k <= 1:  # 24 hour clock
        hh = c.randint(0, 23)
        t = heures(hh)
        if k == 1:
            t += " " + _fr_num(c.choice((5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)))
        return "à " + t
    h = c.randint(1, 11)
    shown = h % 11 + 1 if k in (4, 6) else h
    if k == 2:
        t = heures(h) + " et quart"
    elif k == 3:
        t = heures(h) + " et demie"
    elif k == 4:
        t = heures(h % 11 + 1) + " moins le quart"
    elif k == 5:
        t = heures(h) + " " + _fr_num(c.choice((5, 10, 20, 25)))
    else:
        t = heures(h % 11 + 1) + " moins " + _fr_num(c.choice((5, 10, 20, 25)))
    if c.chance(0.4):
        t += " " + _daypart(c, shown, _FR_DAYPARTS)
    return "à " + t


def _fr_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return c.pick(FR_WEEKDAYS).sg
    return c.choice(FR_WHEN)


def _fr_day(c: _Ctx) -> str:
    d, m = _day_month(c, FR_MONTHS)
    return f"{'premier' if d == 1 else _fr_num(d)} {m.sg}"


def fr_home(c: _Ctx) -> str:
    room = "dans " + _fr_np("def", c.pick(FR_ROOMS))
    please = c.choice(("", "", " s'il te plaît", " s'il vous plaît"))
    k = c.randint(0, 5)
    if k <= 1:
        return f"{c.choice(('allume', 'éteins'))} {_fr_np('def', c.pick(FR_DEVICES))} {room}{please}"
    if k == 2:
        return f"peux tu {c.choice(('allumer', 'éteindre'))} {_fr_np('def', c.pick(FR_DEVICES))} {room}"
    if k == 3:
        return f"{c.choice(('ouvre', 'ferme'))} {_fr_np('def', c.pick(FR_OPENABLE), c.chance(0.4))} {room}{please}"
    if k == 4:
        return f"baisse la lumière {room} à {_fr_num(c.randint(1, 9) * 10)} pour cent"
    return f"mets le chauffage à {_fr_num(c.randint(15, 28))} degrés {room}"


def fr_assistant(c: _Ctx) -> str:
    k = c.randint(0, 7)
    if k == 0:
        return f"règle le réveil {_fr_time(c)}"
    if k == 1:
        return f"réveille moi {_fr_time(c)}"
    if k == 2:
        return f"mets un minuteur de {_fr_num(c.randint(2, 90), 'f')} minutes"
    if k == 3:
        return f"mets du {c.pick(FR_GENRES).sg} dans {_fr_np('def', c.pick(FR_ROOMS))}"
    if k == 4:
        return f"{c.choice(('appelle', 'envoie un message à', 'écris à'))} {c.pick(FR_NAMES).sg}"
    if k == 5:
        task = c.pick(FR_TASKS).sg if c.chance(0.8) else "appeler " + c.pick(FR_NAMES).sg
        return f"rappelle moi {_fr_de(task)} {_fr_time(c)}"
    if k == 6:
        return f"n'oublie pas {_fr_de(c.pick(FR_TASKS).sg)} {_fr_when(c)}"
    return f"quel est mon programme {_fr_when(c)}"


def fr_quantity(c: _Ctx) -> str:
    item = c.pick(FR_ITEMS)
    n = _fr_num(c.count(), item.g)
    k = c.randint(0, 6)
    if k == 0:
        return f"j'ai besoin de {n} {item.pl}"
    if k == 1:
        return f"commande {n} {item.pl} s'il te plaît"
    if k == 2:
        return f"il ne reste que {n} {item.pl}"
    if k == 3:
        who = c.pick(FR_PEOPLE)
        return f"il y a {_fr_num(c.count(), who.g)} {who.pl} {_fr_np('a', c.pick(FR_PLACES))}"
    if k == 4:
        return f"ça coûte {_fr_num(c.price())} {c.pick(FR_CURRENCIES).pl}"
    if k == 5:
        return f"j'ai payé {_fr_num(c.price())} {c.pick(FR_CURRENCIES).pl} pour {_fr_np('def', item, True)}"
    who = c.pick(FR_PEOPLE)
    return f"nous attendons {_fr_num(c.count(), who.g)} {who.pl} {_fr_when(c)}"


def fr_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"{_fr_np('def', c.pick(FR_EVENTS))} est le {_fr_day(c)}"
    if k == 1:
        return f"mon anniversaire est le {_fr_day(c)}"
    if k == 2:
        return f"nous partons le {c.pick(FR_WEEKDAYS).sg} {_fr_day(c)}"
    if k == 3:
        return f"je suis né le {_fr_day(c)} {year_to_words(c.randint(1950, 2030), 'fr')}"
    if k == 4:
        return f"aujourd'hui nous sommes le {c.pick(FR_WEEKDAYS).sg} {_fr_day(c)}"
    ev = c.pick(FR_EVENTS)
    return f"{_fr_np('def', ev)} a été {'reportée' if ev.g == 'f' else 'reporté'} au {_fr_day(c)}"


def fr_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        return f"{_fr_np('def', c.pick(FR_VEHICLES))} part {_fr_time(c)}"
    if k == 1:
        return f"{_fr_np('def', c.pick(FR_EVENTS))} commence {_fr_time(c)}"
    if k == 2:
        return f"on se retrouve devant {_fr_np('def', c.pick(FR_PLACES))} {_fr_time(c)}"
    return f"{_fr_np('def', c.pick(FR_PLACES))} ouvre {_fr_time(c)}"


def fr_describe(c: _Ctx) -> str:
    thing = c.pick(FR_THINGS)
    pl = c.chance(0.25)
    pre = c.pick(FR_PRE_ADJS) if c.chance(0.5) else None
    post = c.pick(FR_COLOURS) if c.chance(0.7) else None
    k = c.randint(0, 3)
    if k <= 1:
        land = c.pick(FR_LANDMARKS)
        if c.chance(0.5):
            land_np_args = {"pre": c.pick(FR_PRE_ADJS)} if c.chance(0.5) else {"post": c.pick(FR_POST_ADJS)}
        else:
            land_np_args = {}
        prep, kind = c.choice(FR_PREPS)
        land_np = _fr_np("de" if kind == "de" else "def", land, **land_np_args)
        verb = "sont" if pl else "est"
        return f"{_fr_np('def', thing, pl, pre, post)} {verb} {prep} {land_np}"
    if k == 2:
        rel = c.pick(FR_RELATIVES)
        poss = "ma" if rel.g == "f" and not _fr_vowel(rel.sg) else "mon"
        obj = _fr_np("indef", thing, pl, None if pl else pre, post)
        return f"{poss} {rel.sg} a {obj}"
    adj = _fr_adj(c.pick(FR_PRED_ADJS), thing.g, pl)
    verb = "sont" if pl else "est"
    return f"{_fr_np('dem', thing, pl, pre, post)} {verb} {c.choice(('très', 'trop', 'assez'))} {adj}"


def fr_weather(c: _Ctx) -> str:
    city = c.pick(FR_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"quelle est la météo {_fr_when(c)} à {city}"
    if k == 1:
        return f"est ce qu'il va {c.choice(('pleuvoir', 'neiger'))} {_fr_when(c)} à {city}"
    if k == 2:
        return f"il va faire {c.choice(('froid', 'chaud', 'beau'))} {_fr_when(c)} à {city}"
    if k == 3:
        return f"il fait {_fr_num(c.randint(2, 35))} degrés à {city}"
    return f"est ce qu'il y aura du soleil {_fr_when(c)} à {city}"


def fr_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"comment aller {_fr_np('a', c.pick(FR_PLACES))}"
    if k == 1:
        return f"quand part le prochain {c.pick(FR_VEHICLES).sg} pour {c.pick(FR_CITIES).sg}"
    if k == 2:
        return f"combien de temps faut il pour aller à {c.pick(FR_CITIES).sg}"
    if k == 3:
        place = c.pick(FR_PLACES)
        return f"où est {_fr_np('def', place)} {'la' if place.g == 'f' else 'le'} plus proche"
    if k == 4:
        what = c.choice(("un billet", "deux billets", "un aller retour"))
        return f"je voudrais {what} pour {c.pick(FR_CITIES).sg}"
    return f"est ce qu'il y a {_fr_np('indef', c.pick(FR_PLACES))} près d'ici"


def fr_shopping(c: _Ctx) -> str:
    cl = c.pick(FR_CLOTHES)
    k = c.randint(0, 5)
    if k == 0:
        return f"combien coûte {_fr_np('dem', cl)}"
    if k == 1:
        return f"combien coûtent {_fr_np('dem', cl, True)}"
    if k == 2:
        return f"vous avez {_fr_np('dem', cl)} en {c.pick(FR_COLOURS).sg}"
    if k == 3:
        return f"vous vendez des {c.pick(FR_ITEMS).pl}"
    if k == 4:
        n = c.randint(1, 12)
        return f"je voudrais {'un kilo' if n == 1 else _fr_num(n) + ' kilos'} {_fr_de(c.pick(FR_FOODS).sg)}"
    return f"je cherche {_fr_np('indef', cl, post=c.pick(FR_COLOURS))}"


_SPECS["fr"] = _LangSpec(
    families=(
        (2.0, fr_home), (1.5, fr_assistant), (1.5, fr_quantity), (1.0, fr_date), (1.0, fr_time),
        (1.5, fr_describe), (1.0, fr_weather), (1.0, fr_travel), (1.0, fr_shopping),
    ),
    open_pools=(FR_DEVICES, FR_ROOMS, FR_GENRES, FR_NAMES, FR_ITEMS, FR_EVENTS, FR_THINGS,
                FR_LANDMARKS, FR_COLOURS, FR_CITIES, FR_PLACES, FR_CLOTHES, FR_FOODS),
    closed_pools=(FR_OPENABLE, FR_TASKS, FR_PEOPLE, FR_CURRENCIES, FR_MONTHS, FR_WEEKDAYS,
                  FR_VEHICLES, FR_PRE_ADJS, FR_POST_ADJS, FR_PRED_ADJS, FR_RELATIVES),
)


# ============================================================================ Italian
# adjectives: (m sg, f sg, m pl, f pl); nouns "sg/pl:g"


def _it_vowel(word: str) -> bool:
    return word[0] in "aeiouàèéìòùh"


def _it_lo(word: str) -> bool:
    """Words that take lo / gli / uno: s + consonant, z, gn, ps, pn, x, y."""
    return bool(re.match(r"(s[^aeiouàèéìòù]|z|gn|ps|pn|x|y)", word))


def _it_adjs(spec: str) -> tuple[L, ...]:
    out = []
    for tok in spec.split():
        if "/" in tok:
            out.append(L(tuple(tok.split("/"))))
        elif tok.endswith(("co", "go")):  # bianco -> bianchi, antico -> antichi
            out.append(L((tok, tok[:-1] + "a", tok[:-1] + "hi", tok[:-1] + "he")))
        elif tok.endswith("io"):  # grigio -> grigi, vecchio -> vecchi
            out.append(L((tok, tok[:-1] + "a", tok[:-1], tok[:-1] + "e")))
        elif tok.endswith("o"):
            out.append(L((tok, tok[:-1] + "a", tok[:-1] + "i", tok[:-1] + "e")))
        else:  # verde, grande
            out.append(L((tok, tok, tok[:-1] + "i", tok[:-1] + "i")))
    return tuple(out)


def _it_adj(a: L, g: str, pl: bool) -> str:
    return a.forms[(g == "f") + 2 * pl]


def _it_def(g: str, pl: bool, nxt: str) -> str:
    if g == "m":
        if pl:
            return "gli" if _it_vowel(nxt) or _it_lo(nxt) else "i"
        return "lo" if _it_lo(nxt) else "l'" if _it_vowel(nxt) else "il"
    return "le" if pl else "l'" if _it_vowel(nxt) else "la"


_IT_PREP_STEM = {"a": "a", "di": "de", "in": "ne", "su": "su", "da": "da"}
_IT_ART_TAIL = {"il": "l", "lo": "llo", "l'": "ll'", "la": "lla", "i": "i", "gli": "gli", "le": "lle"}


def _it_join(art: str, rest: str) -> str:
    return art + rest if art.endswith("'") else f"{art} {rest}"


def _it_np(kind: str, n: L, pl: bool = False, pre: L | None = None, post: L | None = None, prep: str | None = None) -> str:
    """kind: def, indef (singular; plural gives the partitive dei/delle), dem, none.
    ``prep`` (a, di, in, su, da) merges with a definite article: al, nello, sull'."""
    words = []
    if pre is not None:
        words.append(_it_adj(pre, n.g, pl))
    words.append(n.pl if pl else n.sg)
    if post is not None:
        words.append(_it_adj(post, n.g, pl))
    rest = " ".join(words)
    if kind == "none":
        return rest
    if kind == "dem":
        art = ("queste" if pl else "questa") if n.g == "f" else ("questi" if pl else "questo")
    elif kind == "indef" and not pl:
        if n.g == "f":
            art = "un'" if _it_vowel(rest) else "una"
        else:
            art = "uno" if _it_lo(rest) else "un"
    else:
        art = _it_def(n.g, pl, rest)
        if kind == "indef":
            prep = "di"
        if prep is not None:
            art = _IT_PREP_STEM[prep] + _IT_ART_TAIL[art]
    return _it_join(art, rest)


def _it_a(word: str) -> str:
    """a / ad before a name: ad anna, a roma."""
    return ("ad " if word.startswith("a") else "a ") + word


def _it_num(n: int, g: str = "m") -> str:
    return number_to_words(n, "it", gender=g)


IT_DEVICES = _lex(
    "luce/luci:f lampada/lampade:f riscaldamento/riscaldamenti:m ventilatore/ventilatori:m "
    "radio/radio:f televisione/televisioni:f forno/forni:m condizionatore/condizionatori:m "
    "lavastoviglie/lavastoviglie:f lavatrice/lavatrici:f macchina_del_caffè/macchine_del_caffè:f "
    "stereo/stereo:m computer/computer:m stampante/stampanti:f bollitore/bollitori:m"
)
IT_ROOMS = _lex(
    "cucina camera bagno salotto soggiorno sala_da_pranzo corridoio garage ufficio cantina "
    "giardino mansarda lavanderia taverna studio terrazzo"
)
IT_OPENABLE = _lex(
    "porta/porte:f finestra/finestre:f tenda/tende:f tapparella/tapparelle:f "
    "cancello/cancelli:m persiana/persiane:f"
)
IT_GENRES = _lex("rock classica pop blues reggae lirica dance leggera elettronica")
IT_NAMES = _lex(
    "alessandro andrea anna chiara davide elena francesca giacomo giorgia giulia giuseppe laura "
    "luca lucia marco maria matteo paolo sara sofia roberto federica simone valentina lorenzo "
    "martina stefano silvia"
)
IT_TASKS = _lex(
    "comprare_il_latte annaffiare_le_piante portare_fuori_la_spazzatura dare_da_mangiare_al_gatto "
    "prendere_i_bambini prendere_le_medicine pagare_le_bollette portare_fuori_il_cane "
    "prenotare_un_tavolo caricare_il_telefono"
)
IT_ITEMS = _lex(
    "scatola/scatole:f bottiglia/bottiglie:f mela/mele:f uovo/uova:f sedia/sedie:f "
    "biglietto/biglietti:m libro/libri:m matita/matite:f tazza/tazze:f piatto/piatti:m "
    "candela/candele:f pila/pile:f asciugamano/asciugamani:m coperta/coperte:f busta/buste:f "
    "francobollo/francobolli:m bicchiere/bicchieri:m cucchiaio/cucchiai:m forchetta/forchette:f "
    "coltello/coltelli:m borsa/borse:f camicia/camicie:f calzino/calzini:m arancia/arance:f "
    "limone/limoni:m pomodoro/pomodori:m patata/patate:f banana/banane:f panino/panini:m "
    "biscotto/biscotti:m cipolla/cipolle:f carota/carote:f mattone/mattoni:m chiodo/chiodi:m "
    "vite/viti:f secchio/secchi:m fiore/fiori:m cuscino/cuscini:m quaderno/quaderni:m "
    "cartella/cartelle:f"
)  # the gender is the plural's (uova is feminine): items are only counted
IT_PEOPLE = _lex(
    "persona/persone:f studente/studenti:m bambino/bambini:m ospite/ospiti:m "
    "passeggero/passeggeri:m operaio/operai:m visitatore/visitatori:m insegnante/insegnanti:m "
    "giocatore/giocatori:m"
)
IT_CURRENCIES = _lex("euro dollari franchi")
IT_MONTHS = _lex("gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre")
IT_WEEKDAYS = _lex("lunedì martedì mercoledì giovedì venerdì sabato domenica")
IT_EVENTS = _lex(
    "riunione/riunioni:f film/film:m concerto/concerti:m lezione/lezioni:f partita/partite:f "
    "spettacolo/spettacoli:m volo/voli:m cena/cene:f festa/feste:f conferenza/conferenze:f "
    "matrimonio/matrimoni:m prova/prove:f colloquio/colloqui:m appuntamento/appuntamenti:m "
    "visita/visite:f"
)
IT_VEHICLES = _lex("treno:m autobus:m traghetto:m volo:m tram:m pullman:m")
IT_THINGS = _lex(
    "macchina/macchine:f bicicletta/biciclette:f barca/barche:f gatto/gatti:m cane/cani:m "
    "borsa/borse:f palla/palle:f scatola/scatole:f libro/libri:m sedia/sedie:f tavolo/tavoli:m "
    "lampada/lampade:f camion/camion:m furgone/furgoni:m cavallo/cavalli:m uccello/uccelli:m "
    "aquilone/aquiloni:m ombrello/ombrelli:m panchina/panchine:f tenda/tende:f scala/scale:f "
    "bollitore/bollitori:m orologio/orologi:m tazza/tazze:f moto/moto:f zaino/zaini:m "
    "specchio/specchi:m"
)
IT_LANDMARKS = _lex(
    "ponte/ponti:m chiesa/chiese:f stazione/stazioni:f albero/alberi:m casa/case:f muro/muri:m "
    "fiume/fiumi:m recinto/recinti:m scuola/scuole:f biblioteca/biblioteche:f fontana/fontane:f "
    "torre/torri:f castello/castelli:m museo/musei:m mercato/mercati:m albergo/alberghi:m "
    "panificio/panifici:m porto/porti:m lago/laghi:m statua/statue:f fienile/fienili:m "
    "ospedale/ospedali:m municipio/municipi:m stadio/stadi:m"
)
IT_PRE_ADJS = _it_adjs("piccolo vecchio nuovo")
IT_POST_ADJS = _it_adjs("moderno antico grande alto famoso bianco nuovo vecchio")
IT_PRED_ADJS = _it_adjs("caro economico bello vecchio nuovo pesante leggero piccolo grande veloce")
IT_COLOURS = _it_adjs(
    "rosso bianco nero giallo verde blu/blu/blu/blu grigio azzurro marrone viola/viola/viola/viola "
    "rosa/rosa/rosa/rosa arancione dorato argentato"
)
IT_PREPS = (("vicino", "a"), ("accanto", "a"), ("davanti", "a"), ("di fronte", "a"), ("dietro", None), ("sotto", None), ("sopra", None))
# kinship nouns take no article after a possessive in the singular; the others do
IT_RELATIVES = _lex(
    "mia_sorella mio_fratello mia_madre mio_padre il_mio_vicino la_mia_vicina il_mio_amico "
    "la_mia_amica mio_zio mia_zia mio_cugino mia_nonna"
)
IT_CITIES = _lex(
    "roma milano napoli torino palermo genova bologna firenze bari catania venezia verona trieste "
    "padova parma pisa siena perugia londra parigi berlino madrid lecce ancona cagliari bergamo "
    "brescia modena rimini"
)
IT_PLACES = _lex(
    "stazione/stazioni:f aeroporto/aeroporti:m museo/musei:m ospedale/ospedali:m "
    "farmacia/farmacie:f banca/banche:f posta/poste:f biblioteca/biblioteche:f "
    "panetteria/panetterie:f supermercato/supermercati:m albergo/alberghi:m "
    "spiaggia/spiagge:f parco/parchi:m cinema/cinema:m stadio/stadi:m zoo/zoo:m "
    "mercato/mercati:m fermata_dell'autobus/fermate_dell'autobus:f municipio/municipi:m "
    "questura/questure:f distributore/distributori:m"
)
IT_CLOTHES = _lex(
    "camicia/camicie:f giacca/giacche:f vestito/vestiti:m gonna/gonne:f cappello/cappelli:m "
    "sciarpa/sciarpe:f cappotto/cappotti:m maglione/maglioni:m cintura/cinture:f "
    "guanto/guanti:m stivale/stivali:m sandalo/sandali:m cravatta/cravatte:f "
    "ombrello/ombrelli:m zaino/zaini:m orologio/orologi:m"
)
IT_FOODS = _lex(
    "mele arance pomodori patate riso zucchero farina caffè fagioli carote cipolle uva ciliegie "
    "fragole pere pesche limoni prugne formaggio carne pesce"
)
IT_WHEN = ("oggi", "domani", "dopodomani", "stasera", "questo fine settimana", "la settimana prossima", "domani mattina")


_IT_DAYPARTS = (
    ("di mattina", (5, 6, 7, 8, 9, 10, 11)),
    ("del pomeriggio", (1, 2, 3, 4, 5, 6)),
    ("di sera", (6, 7, 8, 9, 10, 11)),
    ("di notte", (11, 12, 1, 2, 3, 4)),
)


def _it_time(c: _Ctx) -> str:
    """With the preposition: ``alle sette e mezza``, ``all'una``, ``a mezzogiorno``."""

    def alle(h: int) -> str:
        return "all'una" if h == 1 else "alle " + _it_num(h)

    k = c.randint(0, 7)
    if k == 7:
        return c.choice(("a mezzogiorno", "a mezzanotte"))
    if k == 6:
        return f"{alle(c.randint(13, 23))} e {_it_num(c.choice((10, 15, 20, 30, 40, 45, 50)))}"
    h = c.randint(1, 12)
    nxt = h % 12 + 1
    shown = nxt if k in (3, 5) else h
    if k == 0:
        t = alle(h)
    elif k == 1:
        t = alle(h) + " e mezza"
    elif k == 2:
        t = alle(h) + " e un quarto"
    elif k == 3:
        t = alle(nxt) + " meno un quarto"
    elif k == 4:
        t = alle(h) + " e " + _it_num(c.choice((5, 10, 20, 25)))
    else:
        t = alle(nxt) + " meno " + _it_num(c.choice((5, 10, 20, 25)))
    if c.chance(0.4):
        t += " " + _daypart(c, shown, _IT_DAYPARTS)
    return t


def _it_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return c.pick(IT_WEEKDAYS).sg
    return c.choice(IT_WHEN)


def _it_day(c: _Ctx) -> str:
    d, m = _day_month(c, IT_MONTHS)
    return f"{'primo' if d == 1 else _it_num(d)} {m.sg}"


def _it_date(c: _Ctx, prep: str | None = None) -> str:
    """``il quattro maggio``, ``l'otto maggio``, ``all'undici maggio`` (with ``prep="a"``)."""
    day = _it_day(c)
    art = "l'" if _it_vowel(day) else "il"
    if prep is not None:
        art = _IT_PREP_STEM[prep] + _IT_ART_TAIL[art]
    return _it_join(art, day)


def it_home(c: _Ctx) -> str:
    room = "in " + c.pick(IT_ROOMS).sg
    please = c.choice(("", "", " per favore"))
    k = c.randint(0, 5)
    if k <= 1:
        return f"{c.choice(('accendi', 'spegni'))} {_it_np('def', c.pick(IT_DEVICES))} {room}{please}"
    if k == 2:
        return f"puoi {c.choice(('accendere', 'spegnere'))} {_it_np('def', c.pick(IT_DEVICES))} {room}"
    if k == 3:
        return f"{c.choice(('apri', 'chiudi'))} {_it_np('def', c.pick(IT_OPENABLE), c.chance(0.4))} {room}{please}"
    if k == 4:
        pct = _it_num(c.randint(1, 9) * 10)
        art = "all'" if _it_vowel(pct) else "al"
        return f"abbassa le luci {room} {_it_join(art, pct)} per cento"
    return f"imposta la temperatura {room} a {_it_num(c.randint(15, 28))} gradi"


def it_assistant(c: _Ctx) -> str:
    k = c.randint(0, 7)
    if k == 0:
        return f"metti la sveglia {_it_time(c)}"
    if k == 1:
        return f"svegliami {_it_time(c)}"
    if k == 2:
        return f"imposta un timer di {_it_num(c.randint(2, 90))} minuti"
    if k == 3:
        return f"metti musica {c.pick(IT_GENRES).sg} in {c.pick(IT_ROOMS).sg}"
    if k == 4:
        name = c.pick(IT_NAMES).sg
        return c.choice((f"chiama {name}", f"manda un messaggio {_it_a(name)}", f"scrivi {_it_a(name)}"))
    if k == 5:
        task = c.pick(IT_TASKS).sg if c.chance(0.8) else "chiamare " + c.pick(IT_NAMES).sg
        return f"ricordami di {task} {_it_time(c)}"
    if k == 6:
        return f"non dimenticare di {c.pick(IT_TASKS).sg} {_it_when(c)}"
    return f"cosa ho in programma {_it_when(c)}"


def it_quantity(c: _Ctx) -> str:
    item = c.pick(IT_ITEMS)
    n = _it_num(c.count())
    k = c.randint(0, 6)
    if k == 0:
        return f"ho bisogno di {n} {item.pl}"
    if k == 1:
        return f"ordina {n} {item.pl} per favore"
    if k == 2:
        return f"sono {'rimaste' if item.g == 'f' else 'rimasti'} solo {n} {item.pl}"
    if k == 3:
        return f"ci sono {n} {c.pick(IT_PEOPLE).pl} {_it_np('def', c.pick(IT_PLACES), prep='a')}"
    if k == 4:
        return f"costa {_it_num(c.price())} {c.pick(IT_CURRENCIES).sg}"
    if k == 5:
        return f"ho pagato {_it_num(c.price())} {c.pick(IT_CURRENCIES).sg} per {_it_np('def', item, True)}"
    return f"aspettiamo {n} {c.pick(IT_PEOPLE).pl} {_it_when(c)}"


def it_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"{_it_np('def', c.pick(IT_EVENTS))} è {_it_date(c)}"
    if k == 1:
        return f"il mio compleanno è {_it_date(c)}"
    if k == 2:
        return f"partiamo {c.pick(IT_WEEKDAYS).sg} {_it_day(c)}"
    if k == 3:
        return f"sono nato {_it_date(c)} {year_to_words(c.randint(1950, 2030), 'it')}"
    if k == 4:
        return f"oggi è {c.pick(IT_WEEKDAYS).sg} {_it_day(c)}"
    ev = c.pick(IT_EVENTS)
    moved = "stata spostata" if ev.g == "f" else "stato spostato"
    return f"{_it_np('def', ev)} è {moved} {_it_date(c, 'a')}"


def it_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        return f"{_it_np('def', c.pick(IT_VEHICLES))} parte {_it_time(c)}"
    if k == 1:
        return f"{_it_np('def', c.pick(IT_EVENTS))} inizia {_it_time(c)}"
    if k == 2:
        return f"ci vediamo davanti {_it_np('def', c.pick(IT_PLACES), prep='a')} {_it_time(c)}"
    return f"{_it_np('def', c.pick(IT_PLACES))} apre {_it_time(c)}"


def it_describe(c: _Ctx) -> str:
    thing = c.pick(IT_THINGS)
    pl = c.chance(0.25)
    pre = c.pick(IT_PRE_ADJS) if c.chance(0.5) else None
    post = c.pick(IT_COLOURS) if c.chance(0.7) else None
    k = c.randint(0, 3)
    if k <= 1:
        land = c.pick(IT_LANDMARKS)
        args = {}
        if c.chance(0.5):
            args = {"pre": c.pick(IT_PRE_ADJS)} if c.chance(0.5) else {"post": c.pick(IT_POST_ADJS)}
        prep, art_prep = c.choice(IT_PREPS)
        verb = "sono" if pl else "è"
        return f"{_it_np('def', thing, pl, pre, post)} {verb} {prep} {_it_np('def', land, prep=art_prep, **args)}"
    if k == 2:
        return f"{c.pick(IT_RELATIVES).sg} ha {_it_np('indef', thing, pl, pre, post)}"
    adj = _it_adj(c.pick(IT_PRED_ADJS), thing.g, pl)
    verb = "sono" if pl else "è"
    return f"{_it_np('dem', thing, pl, pre, post)} {verb} {c.choice(('molto', 'troppo', 'abbastanza'))} {adj}"


def it_weather(c: _Ctx) -> str:
    city = c.pick(IT_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"che tempo farà {_it_when(c)} {_it_a(city)}"
    if k == 1:
        return f"{c.choice(('pioverà', 'nevicherà'))} {_it_when(c)} {_it_a(city)}"
    if k == 2:
        return f"farà {c.choice(('freddo', 'caldo', 'bel tempo'))} {_it_when(c)} {_it_a(city)}"
    if k == 3:
        return f"ci sono {_it_num(c.randint(2, 35))} gradi {_it_a(city)}"
    return f"ci sarà il sole {_it_when(c)} {_it_a(city)}"


def it_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        return f"come arrivo {_it_np('def', c.pick(IT_PLACES), prep='a')}"
    if k == 1:
        nxt = _it_adjs("prossimo")[0]
        return f"quando parte {_it_np('def', c.pick(IT_VEHICLES), pre=nxt)} per {c.pick(IT_CITIES).sg}"
    if k == 2:
        return f"quanto ci vuole per arrivare {_it_a(c.pick(IT_CITIES).sg)}"
    if k == 3:
        place = c.pick(IT_PLACES)
        return f"dov'è {_it_np('def', place)} più {'vicina' if place.g == 'f' else 'vicino'}"
    if k == 4:
        what = c.choice(("un biglietto", "due biglietti", "un biglietto di andata e ritorno"))
        return f"vorrei {what} per {c.pick(IT_CITIES).sg}"
    return f"c'è {_it_np('indef', c.pick(IT_PLACES))} qui vicino"


def it_shopping(c: _Ctx) -> str:
    cl = c.pick(IT_CLOTHES)
    k = c.randint(0, 5)
    if k == 0:
        return f"quanto costa {_it_np('dem', cl)}"
    if k == 1:
        return f"quanto costano {_it_np('dem', cl, True)}"
    if k == 2:
        return f"avete {_it_np('dem', cl)} in {c.pick(IT_COLOURS).sg}"
    if k == 3:
        return f"vendete {c.pick(IT_ITEMS).pl}"
    if k == 4:
        n = c.randint(1, 12)
        return f"vorrei {'un chilo' if n == 1 else _it_num(n) + ' chili'} di {c.pick(IT_FOODS).sg}"
    return f"cerco {_it_np('indef', cl, post=c.pick(IT_COLOURS))}"


_SPECS["it"] = _LangSpec(
    families=(
        (2.0, it_home), (1.5, it_assistant), (1.5, it_quantity), (1.0, it_date), (1.0, it_time),
        (1.5, it_describe), (1.0, it_weather), (1.0, it_travel), (1.0, it_shopping),
    ),
    open_pools=(IT_DEVICES, IT_ROOMS, IT_GENRES, IT_NAMES, IT_ITEMS, IT_EVENTS, IT_THINGS,
                IT_LANDMARKS, IT_COLOURS, IT_CITIES, IT_PLACES, IT_CLOTHES, IT_FOODS),
    closed_pools=(IT_OPENABLE, IT_TASKS, IT_PEOPLE, IT_CURRENCIES, IT_MONTHS, IT_WEEKDAYS,
                  IT_VEHICLES, IT_PRE_ADJS, IT_POST_ADJS, IT_PRED_ADJS, IT_RELATIVES),
)


# ============================================================================ Swahili
# Nouns carry the noun class of their singular ("kitabu/vitabu:7"); animates take the
# class 1/2 concords whatever their form ("paka/paka:1"). Quantities only count class
# 9/10 nouns, whose numbers are the plain counting forms (chupa tatu), or people
# (class 2: watu watatu). Colours: -ekundu -eupe -eusi agree; the others are nouns
# joined with the associative (shati la bluu).
_SW_PLURAL_CLASS = {"1": "2", "3": "4", "5": "6", "6": "6", "7": "8", "9": "10", "11": "10"}
# class: subject prefix, locative copula, associative -a, this, my
_SW_CONCORD = {
    "1": ("a", "yuko", "wa", "huyu", "wangu"),
    "2": ("wa", "wako", "wa", "hawa", "wangu"),
    "3": ("u", "uko", "wa", "huu", "wangu"),
    "4": ("i", "iko", "ya", "hii", "yangu"),
    "5": ("li", "liko", "la", "hili", "langu"),
    "6": ("ya", "yako", "ya", "haya", "yangu"),
    "7": ("ki", "kiko", "cha", "hiki", "changu"),
    "8": ("vi", "viko", "vya", "hivi", "vyangu"),
    "9": ("i", "iko", "ya", "hii", "yangu"),
    "10": ("zi", "ziko", "za", "hizi", "zangu"),
    "11": ("u", "uko", "wa", "huu", "wangu"),
}
_SW_CLASS_ORDER = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")


def _sw_adjs(spec: dict[str, str]) -> tuple[L, ...]:
    """Agreeing adjectives: the forms for classes 1..11, in that order."""
    return tuple(L(tuple(forms.split()), "adj") for _, forms in sorted(spec.items()))


def _sw_adj(a: L, cls: str) -> str:
    if a.g != "adj":  # an invariable colour noun: shati la bluu
        return f"{_SW_CONCORD[cls][2]} {a.sg}"
    return a.forms[_SW_CLASS_ORDER.index(cls)]


def _sw_cls(n: L, pl: bool) -> str:
    return _SW_PLURAL_CLASS[n.g] if pl else n.g


def _sw_num(n: int) -> str:
    return number_to_words(n, "sw")


_SW_CL2_UNITS = {"moja": "mmoja", "mbili": "wawili", "tatu": "watatu", "nne": "wanne", "tano": "watano", "nane": "wanane"}


def _sw_num_people(n: int) -> str:
    """A number agreeing with a class 2 noun: watu watatu, ishirini na wawili, but mia mbili."""
    words = _sw_num(n).split()
    if n % 10:
        words[-1] = _SW_CL2_UNITS.get(words[-1], words[-1])
    return " ".join(words)


SW_SIZE_ADJS = _sw_adjs({
    "zuri": "mzuri wazuri mzuri mizuri zuri mazuri kizuri vizuri nzuri nzuri mzuri",
    "kubwa": "mkubwa wakubwa mkubwa mikubwa kubwa makubwa kikubwa vikubwa kubwa kubwa mkubwa",
    "dogo": "mdogo wadogo mdogo midogo dogo madogo kidogo vidogo ndogo ndogo mdogo",
    "refu": "mrefu warefu mrefu mirefu refu marefu kirefu virefu ndefu ndefu mrefu",
    "fupi": "mfupi wafupi mfupi mifupi fupi mafupi kifupi vifupi fupi fupi mfupi",
    "pya": "mpya wapya mpya mipya jipya mapya kipya vipya mpya mpya mpya",
    "zito": "mzito wazito mzito mizito zito mazito kizito vizito nzito nzito mzito",
})
SW_COLOURS = _sw_adjs({
    "ekundu": "mwekundu wekundu mwekundu myekundu jekundu mekundu chekundu vyekundu nyekundu nyekundu mwekundu",
    "eupe": "mweupe weupe mweupe myeupe jeupe meupe cheupe vyeupe nyeupe nyeupe mweupe",
    "eusi": "mweusi weusi mweusi myeusi jeusi meusi cheusi vyeusi nyeusi nyeusi mweusi",
}) + _lex("kijani njano bluu kahawia kijivu zambarau waridi")
SW_DEVICES = _lex(
    "taa/taa:9 redio/redio:9 televisheni/televisheni:9 feni/feni:9 kiyoyozi/viyoyozi:7 "
    "jiko/majiko:5 kompyuta/kompyuta:9 hita/hita:9 pasi/pasi:9 friji/friji:9"
)
SW_ROOMS = _lex("jikoni sebuleni chumbani bafuni ofisini barazani bustanini stoo darasani")
SW_OPENABLE = _lex("mlango/milango:3 dirisha/madirisha:5 pazia/mapazia:5 geti/geti:9 kabati/makabati:5")
SW_GENRES = _lex("taarab rhumba injili jazi reggae dansi kwaya")
SW_NAMES = _lex(
    "amina baraka fatuma halima hassani juma mariamu mwajuma neema rehema salim tumaini zawadi "
    "ali daudi yusufu wanjiru otieno akinyi kamau zuberi asha bakari imani upendo jabari"
)
SW_TASKS = _lex(
    "kununua_maziwa kumwagilia_maua kutoa_takataka kulisha_paka kuwachukua_watoto kunywa_dawa "
    "kulipa_bili kumtembeza_mbwa kununua_mkate kuchaji_simu"
)
SW_ITEMS = _lex(
    "chupa/chupa:9 kalamu/kalamu:9 barua/barua:9 sahani/sahani:9 picha/picha:9 ndizi/ndizi:9 "
    "kofia/kofia:9 tikiti/tikiti:9 meza/meza:9 ndoo/ndoo:9 pete/pete:9 sabuni/sabuni:9 "
    "karatasi/karatasi:9 bahasha/bahasha:9 kadi/kadi:9 kamba/kamba:9 nyanya/nyanya:9 "
    "betri/betri:9 taulo/taulo:9 blanketi/blanketi:9 sufuria/sufuria:9"
)
SW_PEOPLE = _lex("watu wageni wanafunzi watoto abiria walimu wachezaji wafanyakazi wateja")
SW_CURRENCIES = _lex("shilingi dola")
SW_MONTHS = _lex("januari februari machi aprili mei juni julai agosti septemba oktoba novemba desemba")
SW_WEEKDAYS = _lex("jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili")
SW_EVENTS = _lex(
    "mkutano/mikutano:3 sherehe/sherehe:9 tamasha/matamasha:5 mechi/mechi:9 darasa/madarasa:5 "
    "somo/masomo:5 harusi/harusi:9 filamu/filamu:9 safari/safari:9 mhadhara/mihadhara:3 "
    "mahojiano/mahojiano:6 ziara/ziara:9 chakula_cha_jioni/vyakula_vya_jioni:7 mtihani/mitihani:3"
)
SW_VEHICLES = _lex("treni:9 basi:5 ndege:9 meli:9 daladala:9 feri:9")
SW_THINGS = _lex(
    "gari/magari:5 baiskeli/baiskeli:9 mashua/mashua:9 paka/paka:1 mbwa/mbwa:1 mkoba/mikoba:3 "
    "mpira/mipira:3 sanduku/masanduku:5 kitabu/vitabu:7 kiti/viti:7 meza/meza:9 lori/malori:5 "
    "farasi/farasi:1 kuku/kuku:1 mbuzi/mbuzi:1 mwavuli/miavuli:3 kikombe/vikombe:7 kisu/visu:7 "
    "kikapu/vikapu:7 simu/simu:9 kofia/kofia:9 kiatu/viatu:7 jiwe/mawe:5 pikipiki/pikipiki:9"
)
SW_LANDMARKS = _lex(
    "daraja:5 kanisa:5 stesheni:9 mti:3 nyumba:9 ukuta:11 mto:3 shule:9 maktaba:9 chemchemi:9 "
    "mnara:3 lango:5 ngome:9 soko:5 hoteli:9 duka:5 bandari:9 ziwa:5 hospitali:9 msikiti:3 "
    "kitanda:7 jengo:5"
)
SW_LAND_MODS = _lex("zamani kisasa")  # associative: la zamani (old), la kisasa (modern)
SW_PREPS = ("juu ya", "chini ya", "karibu na", "nyuma ya", "mbele ya", "ndani ya", "kando ya")
SW_RELATIVES = _lex(
    "dada_yangu kaka_yangu mama_yangu baba_yangu rafiki_yangu jirani_yangu mjomba_wangu "
    "shangazi_yangu bibi_yangu babu_yangu"
)
SW_CITIES = _lex(
    "nairobi mombasa kisumu nakuru eldoret arusha dodoma mwanza tanga morogoro zanzibar kampala "
    "kigali lamu malindi moshi iringa mbeya tabora kigoma bukoba musoma thika nyeri garissa kitale"
)
SW_PLACES = _lex(
    "hospitali:9 duka_la_dawa:5 kituo_cha_basi:7 soko:5 benki:9 posta:9 hoteli:9 msikiti:3 "
    "kanisa:5 shule:9 mkahawa:3 maktaba:9 ufukwe:11 stesheni:9 uwanja_wa_ndege:11 "
    "kituo_cha_polisi:7 kituo_cha_mafuta:7 bustani:9 sinema:9 uwanja_wa_mpira:11 duka:5"
)
SW_CLOTHES = _lex(
    "shati:5 koti:5 gauni:9 sketi:9 kofia:9 skafu:9 sweta:9 mkanda:3 glavu:9 buti:9 tai:9 "
    "mwavuli:3 begi:9 saa:9 kanga:9 kitenge:7 suruali:9"
)
SW_FOODS = _lex("sukari mchele unga nyama samaki viazi nyanya vitunguu maharagwe ndizi machungwa maembe")
SW_LIQUIDS = _lex("maziwa maji mafuta juisi")
SW_WHEN = ("leo", "kesho", "kesho kutwa", "leo usiku", "wikendi hii", "wiki ijayo", "kesho asubuhi")


def _sw_time(c: _Ctx) -> str:
    """Swahili hours count from six in the morning: 7:30 am is ``saa moja na nusu asubuhi``."""
    hh = c.randint(6, 22)
    k = c.randint(0, 5)
    if k in (3, 5):
        hh += 1
    h = (hh - 6) % 12 or 12
    t = "saa " + _sw_num(h)
    if k == 0:
        t += c.choice(("", " kamili"))
    elif k == 1:
        t += " na robo"
    elif k == 2:
        t += " na nusu"
    elif k == 3:
        t += " kasoro robo"
    elif k == 4:
        t += " na dakika " + _sw_num(c.choice((5, 10, 20, 25)))
    else:
        t += " kasoro dakika " + _sw_num(c.choice((5, 10, 20, 25)))
    day = "asubuhi" if hh < 12 else "mchana" if hh < 16 else "jioni" if hh < 19 else "usiku"
    return f"{t} {day}"


def _sw_when(c: _Ctx) -> str:
    if c.chance(0.3):
        return c.choice(("", "siku ya ")) + c.pick(SW_WEEKDAYS).sg
    return c.choice(SW_WHEN)


def _sw_date(c: _Ctx) -> str:
    d, m = _day_month(c, SW_MONTHS)
    return f"tarehe {_sw_num(d)} {m.sg}"


def _sw_sp(n: L, pl: bool = False) -> str:
    return _SW_CONCORD[_sw_cls(n, pl)][0]


def sw_home(c: _Ctx) -> str:
    room = c.pick(SW_ROOMS).sg
    please = c.choice(("", "", "tafadhali "))
    k = c.randint(0, 4)
    if k <= 1:
        dev = c.pick(SW_DEVICES)
        pl = dev.g == "9" and c.chance(0.2)
        return f"{please}{c.choice(('washa', 'zima'))} {dev.pl if pl else dev.sg} {_SW_CONCORD[_sw_cls(dev, pl)][2]} {room}"
    if k == 2:
        op = c.pick(SW_OPENABLE)
        pl = c.chance(0.3)
        return f"{please}{c.choice(('fungua', 'funga'))} {op.pl if pl else op.sg} {_SW_CONCORD[_sw_cls(op, pl)][2]} {room}"
    if k == 3:
        return f"{please}{c.choice(('ongeza', 'punguza'))} sauti ya {c.choice(('redio', 'televisheni', 'spika'))}"
    return f"{please}{c.choice(('ongeza', 'punguza'))} joto la chumba"


def sw_assistant(c: _Ctx) -> str:
    k = c.randint(0, 8)
    if k == 0:
        return f"niamshe {_sw_time(c)}"
    if k == 1:
        return f"weka kengele {_sw_time(c)}"
    if k == 2:
        return f"weka kipima muda cha dakika {_sw_num(c.randint(2, 90))}"
    if k == 3:
        return f"cheza muziki wa {c.pick(SW_GENRES).sg}"
    if k == 4:
        return f"mpigie {c.pick(SW_NAMES).sg} simu"
    if k == 5:
        return f"mtumie {c.pick(SW_NAMES).sg} ujumbe"
    if k == 6:
        return f"nikumbushe {c.pick(SW_TASKS).sg} {_sw_time(c)}"
    if k == 7:
        return f"usisahau {c.pick(SW_TASKS).sg} {_sw_when(c)}"
    return f"nina nini kwenye ratiba {_sw_when(c)}"


def sw_quantity(c: _Ctx) -> str:
    item = c.pick(SW_ITEMS).sg
    n = _sw_num(c.count())
    k = c.randint(0, 6)
    if k == 0:
        return f"ninahitaji {item} {n}"
    if k == 1:
        return f"tafadhali agiza {item} {n}"
    if k == 2:
        return f"tumebaki na {item} {n} tu"
    if k == 3:
        return f"kuna {c.pick(SW_PEOPLE).sg} {_sw_num_people(c.count())} kwenye {c.pick(SW_VEHICLES).sg}"
    if k == 4:
        return f"bei yake ni {c.pick(SW_CURRENCIES).sg} {_sw_num(c.price())}"
    if k == 5:
        return f"nililipa {c.pick(SW_CURRENCIES).sg} {_sw_num(c.price())} kwa {item} {n}"
    return f"tunatarajia {c.pick(SW_PEOPLE).sg} {_sw_num_people(c.count())} {_sw_when(c)}"


def sw_date(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        ev = c.pick(SW_EVENTS)
        return f"{ev.sg} {_sw_sp(ev)}tafanyika {_sw_date(c)}"
    if k == 1:
        return f"siku yangu ya kuzaliwa ni {_sw_date(c)}"
    if k == 2:
        return f"tutasafiri {c.pick(SW_WEEKDAYS).sg} {_sw_date(c)}"
    if k == 3:
        return f"nilizaliwa {_sw_date(c)} mwaka {year_to_words(c.randint(1950, 2030), 'sw')}"
    if k == 4:
        return f"leo ni {c.pick(SW_WEEKDAYS).sg} {_sw_date(c)}"
    ev = c.pick(SW_EVENTS)
    return f"{ev.sg} {_sw_sp(ev)}mesogezwa hadi {_sw_date(c)}"


def sw_time(c: _Ctx) -> str:
    k = c.randint(0, 3)
    if k == 0:
        v = c.pick(SW_VEHICLES)
        return f"{v.sg} {_sw_sp(v)}naondoka {_sw_time(c)}"
    if k == 1:
        ev = c.pick(SW_EVENTS)
        return f"{ev.sg} {_sw_sp(ev)}naanza {_sw_time(c)}"
    if k == 2:
        return f"tukutane karibu na {c.pick(SW_LANDMARKS).sg} {_sw_time(c)}"
    p = c.pick(SW_PLACES)
    return f"{p.sg} {_sw_sp(p)}nafunguliwa {_sw_time(c)}"


def sw_describe(c: _Ctx) -> str:
    thing = c.pick(SW_THINGS)
    pl = c.chance(0.25)
    cls = _sw_cls(thing, pl)
    noun = thing.pl if pl else thing.sg
    adj = c.pick(SW_SIZE_ADJS if c.chance(0.5) else SW_COLOURS)
    k = c.randint(0, 4)
    if k <= 1:
        land = c.pick(SW_LANDMARKS)
        mod = ""
        if c.chance(0.3):
            mod = " " + _sw_adj(c.pick(SW_SIZE_ADJS), land.g)
        elif c.chance(0.3):
            mod = f" {_SW_CONCORD[land.g][2]} {c.pick(SW_LAND_MODS).sg}"
        return f"{noun} {_sw_adj(adj, cls)} {_SW_CONCORD[cls][1]} {c.choice(SW_PREPS)} {land.sg}{mod}"
    if k == 2:
        return f"{noun} {_SW_CONCORD[cls][3]} ni {_sw_adj(adj, cls)}"
    if k == 3:
        return f"{c.pick(SW_RELATIVES).sg} ana {thing.sg} {_sw_adj(adj, thing.g)}"
    return f"{noun} {_SW_CONCORD[cls][4]} {_SW_CONCORD[cls][0]}mepotea"


def sw_weather(c: _Ctx) -> str:
    city = c.pick(SW_CITIES).sg
    k = c.randint(0, 4)
    if k == 0:
        return f"hali ya hewa itakuwaje huko {city} {_sw_when(c)}"
    if k == 1:
        return f"je mvua itanyesha huko {city} {_sw_when(c)}"
    if k == 2:
        return f"je kutakuwa na {c.choice(('jua', 'baridi', 'joto', 'upepo'))} huko {city} {_sw_when(c)}"
    if k == 3:
        return f"leo huko {city} kuna nyuzi joto {_sw_num(c.randint(2, 35))}"
    return f"kuna {c.choice(('baridi', 'joto'))} sana huko {city} leo"


def sw_travel(c: _Ctx) -> str:
    k = c.randint(0, 5)
    if k == 0:
        p = c.pick(SW_PLACES)
        return f"{p.sg} {_SW_CONCORD[p.g][1]} wapi"
    if k == 1:
        v = c.pick(SW_VEHICLES)
        return f"{v.sg} {_SW_CONCORD[v.g][2]} kwenda {c.pick(SW_CITIES).sg} {_sw_sp(v)}naondoka saa ngapi"
    if k == 2:
        return f"inachukua muda gani kufika {c.pick(SW_CITIES).sg}"
    if k == 3:
        what = c.choice(("tiketi ya", "tiketi mbili za", "tiketi moja ya"))
        return f"nataka {what} kwenda {c.pick(SW_CITIES).sg}"
    if k == 4:
        return f"kuna {c.pick(SW_PLACES).sg} karibu na hapa"
    a = c.pick(SW_CITIES).sg
    b = c.pick(SW_CITIES).sg
    while b == a:
        b = c.pick(SW_CITIES).sg
    return f"ni kilomita ngapi kutoka {a} hadi {b}"


def sw_shopping(c: _Ctx) -> str:
    cl = c.pick(SW_CLOTHES)
    k = c.randint(0, 5)
    if k == 0:
        return f"{cl.sg} {_SW_CONCORD[cl.g][3]} {_sw_sp(cl)}nagharimu shilingi ngapi"
    if k == 1:
        return f"bei ya {cl.sg} ni shilingi ngapi"
    if k == 2:
        return f"una {cl.sg} {_sw_adj(c.pick(SW_COLOURS), cl.g)}"
    if k == 3:
        return f"nataka kununua {c.pick(SW_ITEMS).sg} {_sw_num(c.count())}"
    if k == 4:
        n = c.randint(1, 12)
        return f"nataka kilo {_sw_num(n)} {'ya' if n == 1 else 'za'} {c.pick(SW_FOODS).sg}"
    n = c.randint(1, 10)
    return f"nataka lita {_sw_num(n)} {'ya' if n == 1 else 'za'} {c.pick(SW_LIQUIDS).sg}"


_SPECS["sw"] = _LangSpec(
    families=(
        (2.0, sw_home), (1.5, sw_assistant), (1.5, sw_quantity), (1.0, sw_date), (1.0, sw_time),
        (1.5, sw_describe), (1.0, sw_weather), (1.0, sw_travel), (1.0, sw_shopping),
    ),
    open_pools=(SW_DEVICES, SW_GENRES, SW_NAMES, SW_ITEMS, SW_EVENTS, SW_THINGS, SW_LANDMARKS,
                SW_COLOURS, SW_CITIES, SW_PLACES, SW_CLOTHES, SW_FOODS),
    closed_pools=(SW_ROOMS, SW_OPENABLE, SW_TASKS, SW_PEOPLE, SW_CURRENCIES, SW_MONTHS, SW_WEEKDAYS,
                  SW_VEHICLES, SW_SIZE_ADJS, SW_LAND_MODS, SW_RELATIVES, SW_LIQUIDS),
)


# ============================================================================ held-out words and the generator
_TRACE_SAMPLES = 400  # per family
# elided articles and prepositions that fuse with a following vowel-initial word
_ELISIONS = {"fr": ("l'", "d'"), "it": ("l'", "un'", "all'", "dell'", "nell'", "sull'", "dall'")}


def _reserved_words(lang: str) -> set[str]:
    """Words that must stay seen: numbers, every form in a closed word list, and the
    templates' own words (found by tracing: sentence words no word list supplied)."""
    out: set[str] = set()
    for n in list(range(0, 1001)) + [1000 * k for k in range(1, 100)]:
        for g in ("m", "f"):
            out.update(number_to_words(n, lang, gender=g).split())
    for pool in _SPECS[lang].closed_pools:
        for entry in pool:
            out.update(entry.words())
    rng = random.Random(f"trace:{lang}")
    for _, family in _SPECS[lang].families:
        for _ in range(_TRACE_SAMPLES):
            ctx = _Ctx(None, rng, featured=False, allow_held=True)
            out.update(set(_norm(family(ctx)).split()) - ctx.picked)
    return out


@lru_cache(maxsize=None)
def _held_out(lang: str) -> frozenset[str]:
    spec = _SPECS[lang]
    reserved = _reserved_words(lang)
    held: set[str] = set()
    for pool in spec.open_pools:
        cands = sorted(
            (e for e in pool if all(" " not in f for f in e.forms) and not (e.words() & reserved)),
            key=lambda e: (zlib.crc32(f"{lang}:{e.sg}".encode()), e.sg),
        )
        k = round(HELD_OUT_FRACTION * len(pool))
        for e in cands[:k]:
            held |= e.words()
    # an entry sharing a form with a held-out one is held out whole (lamp -> lamps)
    entries = [e for pool in spec.open_pools for e in pool]
    grew = True
    while grew:
        grew = False
        for e in entries:
            if e.words() & held and not e.words() <= held:
                held |= e.words()
                grew = True
    held |= {p + w for p in _ELISIONS.get(lang, ()) for w in held if w[0] in "aeiouàâéèêîôùœh"}
    return frozenset(held)


def _check_lang(lang: str) -> None:
    if lang not in _SPECS:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGS)}")


def held_out_words(lang: str) -> set[str]:
    """The words of ``lang`` that only the ``test`` split uses.

    Every form of each held-out entry, plus in French and Italian the forms fused
    with an elided article (``l'hôtel``, ``all'aeroporto``), as they appear in text.
    """
    _check_lang(lang)
    return set(_held_out(lang))


def content_words(lang: str) -> set[str]:
    """Every word form in ``lang``'s word lists (not the template words, not numbers)."""
    _check_lang(lang)
    spec = _SPECS[lang]
    return {w for pool in spec.open_pools + spec.closed_pools for e in pool for w in e.words()}


class SentenceGenerator:
    """Draws normalized sentences in one language.

    Args:
        lang: one of :data:`LANGS`.
        held_out_rate: the share of ``test`` sentences made to contain at
            least one held-out word (the rest of ``test``, and all of ``train``
            and ``dev``, use only seen words).

    >>> import random
    >>> gen = SentenceGenerator("en")
    >>> s = gen.sample(random.Random(0), "train")
    """

    def __init__(self, lang: str, held_out_rate: float = 0.3):
        _check_lang(lang)
        if not 0.0 <= held_out_rate <= 1.0:
            raise ValueError(f"held_out_rate must be in [0, 1], got {held_out_rate}")
        self.lang = lang
        self.held_out_rate = held_out_rate
        spec = _SPECS[lang]
        self._families = tuple(f for _, f in spec.families)
        total = sum(w for w, _ in spec.families)
        acc, cum = 0.0, []
        for w, _ in spec.families:
            acc += w / total
            cum.append(acc)
        self._cum = tuple(cum)
        self.held_out = _held_out(lang)
        self._pools: dict[int, tuple[tuple[L, ...], tuple[L, ...]]] = {}
        for pool in spec.open_pools + spec.closed_pools:
            seen = tuple(e for e in pool if not (e.words() & self.held_out))
            held = tuple(e for e in pool if e.words() & self.held_out)
            if not seen:
                raise AssertionError(f"{lang}: a word list is entirely held out")
            self._pools[id(pool)] = (seen, held)

    def _split_pool(self, pool: tuple[L, ...]) -> tuple[tuple[L, ...], tuple[L, ...]]:
        try:
            return self._pools[id(pool)]
        except KeyError:
            raise AssertionError(f"{self.lang}: a template picks from an unregistered word list") from None

    def _family(self, rng: random.Random) -> Family:
        r = rng.random()
        for f, cum in zip(self._families, self._cum):
            if r < cum:
                return f
        return self._families[-1]

    def sample(self, rng: random.Random, split: str = "train") -> str:
        """One normalized sentence for ``split`` (``train``, ``dev`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        featured = split == "test" and rng.random() < self.held_out_rate
        if not featured:
            return _norm(self._family(rng)(_Ctx(self, rng, featured=False, allow_held=False)))
        text = ""
        for _ in range(50):  # retry until a held-out word made it in
            text = _norm(self._family(rng)(_Ctx(self, rng, featured=True, allow_held=True)))
            if any(w in self.held_out for w in text.split()):
                break
        return text

    def samples(self, rng: random.Random, n: int, split: str = "train") -> list[str]:
        return [self.sample(rng, split) for _ in range(n)]
