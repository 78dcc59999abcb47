"""German grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``DE_*`` tables, ``de_*`` families);
``SPEC`` is registered there under ``"de"``.
"""

from __future__ import annotations

import re

from asr.data.sentences._base import Family, L, _Ctx, _LangSpec, _day_month, _daypart, _lex
from asr.text.numbers import number_to_words, ordinal_to_words, year_to_words

__all__ = [
    "DE_DEVICES", "DE_ROOMS", "DE_OPENABLE", "DE_GENRES", "DE_NAMES", "DE_TASKS", "DE_ITEMS",
    "DE_PEOPLE", "DE_CURRENCIES", "DE_MONTHS", "DE_WEEKDAYS", "DE_EVENTS", "DE_VEHICLES",
    "DE_THINGS", "DE_LANDMARKS", "DE_SIZES", "DE_LAND_ADJS", "DE_PRED_ADJS", "DE_COLOURS",
    "DE_PREPS", "DE_RELATIVES", "DE_CITIES", "DE_PLACES", "DE_CLOTHES", "DE_FOODS", "DE_WHEN",
    "de_home", "de_assistant", "de_quantity", "de_date", "de_time", "de_describe", "de_weather",
    "de_travel", "de_shopping",
]

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


SPEC = _LangSpec(
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
