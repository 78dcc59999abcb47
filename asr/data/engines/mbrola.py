"""MBROLA diphone voices (recorded from real speakers), driven by espeak-ng's ``mb-*`` voices.

espeak-ng turns the text into MBROLA's ``.pho`` input (phones, durations in ms and
pitch targets) for the voice, ``mbrola`` renders it: two subprocesses per
utterance, both deterministic. Phone start times come from the ``.pho``
durations. Speed maps to espeak-ng's rate (175 words per minute at 1.0), pitch to
its pitch (0..100).

Needs Debian's ``espeak-ng`` (its data has the ``mb-*`` voice files), ``mbrola``
and one ``mbrola-<voice>`` package per voice (contrib / non-free:
``tools/install_voices.sh``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from asr.audio import read_pcm16
from asr.data.engines import EngineMissing, Synthesis, SynthItem, check_pcm

BASE_RATE_WPM = 175
VOICE_DIR = Path("/usr/share/mbrola")
# the MBROLA voices asr uses per language (espeak-ng voice mb-<name> drives each)
LANG_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en1", "us1", "us2", "us3"),
    "de": ("de1", "de2", "de4", "de6"),
    "es": ("es1", "es2", "es3"),
    "fr": ("fr1", "fr2", "fr4"),
    "it": ("it3", "it4"),
}
TIMEOUT_S = 60


def parse_pho(text: str) -> tuple[list[str], list[float], float]:
    """Phones, start times (s) and total length (s) of MBROLA ``.pho`` text (``phone duration_ms [pitch...]``)."""
    phones, starts, t = [], [], 0.0
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith(";"):
            continue
        phones.append(fields[0])
        starts.append(round(t, 4))
        t += float(fields[1]) / 1000.0
    return phones, starts, t


class MbrolaEngine:
    """MBROLA through espeak-ng's ``.pho`` output (see the module docstring)."""

    name = "mbrola"
    stateless = True  # the same request always gives the same samples
    packages = "Debian (contrib/non-free): espeak-ng mbrola mbrola-<voice>; run tools/install_voices.sh"

    def missing(self) -> str | None:
        """What is not installed, with the packages to install; ``None`` when usable."""
        lacking = [cmd for cmd in ("espeak-ng", "mbrola") if shutil.which(cmd) is None]
        if lacking:
            return f"mbrola: {' and '.join(lacking)} not found ({self.packages})"
        if not self._installed():
            return f"mbrola: no MBROLA voices under {VOICE_DIR} ({self.packages})"
        return None

    def _installed(self) -> set[str]:
        return {p.name for p in VOICE_DIR.glob("*") if (p / p.name).is_file()} if VOICE_DIR.is_dir() else set()

    def voices(self, lang: str) -> tuple[str, ...]:
        """The installed voices of ``lang`` among :data:`LANG_VOICES`."""
        have = self._installed()
        return tuple(sorted(v for v in LANG_VOICES.get(lang, ()) if v in have))

    def synthesize_many(self, items: Sequence[SynthItem]) -> list[Synthesis]:
        """Render each item (``espeak-ng --pho``, then ``mbrola`` into a file: its wav header needs a seekable output)."""
        with tempfile.TemporaryDirectory(prefix="asr-mbrola-") as tmp:
            return [self._one(it, Path(tmp) / "out.wav") for it in items]

    def _one(self, it: SynthItem, wav_path: Path) -> Synthesis:
        db = VOICE_DIR / it.voice / it.voice
        if not db.is_file():
            raise EngineMissing(f"mbrola voice {it.voice!r} is not installed (Debian: mbrola-{it.voice})")
        pho = subprocess.run(["espeak-ng", "-q", "--pho", "-v", f"mb-{it.voice}", "-s", str(round(BASE_RATE_WPM * it.speed)),
                              "-p", str(it.pitch), it.text], capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
        subprocess.run(["mbrola", "-e", str(db), "-", str(wav_path)], input=pho.stdout.encode(), capture_output=True,
                       timeout=TIMEOUT_S, check=True)
        samples, rate = read_pcm16(wav_path)
        phones, starts, _ = parse_pho(pho.stdout)
        return Synthesis(check_pcm(samples, f"mbrola {it.voice}: {it.text!r}"), rate, phones, starts)


ENGINE = MbrolaEngine()
