"""Speech synthesizers behind one interface, for the synthetic corpus (:mod:`asr.data.synth`).

An engine turns (text, voice, prosody) into a waveform and, where it can tell,
the start time of every phone. One small module per engine, registered by name:

==========  =================================================  =====================================
engine      voices                                             comes from
==========  =================================================  =====================================
espeak      espeak-ng voice variants (formant synthesis)       the espeakng-loader wheel (pip)
mbrola      MBROLA diphone voices recorded from real speakers  Debian ``mbrola``, ``mbrola-<voice>``,
            (en1, us1-us3, de*, es*, fr*, it*), driven by         ``espeak-ng`` (contrib / non-free)
            espeak-ng's ``mb-*`` voices (``.pho`` input)
pico        SVOX Pico (en-US, en-GB, de-DE, es-ES, fr-FR,      Debian ``libttspico-utils`` (non-free)
            it-IT)
festival    festival diphone voices not built from CMU ARCTIC  Debian ``festival``, ``festvox-*``
            (rab, don; el for Spanish; lp, pc for Italian)
==========  =================================================  =====================================

``tools/install_voices.sh`` installs the Debian ones. Reserved, never used here
for training, tuning or selection: flite and every voice built from the CMU
ARCTIC recordings (festival's kal, ked, slt, awb, rms; RHVoice's English voices).

Voices are speakers. :func:`split_voices` gives each split of an engine's voices
in a language its own voices, so dev and test voices are never heard in training
(an engine with one or two voices in a language serves dev and test first).

Usage::

    engine = get_engine("pico")
    if engine.missing():                          # None, or what is missing and how to install it
        ...
    out = engine.synthesize("turn on the lights", "en-GB", lang="en", speed=1.1, pitch=55)
    out.samples, out.sample_rate, out.phones, out.starts
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["Synthesis", "SynthItem", "Engine", "ENGINES", "EngineMissing", "get_engine", "split_voices",
           "available_engines"]

# name -> module (imported on first use: an engine's module costs nothing until asked for)
ENGINES: dict[str, str] = {
    "espeak": "asr.data.engines.espeak",
    "mbrola": "asr.data.engines.mbrola",
    "pico": "asr.data.engines.pico",
    "festival": "asr.data.engines.festival",
}


class EngineMissing(ValueError):
    """An engine (or one of its voices) is not installed; the message names the package that provides it."""


@dataclass
class Synthesis:
    """One synthesized utterance.

    Attributes:
        samples: ``(S,)`` int16 PCM.
        sample_rate: of ``samples`` (the engine's own; the corpus resamples to 16 kHz).
        phones, starts: each phone the engine reports and its start in seconds (empty where it cannot tell).
    """

    samples: np.ndarray
    sample_rate: int
    phones: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class SynthItem:
    """What to say and how: the text, the voice (engine's name for it), language and prosody.

    ``speed`` is a factor (1.0: the engine's default rate), ``pitch`` and ``pitch_range``
    are on espeak-ng's 0..100 scale (50 = the voice's own); engines map them to their
    controls or ignore what they lack. ``seed`` feeds engines with a noise source.
    """

    text: str
    voice: str
    lang: str
    speed: float = 1.0
    pitch: int = 50
    pitch_range: int = 50
    seed: int = 0


class Engine(Protocol):
    """A synthesizer (see the module docstring)."""

    name: str
    packages: str  # what provides it, for the error message ("Debian: mbrola mbrola-us1 ...")
    stateless: bool  # the same request always gives the same samples (espeak-ng: only in a fresh process)

    def missing(self) -> str | None:
        """``None`` when the engine works here, else what is missing and how to install it."""
        ...

    def voices(self, lang: str) -> tuple[str, ...]:
        """The installed voices that speak ``lang`` (sorted; empty: none)."""
        ...

    def synthesize_many(self, items: Sequence[SynthItem]) -> list[Synthesis]:
        """Render several utterances (engines with a costly start-up render them in one process)."""
        ...


def get_engine(name: str) -> Engine:
    """The engine registered as ``name``.

    Raises:
        ValueError: no such engine (the known ones are named).
    """
    if name not in ENGINES:
        raise ValueError(f"unknown synthesis engine {name!r}; known: {', '.join(ENGINES)}")
    return importlib.import_module(ENGINES[name]).ENGINE


def available_engines() -> dict[str, str | None]:
    """Every registered engine -> ``None`` if it works here, else what is missing."""
    return {name: get_engine(name).missing() for name in ENGINES}


def split_voices(voices: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Disjoint voices per split from an engine's voices in one language (sorted input).

    Test takes the first voice, dev the second (with fewer than three voices dev and
    test share the first), train the rest; an engine with one or two voices in a
    language therefore has no (or one) training voice there.
    """
    v = tuple(voices)
    if not v:
        return {"train": (), "dev": (), "test": ()}
    test = v[:1]
    dev = v[1:2] if len(v) >= 3 else test
    train = tuple(x for x in v if x not in test and x not in dev)
    return {"train": train, "dev": dev, "test": test}


def check_pcm(samples: np.ndarray, what: str) -> np.ndarray:
    """``samples`` as a 1-D int16 array, or a RuntimeError naming ``what`` when there is no audio."""
    x = np.asarray(samples).reshape(-1)
    if x.size == 0:
        raise RuntimeError(f"{what}: the engine produced no audio")
    return x.astype(np.int16, copy=False)
