"""Italian grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``IT_*`` tables, ``it_*`` families);
``SPEC`` is registered there under ``"it"``.
"""

from __future__ import annotations

import re

from asr.data.sentences._base import L, _Ctx, _LangSpec, _day_month, _daypart, _lex
from asr.text.numbers import number_to_words, year_to_words

__all__ = [
    "IT_DEVICES", "IT_ROOMS", "IT_OPENABLE", "IT_GENRES", "IT_NAMES", "IT_TASKS", "IT_ITEMS",
    "IT_PEOPLE", "IT_CURRENCIES", "IT_MONTHS", "IT_WEEKDAYS", "IT_EVENTS", "IT_VEHICLES",
    "IT_THINGS", "IT_LANDMARKS", "IT_PRE_ADJS", "IT_POST_ADJS", "IT_PRED_ADJS", "IT_COLOURS",
    "IT_PREPS", "IT_RELATIVES", "IT_CITIES", "IT_PLACES", "IT_CLOTHES", "IT_FOODS", "IT_WHEN",
    "it_home", "it_assistant", "it_quantity", "it_date", "it_time", "it_describe", "it_weather",
    "it_travel", "it_shopping",
]

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


SPEC = _LangSpec(
    families=(
        (2.0, it_home), (1.5, it_assistant), (1.5, it_quantity), (1.0, it_date), (1.0, it_time),
        (1.5, it_describe), (1.0, it_weather), (1.0, it_travel), (1.0, it_shopping),
    ),
    open_pools=(IT_DEVICES, IT_ROOMS, IT_GENRES, IT_NAMES, IT_ITEMS, IT_EVENTS, IT_THINGS,
                IT_LANDMARKS, IT_COLOURS, IT_CITIES, IT_PLACES, IT_CLOTHES, IT_FOODS),
    closed_pools=(IT_OPENABLE, IT_TASKS, IT_PEOPLE, IT_CURRENCIES, IT_MONTHS, IT_WEEKDAYS,
                  IT_VEHICLES, IT_PRE_ADJS, IT_POST_ADJS, IT_PRED_ADJS, IT_RELATIVES),
)
