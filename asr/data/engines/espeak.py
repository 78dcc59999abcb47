"""espeak-ng (formant synthesis) in process, through the espeakng-loader wheel: the default engine.

Voices are espeak-ng voice names with a variant (``en-us+m3``); prosody maps to
espeak-ng's rate (words per minute, 175 at speed 1), pitch and pitch range. Phone
start times come from espeak-ng's phoneme events. libespeak-ng keeps state
between utterances, so :mod:`asr.data.synth` renders fixed shards in fresh
processes for reproducible output; its noise source is seeded per utterance.
"""

from __future__ import annotations

from collections.abc import Sequence

from asr.data.engines import Synthesis, SynthItem, check_pcm
from asr.espeak import ESPEAK_VOICES, get_espeak, list_variants

BASE_RATE_WPM = 175  # espeak-ng's default speaking rate: speed 1.0


class EspeakEngine:
    """espeak-ng through libespeak-ng (see the module docstring)."""

    name = "espeak"
    stateless = False  # libespeak-ng keeps state between utterances: repeatable only in a fresh process
    packages = "pip: espeakng-loader (a dependency of asr)"

    def missing(self) -> str | None:
        """Always available: the library ships in a wheel."""
        return None

    def voices(self, lang: str) -> tuple[str, ...]:
        """``<language voice>+<variant>`` for every espeak-ng variant."""
        base = ESPEAK_VOICES.get(lang)
        return tuple(f"{base}+{v}" for v in list_variants()) if base else ()

    def synthesize_many(self, items: Sequence[SynthItem]) -> list[Synthesis]:
        """Render each item with the process's one synthesizer, its noise seeded by ``item.seed``."""
        tts = get_espeak()
        out = []
        for it in items:
            tts.set_voice(it.voice)
            tts.set_params(rate=round(BASE_RATE_WPM * it.speed), pitch=it.pitch, pitch_range=it.pitch_range)
            pcm, events = tts.synthesize(it.text, seed=it.seed)
            out.append(Synthesis(check_pcm(pcm, f"espeak-ng {it.voice}: {it.text!r}"), tts.sample_rate,
                                 [e.phone for e in events], [e.start for e in events]))
        return out


ENGINE = EspeakEngine()
