"""French grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``FR_*`` tables, ``fr_*`` families);
``SPEC`` is registered there under ``"fr"``.
"""

from __future__ import annotations

from asr.data.sentences._base import L, _Ctx, _LangSpec, _day_month, _daypart, _lex
from asr.text.numbers import number_to_words, year_to_words

__all__ = [
    "FR_DEVICES", "FR_ROOMS", "FR_OPENABLE", "FR_GENRES", "FR_NAMES", "FR_TASKS", "FR_ITEMS",
    "FR_PEOPLE", "FR_CURRENCIES", "FR_MONTHS", "FR_WEEKDAYS", "FR_EVENTS", "FR_VEHICLES",
    "FR_THINGS", "FR_LANDMARKS", "FR_PRE_ADJS", "FR_POST_ADJS", "FR_PRED_ADJS", "FR_COLOURS",
    "FR_PREPS", "FR_RELATIVES", "FR_CITIES", "FR_PLACES", "FR_CLOTHES", "FR_FOODS", "FR_WHEN",
    "fr_home", "fr_assistant", "fr_quantity", "fr_date", "fr_time", "fr_describe", "fr_weather",
    "fr_travel", "fr_shopping",
]

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


SPEC = _LangSpec(
    families=(
        (2.0, fr_home), (1.5, fr_assistant), (1.5, fr_quantity), (1.0, fr_date), (1.0, fr_time),
        (1.5, fr_describe), (1.0, fr_weather), (1.0, fr_travel), (1.0, fr_shopping),
    ),
    open_pools=(FR_DEVICES, FR_ROOMS, FR_GENRES, FR_NAMES, FR_ITEMS, FR_EVENTS, FR_THINGS,
                FR_LANDMARKS, FR_COLOURS, FR_CITIES, FR_PLACES, FR_CLOTHES, FR_FOODS),
    closed_pools=(FR_OPENABLE, FR_TASKS, FR_PEOPLE, FR_CURRENCIES, FR_MONTHS, FR_WEEKDAYS,
                  FR_VEHICLES, FR_PRE_ADJS, FR_POST_ADJS, FR_PRED_ADJS, FR_RELATIVES),
)
