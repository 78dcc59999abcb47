"""Spanish grammar for :mod:`asr.data.sentences`: word lists, template families, :data:`SPEC`.

The package re-exports the public names (``ES_*`` tables, ``es_*`` families);
``SPEC`` is registered there under ``"es"``.
"""

from __future__ import annotations

import re

from asr.data.sentences._base import Family, L, _Ctx, _LangSpec, _day_month, _lex
from asr.text.numbers import number_to_words, year_to_words

__all__ = [
    "ES_DEVICES", "ES_ROOMS", "ES_OPENABLE", "ES_GENRES", "ES_NAMES", "ES_TASKS", "ES_ITEMS",
    "ES_PEOPLE", "ES_CURRENCIES", "ES_MONTHS", "ES_WEEKDAYS", "ES_EVENTS", "ES_VEHICLES",
    "ES_THINGS", "ES_LANDMARKS", "ES_PRE_ADJS", "ES_POST_ADJS", "ES_PRED_ADJS", "ES_COLOURS",
    "ES_PREPS", "ES_RELATIVES", "ES_CITIES", "ES_PLACES", "ES_CLOTHES", "ES_FOODS", "ES_WHEN",
    "es_home", "es_assistant", "es_quantity", "es_date", "es_time", "es_describe", "es_weather",
    "es_travel", "es_shopping",
]

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


SPEC = _LangSpec(
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
