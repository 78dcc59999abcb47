"""Swahili grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``SW_*`` tables, ``sw_*`` families);
``SPEC`` is registered there under ``"sw"``.
"""

from __future__ import annotations

from asr.data.sentences._base import L, _Ctx, _LangSpec, _day_month, _lex
from asr.text.numbers import number_to_words, year_to_words

__all__ = [
    "SW_SIZE_ADJS", "SW_COLOURS", "SW_DEVICES", "SW_ROOMS", "SW_OPENABLE", "SW_GENRES", "SW_NAMES",
    "SW_TASKS", "SW_ITEMS", "SW_PEOPLE", "SW_CURRENCIES", "SW_MONTHS", "SW_WEEKDAYS", "SW_EVENTS",
    "SW_VEHICLES", "SW_THINGS", "SW_LANDMARKS", "SW_LAND_MODS", "SW_PREPS", "SW_RELATIVES",
    "SW_CITIES", "SW_PLACES", "SW_CLOTHES", "SW_FOODS", "SW_LIQUIDS", "SW_WHEN", "sw_home",
    "sw_assistant", "sw_quantity", "sw_date", "sw_time", "sw_describe", "sw_weather", "sw_travel",
    "sw_shopping",
]

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


SPEC = _LangSpec(
    families=(
        (2.0, sw_home), (1.5, sw_assistant), (1.5, sw_quantity), (1.0, sw_date), (1.0, sw_time),
        (1.5, sw_describe), (1.0, sw_weather), (1.0, sw_travel), (1.0, sw_shopping),
    ),
    open_pools=(SW_DEVICES, SW_GENRES, SW_NAMES, SW_ITEMS, SW_EVENTS, SW_THINGS, SW_LANDMARKS,
                SW_COLOURS, SW_CITIES, SW_PLACES, SW_CLOTHES, SW_FOODS),
    closed_pools=(SW_ROOMS, SW_OPENABLE, SW_TASKS, SW_PEOPLE, SW_CURRENCIES, SW_MONTHS, SW_WEEKDAYS,
                  SW_VEHICLES, SW_SIZE_ADJS, SW_LAND_MODS, SW_RELATIVES, SW_LIQUIDS),
)
