"""A ctypes binding to libespeak-ng, shipped by the ``espeakng-loader`` wheel.

Two uses in asr: speech synthesis with phoneme timings (the synthetic corpus,
:mod:`asr.data.synth`) and grapheme-to-phoneme conversion (lexicons,
:mod:`asr.text.g2p`). No system install of espeak-ng is needed.

libespeak-ng keeps global state, so there is one synthesizer per process
(:func:`get_espeak`); run generation in parallel with processes, not threads.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Espeak", "PhoneEvent", "get_espeak", "list_variants", "ESPEAK_VOICES"]

# espeak_AUDIO_OUTPUT / espeak_EVENT_TYPE / espeak_PARAMETER values from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_INIT_PHONEME_EVENTS = 0x0001
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_PHONEMES_IPA = 0x02

# asr language code -> espeak-ng voice name
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us",
    "es": "es",
    "de": "de",
    "fr": "fr",
    "it": "it",
    "sw": "sw",
    "pt": "pt",
    "nl": "nl",
    "pl": "pl",
    "ru": "ru",
    "tr": "tr",
    "fi": "fi",
    "sv": "sv",
    "cs": "cs",
    "ro": "ro",
    "id": "id",
}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of the synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class PhoneEvent:
    """One phoneme as espeak-ng spoke it: its mnemonic and start time in seconds."""

    phone: str
    start: float


class Espeak:
    """The process's espeak-ng synthesizer. Use :func:`get_espeak`."""

    def __init__(self) -> None:
        import espeakng_loader

        self.data_path = Path(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), _INIT_PHONEME_EVENTS
        )
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialize with data at {self.data_path}")
        self.sample_rate = int(rate)  # 22050 Hz
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[PhoneEvent] = []
        self._cb = _SynthCallback(self._on_audio)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._cb)
        self._voice: str | None = None
        self._lock = threading.Lock()

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_PHONEME:
                name = ev.id.string.decode("utf-8", "replace")
                self._events.append(PhoneEvent(name, ev.audio_position / 1000.0))
            i += 1
        return 0  # 0 = continue synthesis

    def set_voice(self, name: str) -> None:
        """Select a voice, optionally with a variant: ``"en-us"``, ``"de+m3"``."""
        if name == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {name!r}")
        self._voice = name

    def set_params(self, rate: int = 175, pitch: int = 50, pitch_range: int = 50, volume: int = 100) -> None:
        """Speaking rate in words per minute (80..450), pitch and range (0..100), volume (0..200)."""
        for param, value in ((_PARAM_RATE, rate), (_PARAM_PITCH, pitch), (_PARAM_RANGE, pitch_range), (_PARAM_VOLUME, volume)):
            self._lib.espeak_SetParameter(param, int(value), 0)

    def synthesize(self, text: str, seed: int = 0) -> tuple[np.ndarray, list[PhoneEvent]]:
        """Speak ``text`` with the current voice and parameters.

        ``seed`` seeds espeak-ng's noise source (breathy and Klatt voices); it
        otherwise seeds itself from the clock. The process's earlier utterances
        still leave state behind (pitch flutter phase), so for byte-identical
        output render a fixed sequence of utterances in a fresh process.

        Returns:
            ``(T,)`` int16 samples at :attr:`sample_rate`, and the phoneme events
            (mnemonic, start in seconds) in the order spoken.
        """
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            self._chunks, self._events = [], []
            self._lib.espeak_ng_SetRandSeed(seed % (1 << 31))
            buf = ctypes.create_string_buffer(data)
            err = self._lib.espeak_Synth(buf, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if err != 0:
                raise RuntimeError(f"espeak-ng failed to synthesize {text!r} (error {err})")
            wav = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return wav, self._events

    def phonemize(self, text: str, voice: str, ipa: bool = True, separator: str = " ") -> str:
        """Phonemes of ``text`` in ``voice``'s language, phones split by ``separator``.

        Clauses are joined by a single space; with ``separator=" "`` words are
        therefore not distinguishable, so phonemize one word at a time for a lexicon.
        """
        mode = (_PHONEMES_IPA if ipa else 0) | (ord(separator) << 8 if separator else 0)
        with self._lock:
            self.set_voice(voice)
            buf = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
            ptr = ctypes.c_void_p(ctypes.addressof(buf))
            parts: list[str] = []
            while ptr.value:
                out = self._lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, mode)
                if out:
                    parts.append(out.decode("utf-8", "replace").strip())
            return " ".join(p for p in parts if p)


_INSTANCE: Espeak | None = None
_INSTANCE_PID: int | None = None


def get_espeak() -> Espeak:
    """The process-wide synthesizer (made on first use, and anew after a fork)."""
    global _INSTANCE, _INSTANCE_PID
    if _INSTANCE is None or _INSTANCE_PID != os.getpid():
        _INSTANCE, _INSTANCE_PID = Espeak(), os.getpid()
    return _INSTANCE


def list_variants() -> list[str]:
    """Names of the voice variants shipped with espeak-ng (``voices/!v``), sorted."""
    import espeakng_loader

    vdir = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    return sorted(p.name for p in vdir.iterdir() if p.is_file())
