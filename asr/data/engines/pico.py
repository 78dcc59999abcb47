"""SVOX Pico (en-US, en-GB, de-DE, es-ES, fr-FR, it-IT) through ``pico2wave``.

One ``pico2wave`` call per utterance (fast, deterministic); speed and pitch go in
as Pico's text markup (``<speed level="...">``, ``<pitch level="...">``, 100 = the
voice's own). Pico reports no phone times. Needs Debian's ``libttspico-utils``
(non-free: ``tools/install_voices.sh``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from asr.audio import read_pcm16
from asr.data.engines import Synthesis, SynthItem, check_pcm

LANG_DIR = Path("/usr/share/pico/lang")
LANG_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-GB", "en-US"), "de": ("de-DE",), "es": ("es-ES",), "fr": ("fr-FR",), "it": ("it-IT",)}
TIMEOUT_S = 60


def markup(text: str, speed: float, pitch: int) -> str:
    """Pico's prosody markup around ``text``: speed in percent, pitch 50..100 mapped to 75..125 %."""
    return (f'<speed level="{round(100 * speed)}"><pitch level="{round(100 + (pitch - 50) / 2)}">'
            f"{escape(text)}</pitch></speed>")


class PicoEngine:
    """SVOX Pico (see the module docstring)."""

    name = "pico"
    stateless = True  # the same request always gives the same samples
    packages = "Debian (non-free): libttspico-utils; run tools/install_voices.sh"

    def missing(self) -> str | None:
        """``None`` when ``pico2wave`` and its language files are installed."""
        if shutil.which("pico2wave") is None:
            return f"pico: pico2wave not found ({self.packages})"
        return None

    def voices(self, lang: str) -> tuple[str, ...]:
        """Pico's voices of ``lang`` whose language files are installed."""
        return tuple(v for v in LANG_VOICES.get(lang, ()) if any(LANG_DIR.glob(f"{v}_*.bin")))

    def synthesize_many(self, items: Sequence[SynthItem]) -> list[Synthesis]:
        """One ``pico2wave`` run per item (it writes a .wav file, read back here)."""
        out = []
        with tempfile.TemporaryDirectory(prefix="asr-pico-") as tmp:
            wav = Path(tmp) / "out.wav"
            for it in items:
                subprocess.run(["pico2wave", "-l", it.voice, "-w", str(wav), markup(it.text, it.speed, it.pitch)],
                               capture_output=True, timeout=TIMEOUT_S, check=True)
                samples, rate = read_pcm16(wav)
                out.append(Synthesis(check_pcm(samples, f"pico {it.voice}: {it.text!r}"), rate))
        return out


ENGINE = PicoEngine()
