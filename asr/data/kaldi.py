"""Kaldi data directories <-> :class:`~asr.data.manifest.Utterance` lists.

A Kaldi data directory holds one table per file, each line ``key value...``:

* ``wav.scp``   ``rec_id path`` (the whole rest of the line is the path)
* ``text``      ``utt_id word word ...`` (the transcript may be empty)
* ``utt2spk``   ``utt_id spk_id`` (optional here; speaker defaults to utt id)
* ``segments``  ``utt_id rec_id start end`` in seconds (optional: without it
  every ``wav.scp`` entry is one utterance and rec_id == utt_id)
* ``utt2dur``   ``utt_id seconds`` (optional; otherwise read from audio headers)
* ``spk2utt``   ``spk_id utt_id ...`` (written on export, ignored on import)

Piped entries in ``wav.scp`` (``sph2pipe -f wav x.sph |``) are rejected: asr
does not run shell pipelines; convert the audio to files first.
Relative paths in ``wav.scp`` are resolved like Kaldi does, against the
directory the scripts run in (``audio_root``, default the current directory).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from asr import audio
from asr.data.manifest import ManifestError, Utterance, speakers

__all__ = ["read_kaldi_dir", "write_kaldi_dir"]

log = logging.getLogger(__name__)


def _read_table(path: Path, min_fields: int, max_fields: int | None = None) -> dict[str, tuple[int, list[str]]]:
    """Read a Kaldi table: key -> (line number, remaining fields).

    ``min_fields`` / ``max_fields`` bound the number of whitespace-separated
    fields after the key (``None``: no upper bound). Duplicate keys are errors.
    """
    table: dict[str, tuple[int, list[str]]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            key, *rest = line.split()
            if len(rest) < min_fields or (max_fields is not None and len(rest) > max_fields):
                want = f"{min_fields}" if max_fields == min_fields else f"at least {min_fields}"
                raise ManifestError(path, lineno, f"expected key and {want} field(s), got {line!r}")
            if key in table:
                raise ManifestError(path, lineno, f"duplicate key {key!r} (first on line {table[key][0]})")
            table[key] = (lineno, rest)
    return table


def _read_wav_scp(path: Path, audio_root: Path) -> dict[str, tuple[int, str]]:
    """``wav.scp`` -> rec_id -> (line number, absolute audio path)."""
    table: dict[str, tuple[int, str]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise ManifestError(path, lineno, f"expected 'recording-id path', got {line!r}")
            key, value = parts
            if value.endswith("|"):
                raise ManifestError(
                    path,
                    lineno,
                    f"piped command for {key!r} is not supported ({value!r}); "
                    "asr does not run shell pipelines, convert the audio to files first",
                )
            if key in table:
                raise ManifestError(path, lineno, f"duplicate key {key!r} (first on line {table[key][0]})")
            if not os.path.isabs(value):
                value = os.path.normpath(os.path.join(audio_root, value))
            table[key] = (lineno, value)
    return table


def _float_field(path: Path, lineno: int, name: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ManifestError(path, lineno, f"{name} must be a number, got {value!r}") from None
    if not x >= 0:
        raise ManifestError(path, lineno, f"{name} must be >= 0, got {value!r}")
    return x


def read_kaldi_dir(
    data_dir: str | os.PathLike,
    lang: str,
    audio_root: str | os.PathLike | None = None,
    skip_bad_audio: bool = False,
) -> list[Utterance]:
    """Import a Kaldi data directory.

    Args:
        data_dir: directory with ``wav.scp`` (required), ``text``, ``utt2spk``,
            ``segments``, ``utt2dur`` (all optional).
        lang: language code given to every utterance.
        audio_root: base for relative ``wav.scp`` paths (default: the current
            directory, as in Kaldi recipes).
        skip_bad_audio: when a duration must be read from a missing or
            undecodable file, log a warning and drop the utterance instead of
            raising.

    Returns:
        Utterances sorted by id. With ``segments``, each has ``offset`` set and
        ``extra["recording"]`` holding its recording id.

    Raises:
        ManifestError: a malformed line (file and line named), a piped
            ``wav.scp`` entry, or keys that do not match across files.
        audio.AudioError: a duration had to be read from a bad audio file
            and ``skip_bad_audio`` is false.
    """
    d = Path(data_dir)
    root = Path(audio_root) if audio_root is not None else Path.cwd()
    wav_path = d / "wav.scp"
    if not wav_path.is_file():
        raise ManifestError(wav_path, None, "missing: a Kaldi data directory needs wav.scp")
    wavs = _read_wav_scp(wav_path, root)

    # utt_id -> (audio path, offset or None, duration or None, recording id)
    entries: dict[str, tuple[str, float | None, float | None, str]] = {}
    seg_path = d / "segments"
    if seg_path.is_file():
        for utt_id, (lineno, (rec, start_s, end_s)) in _read_table(seg_path, 3, 3).items():
            if rec not in wavs:
                raise ManifestError(seg_path, lineno, f"recording {rec!r} of {utt_id!r} is not in {wav_path}")
            start = _float_field(seg_path, lineno, "start", start_s)
            end = _float_field(seg_path, lineno, "end", end_s)
            if end <= start:
                raise ManifestError(seg_path, lineno, f"end {end_s} must be greater than start {start_s}")
            entries[utt_id] = (wavs[rec][1], start, end - start, rec)
    else:
        entries = {k: (p, None, None, k) for k, (_, p) in wavs.items()}

    def lookup(name: str, min_fields: int, max_fields: int | None) -> dict[str, tuple[int, list[str]]]:
        p = d / name
        if not p.is_file():
            return {}
        table = _read_table(p, min_fields, max_fields)
        for key, (lineno, _) in table.items():
            if key not in entries:
                src = "segments" if seg_path.is_file() else "wav.scp"
                raise ManifestError(p, lineno, f"utterance {key!r} has no entry in {d / src}")
        return table

    texts = lookup("text", 0, None)
    utt2spk = lookup("utt2spk", 1, 1)
    utt2dur = lookup("utt2dur", 1, 1)
    if (d / "text").is_file():
        missing = sorted(set(entries) - set(texts))
        if missing:
            problem = f"{len(missing)} utterance(s) have no transcript, e.g. {missing[0]!r}"
            raise ManifestError(d / "text", None, problem)

    utts: list[Utterance] = []
    for utt_id in sorted(entries):
        path, offset, duration, rec = entries[utt_id]
        if duration is None and utt_id in utt2dur:
            lineno, (value,) = utt2dur[utt_id]
            duration = _float_field(d / "utt2dur", lineno, "duration", value)
        if duration is None:
            try:
                duration = audio.info(path).duration
            except audio.AudioError as e:
                if not skip_bad_audio:
                    raise
                log.warning("skipping utterance %s: %s", utt_id, e)
                continue
        utts.append(
            Utterance(
                id=utt_id,
                audio=path,
                duration=duration,
                text=" ".join(texts[utt_id][1]) if utt_id in texts else "",
                lang=lang,
                speaker=utt2spk[utt_id][1][0] if utt_id in utt2spk else utt_id,
                offset=offset,
                extra={"recording": rec} if offset is not None else {},
            )
        )
    return utts


def _recording_ids(utts: Sequence[Utterance]) -> dict[str, str]:
    """Audio path -> recording id: ``extra["recording"]`` when given, else the
    file stem (made unique with a numeric suffix)."""
    rec_of: dict[str, str] = {}
    path_of: dict[str, str] = {}
    for u in utts:
        rec = u.extra.get("recording")
        if rec is None:
            continue
        if rec_of.setdefault(u.audio, rec) != rec:
            raise ValueError(f"{u.audio} has two recording ids: {rec_of[u.audio]!r} and {rec!r}")
        if path_of.setdefault(rec, u.audio) != u.audio:
            raise ValueError(f"recording id {rec!r} names two files: {path_of[rec]} and {u.audio}")
    for u in utts:
        if u.audio in rec_of:
            continue
        stem, n = Path(u.audio).stem, 1
        rec = stem
        while rec in path_of:
            n += 1
            rec = f"{stem}-{n}"
        rec_of[u.audio] = rec
        path_of[rec] = u.audio
    return rec_of


def _seconds(x: float) -> str:
    """Seconds with microsecond precision and no trailing zeros: 1.5 -> '1.5'."""
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _write_lines(path: Path, lines: list[str]) -> None:
    """Write sorted ``lines`` atomically (Kaldi needs C-locale sorted keys)."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in sorted(lines))
    os.replace(tmp, path)


def write_kaldi_dir(data_dir: str | os.PathLike, utts: Sequence[Utterance]) -> None:
    """Export utterances as a Kaldi data directory.

    Writes ``wav.scp`` (absolute paths), ``text``, ``utt2spk``, ``spk2utt`` and
    ``utt2dur``, every file sorted by key. When any utterance has an
    ``offset`` or two utterances share an audio file, ``segments`` is written
    too and ``wav.scp`` lists recordings instead of utterances.
    Stale ``segments`` from an earlier export are removed.

    Raises:
        ValueError: duplicate utterance ids, or utterance / speaker ids
            containing whitespace (Kaldi keys cannot).
    """
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    ids = [u.id for u in utts]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{d}: duplicate utterance ids")
    for u in utts:
        if any(c.isspace() for c in u.id + u.speaker):
            raise ValueError(f"{d}: utterance {u.id!r} / speaker {u.speaker!r} contains whitespace")
    texts = [f"{u.id} {' '.join(u.text.split())}".rstrip() for u in utts]
    _write_lines(d / "text", texts)
    _write_lines(d / "utt2spk", [f"{u.id} {u.speaker}" for u in utts])
    _write_lines(d / "spk2utt", [f"{s} {' '.join(sorted(us))}" for s, us in speakers(utts).items()])
    _write_lines(d / "utt2dur", [f"{u.id} {_seconds(u.duration)}" for u in utts])

    shared = len({u.audio for u in utts}) != len(utts)
    if shared or any(u.offset is not None for u in utts):
        rec_of = _recording_ids(utts)
        wav_lines = {f"{rec} {os.path.abspath(path)}" for path, rec in rec_of.items()}
        _write_lines(d / "wav.scp", list(wav_lines))
        _write_lines(
            d / "segments",
            [
                f"{u.id} {rec_of[u.audio]} {_seconds(u.offset or 0.0)} {_seconds(u.end)}"
                for u in utts
            ],
        )
    else:
        _write_lines(d / "wav.scp", [f"{u.id} {os.path.abspath(u.audio)}" for u in utts])
        (d / "segments").unlink(missing_ok=True)
