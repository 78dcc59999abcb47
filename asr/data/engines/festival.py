"""festival diphone voices that are not built from the CMU ARCTIC recordings.

English: ``rab_diphone`` (British male), ``don_diphone`` (British male, 10 kHz);
Spanish: ``el_diphone``; Italian: ``lp_diphone``, ``pc_diphone``. Reserved and never
listed here: kal, ked, slt, awb, rms (CMU ARCTIC or CMU's own recordings, kept as an
independent check). festival starts slowly (about half a second), so a batch of
utterances is rendered by one ``festival`` process running a generated Scheme
script; speed maps to ``Duration_Stretch`` (pitch is left to the voice). No phone
times are read back. festival reads its script as ISO-8859-1: the text is written in
that encoding (a UTF-8 "è" stops the Italian letter-to-sound rules); characters outside it
lose their accents or are dropped. Needs Debian's ``festival`` and ``festvox-*`` packages
(``tools/install_voices.sh``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from asr.audio import read_pcm16
from asr.data.engines import EngineMissing, Synthesis, SynthItem, check_pcm

VOICE_ROOT = Path("/usr/share/festival/voices")
LANG_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("don_diphone", "rab_diphone"), "es": ("el_diphone",), "it": ("lp_diphone", "pc_diphone")}
PACKAGES = {"don_diphone": "festvox-don", "rab_diphone": "festvox-rablpc16k", "el_diphone": "festvox-ellpc11k",
            "lp_diphone": "festvox-italp16k", "pc_diphone": "festvox-itapc16k"}
TIMEOUT_S = 600


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def latin1(text: str) -> str:
    """``text`` in ISO-8859-1's repertoire: other characters without their accents (NFKD), or dropped."""
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            out.append("".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 256 and not unicodedata.combining(c)))
    return "".join(out)


class FestivalEngine:
    """festival in batch mode (see the module docstring)."""

    name = "festival"
    stateless = True  # the same request always gives the same samples
    packages = "Debian: festival festvox-rablpc16k festvox-don festvox-ellpc11k festvox-italp16k festvox-itapc16k"

    def missing(self) -> str | None:
        """``None`` when ``festival`` and at least one of the voices are installed."""
        if shutil.which("festival") is None:
            return f"festival: not found ({self.packages}; run tools/install_voices.sh)"
        if not any(self._installed(v) for vs in LANG_VOICES.values() for v in vs):
            return f"festival: none of its voices is installed ({self.packages})"
        return None

    @staticmethod
    def _installed(voice: str) -> bool:
        return any(VOICE_ROOT.glob(f"*/{voice}"))

    def voices(self, lang: str) -> tuple[str, ...]:
        """The installed voices of ``lang``."""
        return tuple(v for v in LANG_VOICES.get(lang, ()) if self._installed(v))

    def synthesize_many(self, items: Sequence[SynthItem]) -> list[Synthesis]:
        """All items in one festival process: a script that selects each voice, synthesizes, saves a wav."""
        if not items:
            return []
        for voice in {it.voice for it in items}:
            if not self._installed(voice):
                raise EngineMissing(f"festival voice {voice!r} is not installed (Debian: {PACKAGES.get(voice, '?')})")
        with tempfile.TemporaryDirectory(prefix="asr-festival-") as tmp:
            lines = []
            for i, it in enumerate(items):
                lines += [f"(voice_{it.voice})", f"(Parameter.set 'Duration_Stretch {1.0 / it.speed:.4f})",
                          f"(utt.save.wave (SynthText {_scheme_string(latin1(it.text))}) \"{tmp}/{i}.wav\" 'riff)"]
            script = Path(tmp) / "batch.scm"
            script.write_text("\n".join(lines) + "\n", encoding="latin-1")
            done = subprocess.run(["festival", "-b", str(script)], capture_output=True, timeout=TIMEOUT_S)
            if done.returncode != 0:
                err = done.stderr.decode("latin-1", "replace").strip().splitlines()
                raise RuntimeError(f"festival failed (exit {done.returncode}) on a batch of {len(items)} utterances "
                                   f"({sorted({it.voice for it in items})}): {' | '.join(err[-3:])}")
            out = []
            for i, it in enumerate(items):
                path = Path(tmp) / f"{i}.wav"
                if not path.is_file():
                    raise RuntimeError(f"festival {it.voice}: no audio for {it.text!r}")
                samples, rate = read_pcm16(path)
                out.append(Synthesis(check_pcm(samples, f"festival {it.voice}: {it.text!r}"), rate))
        return out


ENGINE = FestivalEngine()
