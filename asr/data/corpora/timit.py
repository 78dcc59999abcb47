"""TIMIT (LDC93S1), in the LDC layout, upper- or lower-case names.

Layout::

    TIMIT/{TRAIN,TEST}/DR<1-8>/<SPK>/<UTT>.WAV   NIST SPHERE, 16 kHz
    TIMIT/{TRAIN,TEST}/DR<1-8>/<SPK>/<UTT>.TXT   "<start> <end> The sentence."
    TIMIT/{TRAIN,TEST}/DR<1-8>/<SPK>/<UTT>.PHN   "<start> <end> <phone>" per line (61 phones, samples)
    TIMIT/{TRAIN,TEST}/DR<1-8>/<SPK>/<UTT>.WRD   "<start> <end> <word>"

Splits as in the Kaldi recipe: ``train`` (all of TRAIN, 462 speakers), ``dev``
(:data:`DEV_SPEAKERS`, 50 TEST speakers) and ``test`` (the core test set,
:data:`CORE_TEST_SPEAKERS`, 24 speakers). The dialect sentences SA1/SA2, read
by every speaker, are left out unless asked for. Utterance id ``<SPK>_<UTT>``
(upper case, whatever the case on disk). Each row keeps the 61-phone
transcription in ``phones61`` and its 39-phone folding in ``phones``
(:data:`FOLD_61_TO_39`, Lee & Hon 1989, as Kaldi's ``phones.60-48-39.map``):
phone error rate is scored on ``phones``.
"""

from __future__ import annotations

import os
from pathlib import Path

from asr import audio
from asr.data.corpora import CorpusError
from asr.data.manifest import Utterance
from asr.text.normalize import normalize

__all__ = ["SPLITS", "DEV_SPEAKERS", "CORE_TEST_SPEAKERS", "FOLD_61_TO_39", "PHONES_39", "fold_phones",
           "find_root", "read_timit"]

SPLITS = ("train", "dev", "test")

DEV_SPEAKERS = frozenset("""
FAKS0 MMDB1 MBDG0 FEDW0 MTDT0 FSEM0 MDVC0 MRJM4 MJSW0 MTEB0 FDAC1 MMDM2 MBWM0 MGJF0 MTHC0 MBNS0 MERS0
FCAL1 MREB0 MJFC0 FJEM0 MPDF0 MCSH0 MGLB0 MWJG0 MMJR0 FMAH0 MMWH0 FGJD0 MRJR0 MGWT0 FCMH0 FADG0 MRTK0
FNMR0 MDLS0 FDRW0 FJSJ0 FJMG0 FMML0 MJAR0 FKMS0 FDMS0 MTAA0 FREW0 MDLF0 MRCS0 MAJC0 MROA0 MRWS1
""".split())  # 50 speakers of TEST (Kaldi's egs/timit dev set)

CORE_TEST_SPEAKERS = frozenset("""
MDAB0 MWBT0 FELC0 MTAS1 MWEW0 FPAS0 MJMP0 MLNT0 FPKT0 MLLL0 MTLS0 FJLM0
MBPM0 MKLT0 FNLP0 MCMJ0 MJDH0 FMGD0 MGRT0 MNJM0 FDHC0 MJLN0 MPAM0 FMLD0
""".split())  # the 24-speaker core test set (two men and one woman per dialect region)

# 61 TIMIT phones -> 39 scoring classes; "q" (glottal stop) maps to None: deleted.
FOLD_61_TO_39: dict[str, str | None] = {
    "aa": "aa", "ao": "aa", "ae": "ae", "ah": "ah", "ax": "ah", "ax-h": "ah", "aw": "aw", "ay": "ay",
    "b": "b", "ch": "ch", "d": "d", "dh": "dh", "dx": "dx", "eh": "eh", "er": "er", "axr": "er",
    "ey": "ey", "f": "f", "g": "g", "hh": "hh", "hv": "hh", "ih": "ih", "ix": "ih", "iy": "iy",
    "jh": "jh", "k": "k", "l": "l", "el": "l", "m": "m", "em": "m", "n": "n", "en": "n", "nx": "n",
    "ng": "ng", "eng": "ng", "ow": "ow", "oy": "oy", "p": "p", "r": "r", "s": "s", "sh": "sh", "zh": "sh",
    "t": "t", "th": "th", "uh": "uh", "uw": "uw", "ux": "uw", "v": "v", "w": "w", "y": "y", "z": "z",
    "bcl": "sil", "dcl": "sil", "gcl": "sil", "kcl": "sil", "pcl": "sil", "tcl": "sil",
    "pau": "sil", "epi": "sil", "h#": "sil", "q": None,
}
PHONES_39 = tuple(sorted({p for p in FOLD_61_TO_39.values() if p is not None}))


def fold_phones(phones: list[str]) -> list[str]:
    """Map 61-set phones to the 39 scoring classes (``q`` dropped).

    Raises:
        KeyError: a phone outside the 61-phone set.
    """
    return [f for f in (FOLD_61_TO_39[p.lower()] for p in phones) if f is not None]


def _child(d: Path, name: str) -> Path | None:
    """``d/name`` in whatever case it exists on disk."""
    for cand in (d / name, d / name.lower(), d / name.upper()):
        if cand.exists():
            return cand
    return None


def find_root(corpus: str | os.PathLike) -> Path:
    """The directory holding ``TRAIN`` and / or ``TEST`` (``corpus``, ``corpus/TIMIT`` or ``corpus/timit``)."""
    p = Path(corpus)
    for cand in (p, _child(p, "TIMIT"), _child(p, "data")):
        if cand is not None and (_child(cand, "TRAIN") or _child(cand, "TEST")):
            return cand
    raise CorpusError(f"{corpus}: no TRAIN/ or TEST/ directory (LDC TIMIT layout) here or in TIMIT/")


def _read_utt(wav: Path, spk: str) -> Utterance:
    stem = wav.with_suffix("")
    txt, phn = (next((q for q in (stem.with_suffix(s), stem.with_suffix(s.lower())) if q.is_file()), None)
                for s in (".TXT", ".PHN"))
    if txt is None or phn is None:
        raise CorpusError(f"{wav}: no matching .TXT / .PHN file")
    words = txt.read_text(encoding="utf-8", errors="replace").split()[2:]  # drop the sample range
    phones61 = [line.split()[2] for line in phn.read_text().splitlines() if len(line.split()) == 3]
    utt = stem.name.upper()
    return Utterance(id=f"{spk}_{utt}", audio=str(wav), duration=audio.info(wav).duration,
                     text=normalize(" ".join(words), "en"), lang="en", speaker=spk,
                     extra={"phones61": " ".join(phones61), "phones": " ".join(fold_phones(phones61))})


def read_timit(corpus: str | os.PathLike, include_sa: bool = False) -> dict[str, list[Utterance]]:
    """``{"train", "dev", "test"}`` utterances (sorted by id); see the module docstring for the splits.

    A split without utterances (no TEST/ directory, no dev speaker, ...) is left out of the result.

    Args:
        corpus: the TIMIT directory (or its parent).
        include_sa: keep the SA1/SA2 dialect sentences.
    """
    root = find_root(corpus)
    out: dict[str, list[Utterance]] = {s: [] for s in SPLITS}
    for part in ("TRAIN", "TEST"):
        for wav in sorted(_child(root, part).glob("*/*/*")) if _child(root, part) else []:
            if wav.suffix.lower() != ".wav" or not wav.parent.parent.name.upper().startswith("DR"):
                continue
            if wav.stem.upper().startswith("SA") and not include_sa:
                continue
            spk = wav.parent.name.upper()
            if part == "TRAIN":
                split = "train"
            elif spk in DEV_SPEAKERS:
                split = "dev"
            elif spk in CORE_TEST_SPEAKERS:
                split = "test"
            else:
                continue  # the rest of TEST is in neither set (as in Kaldi)
            out[split].append(_read_utt(wav, spk))
    return {split: sorted(utts, key=lambda u: u.id) for split, utts in out.items() if utts}
