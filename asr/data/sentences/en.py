"""English grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``EN_*`` tables, ``en_*`` families);
``SPEC`` is registered there under ``"en"``.
"""

from __future__ import annotations

from asr.data.sentences._base import _Ctx, _LangSpec, _day_month, _daypart, _lex
from asr.text.numbers import number_to_words, ordinal_to_words, year_to_words

__all__ = [
    "EN_POLITE", "EN_DEVICES", "EN_OPENABLE", "EN_ROOMS", "EN_GENRES", "EN_NAMES", "EN_TASKS",
    "EN_ITEMS", "EN_PEOPLE", "EN_CURRENCIES", "EN_MONTHS", "EN_WEEKDAYS", "EN_EVENTS",
    "EN_VEHICLES", "EN_THINGS", "EN_LANDMARKS", "EN_SIZES", "EN_ADJS", "EN_COLOURS", "EN_PREPS",
    "EN_RELATIVES", "EN_CITIES", "EN_PLACES", "EN_CLOTHES", "EN_FOODS", "EN_WHEN", "en_home",
    "en_assistant", "en_quantity", "en_date", "en_time", "en_describe", "en_weather", "en_travel",
    "en_shopping",
]

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


SPEC = _LangSpec(
    families=(
        (2.0, en_home), (1.5, en_assistant), (1.5, en_quantity), (1.0, en_date), (1.0, en_time),
        (1.5, en_describe), (1.0, en_weather), (1.0, en_travel), (1.0, en_shopping),
    ),
    open_pools=(EN_DEVICES, EN_ROOMS, EN_GENRES, EN_NAMES, EN_ITEMS, EN_EVENTS, EN_THINGS,
                EN_LANDMARKS, EN_COLOURS, EN_CITIES, EN_PLACES, EN_CLOTHES, EN_FOODS),
    closed_pools=(EN_OPENABLE, EN_TASKS, EN_PEOPLE, EN_CURRENCIES, EN_MONTHS, EN_WEEKDAYS,
                  EN_VEHICLES, EN_SIZES, EN_ADJS, EN_PREPS, EN_RELATIVES),
)
