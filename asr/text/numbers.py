"""Numbers spelled out in words, for the synthetic corpus' sentences.

:func:`number_to_words` writes ``0 <= n < 1_000_000`` the way a native reader
says the digits, in the normalized form the corpus uses: lower case, only
letters, apostrophes and single spaces. Conventions, per language:

* ``en`` -- American reading, words separated by spaces, no hyphens and no
  "and": 21 ``twenty one``, 101 ``one hundred one``, 2024 ``two thousand
  twenty four`` (this is how espeak-ng's ``en-us`` voice reads digits).
* ``es`` -- standard orthography: 16-29 are one word (``dieciséis``,
  ``veintiuno``, ``veintidós``), everything else separate words (``treinta y
  uno``, ``ciento uno``, ``dos mil``). ``gender="f"`` gives the feminine forms
  (``veintiuna``, ``doscientas``); ``attributive=True`` the apocopated
  masculine used before a noun (``veintiún``, ``treinta y un``). A thousands
  multiplier always uses ``un`` (``veintiún mil``) and its hundreds agree
  (``doscientas mil`` with ``gender="f"``).
* ``de`` -- standard orthography, one word below a million
  (``einundzwanzig``, ``zweitausendvierundzwanzig``), ``hundert`` and
  ``tausend`` without a leading ``ein`` (espeak-ng reads the digits as
  ``einhundert``/``eintausend``; both are standard, the shorter form is the
  more common way to say it), final 1 is ``eins`` (``hunderteins``).
* ``fr`` -- the hyphens of standard orthography become spaces (``dix sept``,
  ``vingt et un``, ``soixante et onze``, ``quatre vingts``, ``quatre vingt
  un``, ``deux cents``, ``deux cent un``, ``quatre vingt mille``); ``mille``
  is invariable. ``gender="f"`` turns a final ``un`` into ``une``.
* ``it`` -- standard orthography, one word (``ventuno``, ``ventotto``,
  ``ventitré``, ``centouno``, ``duemilaventiquattro``). Tens drop their final
  vowel before ``uno``/``otto``; ``cento`` elides only before ``otto``/``ottanta``
  (``centotto``, ``centottanta``, but ``centouno``). ``gender="f"`` only
  changes 1 itself (``una``).
* ``sw`` -- counting forms (which are also the class 9/10 agreement forms):
  ``kumi na moja``, ``ishirini na tano``, ``mia moja``, ``elfu mbili``,
  ``elfu ishirini na moja``, ``elfu mia moja``. A hundreds/thousands group is
  joined to the rest with ``na`` only when the rest is a single word
  (``mia moja na moja``, ``mia moja na ishirini``, but ``mia moja ishirini na
  tano``, ``elfu moja mia tano``), which is how espeak-ng reads them. (For
  21000 and above espeak-ng reads the digits in a non-standard order, e.g.
  ``ishirini na moja elfu``; we keep the standard ``elfu ishirini na moja``.)

Also :func:`ordinal_to_words` (dates, floors) and :func:`year_to_words`.
"""

from __future__ import annotations

__all__ = ["SUPPORTED_LANGS", "number_to_words", "ordinal_to_words", "year_to_words"]

SUPPORTED_LANGS: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
MAX_NUMBER = 1_000_000  # exclusive upper bound


def _check(n: int, lang: str, lo: int = 0, hi: int = MAX_NUMBER) -> None:
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(SUPPORTED_LANGS)}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"expected an int, got {type(n).__name__}: {n!r}")
    if not lo <= n < hi:
        raise ValueError(f"{n} is out of range: need {lo} <= n < {hi}")


def _check_gender(gender: str) -> None:
    if gender not in ("m", "f"):
        raise ValueError(f"gender must be 'm' or 'f', got {gender!r}")


# ----------------------------------------------------------------------------- en
_EN_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    h, r = divmod(n, 100)
    if h:
        out += [_EN_UNITS[h], "hundred"]
    if r >= 20:
        t, u = divmod(r, 10)
        out.append(_EN_TENS[t])
        if u:
            out.append(_EN_UNITS[u])
    elif r:
        out.append(_EN_UNITS[r])
    return out


def _en(n: int) -> str:
    if n == 0:
        return "zero"
    th, r = divmod(n, 1000)
    out = (_en_below_1000(th) + ["thousand"]) if th else []
    return " ".join(out + _en_below_1000(r))


# ----------------------------------------------------------------------------- es
_ES_UNITS = (
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro "
    "veinticinco veintiséis veintisiete veintiocho veintinueve"
).split()
_ES_TENS = "_ _ veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = (
    "_ ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos "
    "ochocientos novecientos"
).split()


def _es_one(word: str, gender: str, attributive: bool) -> str:
    """Inflect a final 'uno' / 'veintiuno'."""
    if gender == "f":
        return word[:-1] + "a"
    if attributive:
        return "veintiún" if word == "veintiuno" else word[:-1]
    return word


def _es_below_1000(n: int, gender: str, attributive: bool) -> list[str]:
    out: list[str] = []
    h, r = divmod(n, 100)
    if h:
        if h == 1 and r == 0:
            out.append("cien")
        else:
            w = _ES_HUNDREDS[h]
            out.append(w[:-2] + "as" if gender == "f" and h > 1 else w)
    if r == 0:
        return out
    if r < 30:
        w = _ES_UNITS[r]
        out.append(_es_one(w, gender, attributive) if r in (1, 21) else w)
    else:
        t, u = divmod(r, 10)
        out.append(_ES_TENS[t])
        if u:
            out += ["y", _es_one("uno", gender, attributive) if u == 1 else _ES_UNITS[u]]
    return out


def _es(n: int, gender: str, attributive: bool) -> str:
    if n == 0:
        return "cero"
    th, r = divmod(n, 1000)
    out: list[str] = []
    if th == 1:
        out.append("mil")
    elif th:
        # the multiplier of "mil": hundreds agree with the noun, a final one is "un"
        out += _es_below_1000(th, gender, attributive=False)
        if th % 10 == 1 and th % 100 != 11:
            out[-1] = "veintiún" if out[-1] in ("veintiuno", "veintiuna") else "un"
        out.append("mil")
    return " ".join(out + _es_below_1000(r, gender, attributive))


# ----------------------------------------------------------------------------- de
_DE_UNITS = (
    "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn"
).split()
_DE_TENS = "_ _ zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split()


def _de_below_100(n: int, final: bool) -> str:
    """``final``: the number ends here (1 is 'eins'), otherwise 'ein' (einhundert...)."""
    if n == 1:
        return "eins" if final else "ein"
    if n < 20:
        return _DE_UNITS[n]
    t, u = divmod(n, 10)
    return (("ein" if u == 1 else _DE_UNITS[u]) + "und" if u else "") + _DE_TENS[t]


def _de_below_1000(n: int, final: bool) -> str:
    h, r = divmod(n, 100)
    out = ""
    if h:
        out = ("" if h == 1 else _DE_UNITS[h]) + "hundert"
    if r:
        out += _de_below_100(r, final)
    return out


def _de(n: int) -> str:
    if n == 0:
        return "null"
    th, r = divmod(n, 1000)
    out = ""
    if th:
        out = ("" if th == 1 else _de_below_1000(th, final=False)) + "tausend"
    return out + (_de_below_1000(r, final=True) if r else "")


# ----------------------------------------------------------------------------- fr
_FR_UNITS = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize"
).split()
_FR_TENS = "_ dix vingt trente quarante cinquante soixante".split()


def _fr_below_100(n: int) -> list[str]:
    if n <= 16:
        return [_FR_UNITS[n]]
    if n < 20:
        return ["dix", _FR_UNITS[n - 10]]
    if n < 70:
        t, u = divmod(n, 10)
        if u == 0:
            return [_FR_TENS[t]]
        if u == 1:
            return [_FR_TENS[t], "et", "un"]
        return [_FR_TENS[t]] + _fr_below_100(u)
    if n < 80:
        if n == 71:
            return ["soixante", "et", "onze"]
        return ["soixante"] + _fr_below_100(n - 60)
    if n == 80:
        return ["quatre", "vingts"]
    return ["quatre", "vingt"] + _fr_below_100(n - 80)


def _fr_below_1000(n: int, before_mille: bool) -> list[str]:
    h, r = divmod(n, 100)
    out: list[str] = []
    if h:
        if h > 1:
            out.append(_FR_UNITS[h])
        # "cents"/"vingts" take -s only when they end the number (not before mille)
        out.append("cents" if h > 1 and r == 0 and not before_mille else "cent")
    if r:
        part = _fr_below_100(r)
        if before_mille and part[-1] == "vingts":
            part[-1] = "vingt"
        out += part
    return out


def _fr(n: int, gender: str) -> str:
    if n == 0:
        return "zéro"
    th, r = divmod(n, 1000)
    out: list[str] = []
    if th:
        out += ([] if th == 1 else _fr_below_1000(th, before_mille=True)) + ["mille"]
    if r:
        out += _fr_below_1000(r, before_mille=False)
    if gender == "f" and out[-1] == "un":
        out[-1] = "une"
    return " ".join(out)


# ----------------------------------------------------------------------------- it
_IT_UNITS = (
    "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici "
    "quindici sedici diciassette diciotto diciannove"
).split()
_IT_TENS = "_ _ venti trenta quaranta cinquanta sessanta settanta ottanta novanta".split()


def _it_below_1000(n: int) -> str:
    h, r = divmod(n, 100)
    out = ""
    if h:
        out = ("" if h == 1 else _IT_UNITS[h]) + "cento"
        if r == 8 or 80 <= r < 90:
            out = out[:-1]  # centotto, duecentottanta
    if r >= 20:
        t, u = divmod(r, 10)
        tens = _IT_TENS[t]
        if u in (1, 8):
            tens = tens[:-1]  # ventuno, trentotto
        out += tens + ("" if u == 0 else ("tré" if u == 3 else _IT_UNITS[u]))
    elif r:
        out += "tré" if (r == 3 and h) else _IT_UNITS[r]
    return out


def _it(n: int, gender: str) -> str:
    if n == 0:
        return "zero"
    if n == 1:
        return "una" if gender == "f" else "uno"
    th, r = divmod(n, 1000)
    out = ""
    if th == 1:
        out = "mille"
    elif th:
        out = _it_below_1000(th).replace("tré", "tre") + "mila"  # ventitremila
    if r:
        rest = _it_below_1000(r)
        if th and r == 3:
            rest = "tré"
        out += rest
    return out


# ----------------------------------------------------------------------------- sw
_SW_UNITS = "sifuri moja mbili tatu nne tano sita saba nane tisa kumi".split()
_SW_TENS = "_ kumi ishirini thelathini arobaini hamsini sitini sabini themanini tisini".split()


def _sw_join(head: list[str], rest: list[str]) -> list[str]:
    if not rest:
        return head
    if not head:
        return rest
    return head + (["na"] if len(rest) == 1 else []) + rest


def _sw_below_100(n: int) -> list[str]:
    if n == 0:
        return []
    if n <= 10:
        return [_SW_UNITS[n]]
    t, u = divmod(n, 10)
    return [_SW_TENS[t]] + (["na", _SW_UNITS[u]] if u else [])


def _sw_below_1000(n: int) -> list[str]:
    h, r = divmod(n, 100)
    head = ["mia", _SW_UNITS[h]] if h else []
    return _sw_join(head, _sw_below_100(r))


def _sw(n: int) -> str:
    if n == 0:
        return "sifuri"
    th, r = divmod(n, 1000)
    head = (["elfu"] + _sw_below_1000(th)) if th else []
    return " ".join(_sw_join(head, _sw_below_1000(r)))


# ----------------------------------------------------------------------------- API
def number_to_words(n: int, lang: str, *, gender: str = "m", attributive: bool = False) -> str:
    """``n`` (``0 <= n < 1_000_000``) in words, normalized (see the module docstring).

    Args:
        n: the number.
        lang: one of :data:`SUPPORTED_LANGS`.
        gender: ``"m"`` or ``"f"``, the gender of the counted noun (es, fr, it).
        attributive: Spanish only: the apocopated masculine used right before a
            noun (``veintiún libros``); ignored elsewhere.

    Raises:
        ValueError: unsupported language, bad gender, or ``n`` out of range.
    """
    _check(n, lang)
    _check_gender(gender)
    if lang == "en":
        return _en(n)
    if lang == "es":
        return _es(n, gender, attributive)
    if lang == "de":
        return _de(n)
    if lang == "fr":
        return _fr(n, gender)
    if lang == "it":
        return _it(n, gender)
    return _sw(n)


# ----------------------------------------------------------------------------- ordinals
_EN_ORD = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}
_DE_ORD_STEM = {1: "erst", 3: "dritt", 7: "siebt", 8: "acht"}
_ES_ORD_UNITS = (
    "_ primero segundo tercero cuarto quinto sexto séptimo octavo noveno décimo undécimo "
    "duodécimo decimotercero decimocuarto decimoquinto decimosexto decimoséptimo decimoctavo "
    "decimonoveno"
).split()
_ES_ORD_TENS = (
    "_ décimo vigésimo trigésimo cuadragésimo quincuagésimo sexagésimo septuagésimo octogésimo "
    "nonagésimo"
).split()
_IT_ORD = "_ primo secondo terzo quarto quinto sesto settimo ottavo nono decimo".split()


def ordinal_to_words(n: int, lang: str, *, gender: str = "m", ending: str = "e", attributive: bool = False) -> str:
    """The ordinal ``n``-th in words (``1 <= n < 1_000_000``; Spanish ``1 <= n < 100``).

    * en: ``first``, ``twenty first``, ``one hundred second``.
    * de: stem plus ``ending`` (the adjective ending the context needs):
      ``ending="e"`` -> ``vierte``, ``"en"`` -> ``vierten`` (``am vierten mai``),
      ``einundzwanzigste``.
    * fr: ``premier``/``première`` (``gender``), ``deuxième``, ``vingt et unième``.
    * es: ``primero``, ``vigésimo primero``; ``gender="f"`` -> ``primera``;
      ``attributive=True`` -> ``primer``, ``tercer`` before a masculine noun.
    * it: ``primo``, ``undicesimo``, ``ventitreesimo``; ``gender="f"`` -> ``prima``.
    * sw: the number that follows an agreeing ``-a`` (``ghorofa ya tano``):
      ``kwanza``, ``pili``, then the cardinal (``tatu``, ``kumi na moja``).
    """
    _check(n, lang, lo=1, hi=100 if lang == "es" else MAX_NUMBER)
    _check_gender(gender)
    if lang == "en":
        words = _en(n).split()
        last = words[-1]
        if last in _EN_ORD:
            words[-1] = _EN_ORD[last]
        elif last.endswith("y"):
            words[-1] = last[:-1] + "ieth"
        else:
            words[-1] = last + "th"
        return " ".join(words)
    if lang == "de":
        head, r = divmod(n, 100)
        prefix = _de(n - r) if head else ""
        if r == 0:
            stem = prefix + "st"
        elif r < 20:
            stem = prefix + _DE_ORD_STEM.get(r, _DE_UNITS[r] + "t")
        else:
            stem = prefix + _de_below_100(r, final=True) + "st"
        return stem + ending
    if lang == "fr":
        if n == 1:
            return "première" if gender == "f" else "premier"
        words = _fr(n, "m").split()
        last = words[-1]
        if last in ("cents", "vingts"):
            last = last[:-1]
        if last == "cinq":
            last = "cinqu"
        elif last == "neuf":
            last = "neuv"
        elif last.endswith("e"):
            last = last[:-1]
        words[-1] = last + "ième"
        return " ".join(words)
    if lang == "es":
        if n < 20:
            words = [_ES_ORD_UNITS[n]]
        else:
            t, u = divmod(n, 10)
            words = [_ES_ORD_TENS[t]] + ([_ES_ORD_UNITS[u]] if u else [])
        if gender == "f":
            words = [w[:-1] + "a" for w in words]
        elif attributive and words[-1].endswith(("primero", "tercero")):
            words[-1] = words[-1][:-1]
        return " ".join(words)
    if lang == "it":
        if n <= 10:
            word = _IT_ORD[n]
        else:
            card = _it(n, "m")
            if card.endswith("tré"):
                word = card[:-1] + "eesimo"
            elif card.endswith("sei"):
                word = card + "esimo"
            elif card.endswith("mila"):
                word = card[:-4] + "millesimo"
            else:
                word = card[:-1] + "esimo"
        return word[:-1] + "a" if gender == "f" else word
    # sw
    return {1: "kwanza", 2: "pili"}.get(n) or _sw(n)


def year_to_words(year: int, lang: str) -> str:
    """A calendar year ``1 <= year < 10000`` as it is said.

    en: pairs of digits (``nineteen ninety nine``, ``nineteen oh five``,
    ``nineteen hundred``, ``twenty twenty four``) except 2000-2009 (``two
    thousand five``) and years below 1000 or at a round thousand. de: 1100-1999 as
    hundreds (``neunzehnhundertneunundneunzig``). Other languages: the cardinal
    (``dos mil veinticuatro``, ``mille neuf cent quatre vingt dix neuf``).
    """
    _check(year, lang, lo=1, hi=10_000)
    hi, lo = divmod(year, 100)
    if lang == "en" and year >= 1000 and year % 1000 != 0 and not 2000 <= year <= 2009:
        if lo == 0:
            return _en(hi) + " hundred"
        return _en(hi) + " " + ("oh " + _en(lo) if lo < 10 else _en(lo))
    if lang == "de" and 1100 <= year < 2000:
        return _de(hi) + "hundert" + (_de_below_100(lo, final=True) if lo else "")
    return number_to_words(year, lang)
