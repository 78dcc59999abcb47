"""The embedded default corpus: multilingual synthetic speech made with espeak-ng.

Usage:
    asr synth OUT --langs en,es,de,fr,it,sw --hours 0.5 --seed 0

Writes, for each language ``xx``::

    OUT/xx/{train,dev,test}.jsonl      manifests (id, audio, duration, text, lang, speaker)
    OUT/xx/{train,dev,test}.align.jsonl  espeak-ng's own phoneme start times per utterance
    OUT/xx/wav/<split>/<id>.wav        16 kHz mono PCM-16
    OUT/xx/lexicon.txt                 espeak-ng IPA phones for every word of the corpus
    OUT/xx/speakers.jsonl              each speaker's engine, voice, pitch, rate and gain
    OUT/corpus.json                    the options and per-split statistics

Speakers are voices of the synthesis engines (``--engines``, :mod:`asr.data.engines`;
default espeak-ng alone: its voice variants such as ``en-us+m3``; MBROLA, SVOX Pico
and festival voices when installed) combined with a base pitch, pitch range,
speaking rate and gain; every utterance then varies rate (speed 0.8 to 1.25
overall) and pitch a little, and gets additive noise at a random SNR and, for
some, simple reverberation. Dev and test speakers use voices that no training
speaker uses, within every engine, so test voices are never heard in training.
``speakers.jsonl`` records each speaker's engine, voice and prosody.

The output is a pure function of the options: the same seed gives byte-identical
files, whatever the number of worker processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing as mp
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from asr.audio import SAMPLE_RATE, save_audio
from asr.data import augment
from asr.data.engines import EngineMissing, Synthesis, SynthItem, get_engine, split_voices
from asr.espeak import ESPEAK_VOICES, list_variants

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
DEFAULT_LANGS = ("en", "es", "de", "fr", "it", "sw")
SPEED_RANGE = (0.8, 1.25)  # overall speed factor of an utterance
# Variants left out of the pool: whispered (no voicing), novelty effects, a name with a space.
EXCLUDED_VARIANTS = frozenset({"whisper", "whisperf", "Demonic", "UniRobot", "anikaRobot", "Tweaky", "Mr serious"})
HELD_OUT_EVERY = 4  # every 4th variant (sorted) is kept for dev/test speakers only
SHARD_SIZE = 32  # utterances rendered in one fresh process
TELEPHONE_CODECS = ("ulaw", "alaw", "gsm")
FORMAT_VERSION = 1  # bump when the output for a given seed changes


# Reverberation of SynthConfig.reverb_prob's share: "decay", a direct path and exponentially decaying
# noise (no geometry); "image", image-method impulse responses of random shoebox rooms at the same RT60
# (asr.data.augment.room_impulse_response: pyroomacoustics, pip install 'asr[augment]').
ROOM_MODELS = ("decay", "image")
# Options added after corpora were first made, with their defaults: left out of corpus.json when at them.
LATER_DEFAULTS = {"room_model": "decay", "babble_prob": 0.0, "babble_snr_db": [5.0, 20.0], "babble_talkers": [3, 6]}


@dataclass(frozen=True)
class SynthConfig:
    """Everything that determines the corpus (saved as ``OUT/corpus.json``)."""

    langs: tuple[str, ...] = DEFAULT_LANGS
    hours: float = 0.5  # audio per language, all splits together
    seed: int = 0
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    min_utts_per_split: int = 4
    train_speakers: int = 24
    dev_speakers: int = 4
    test_speakers: int = 6
    noise_prob: float = 0.8  # share of utterances with additive noise
    snr_db: tuple[float, float] = (5.0, 30.0)
    reverb_prob: float = 0.3
    rt60_s: tuple[float, float] = (0.15, 0.5)
    engines: tuple[str, ...] = ("espeak",)  # synthesis engines (asr.data.engines); speakers spread over them
    vtlp_prob: float = 0.0  # share of utterances with vocal tract length perturbation (asr.data.augment.vtlp)
    vtlp_range: tuple[float, float] = (0.9, 1.1)  # its warp factor
    telephone_prob: float = 0.0  # share through a telephone channel (8 kHz, mu-law / A-law / GSM 6.10)
    room_model: str = "decay"  # reverberation: "decay" (direct path + decaying noise) or "image" (ROOM_MODELS)
    babble_prob: float = 0.0  # share with babble: other talkers of the same shard in the background
    babble_snr_db: tuple[float, float] = (5.0, 20.0)  # speech over babble
    babble_talkers: tuple[int, int] = (3, 6)  # other utterances summed
    train_texts: str = ""  # a UTF-8 file, one sentence a line: the train split says these instead of generated ones
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.room_model not in ROOM_MODELS:
            raise ValueError(f"room_model {self.room_model!r}: not one of {list(ROOM_MODELS)}")
        lo, hi = self.babble_talkers
        if not 1 <= lo <= hi:
            raise ValueError(f"babble_talkers {self.babble_talkers}: need 1 <= min <= max")

    def to_dict(self) -> dict:
        """The options as JSON values (``corpus.json``); ``train_texts`` only when set, with its file's hash."""
        d = asdict(self)
        d["langs"], d["snr_db"], d["rt60_s"] = list(self.langs), list(self.snr_db), list(self.rt60_s)
        d["engines"], d["vtlp_range"] = list(self.engines), list(self.vtlp_range)
        d["babble_snr_db"], d["babble_talkers"] = list(self.babble_snr_db), list(self.babble_talkers)
        for key, default in LATER_DEFAULTS.items():  # corpora made before these options keep their corpus.json
            if d[key] == default:
                del d[key]
        if self.train_texts:
            d["train_texts_sha1"] = hashlib.sha1(Path(self.train_texts).read_bytes()).hexdigest()
        else:
            del d["train_texts"]  # corpora made before the option keep their corpus.json
        return d


def read_texts(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a text file (``SynthConfig.train_texts``), stripped.

    Raises:
        ValueError: the file holds no text (the message names it).
    """
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError(f"{path}: no sentences (train_texts wants one sentence a line)")
    return lines


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: an engine's voice and its habitual prosody."""

    id: str
    lang: str
    voice: str  # the engine's voice: espeak-ng "en-us+m3", MBROLA "us1", Pico "en-GB", festival "rab_diphone"
    pitch: int  # espeak pitch 0..100 (base)
    pitch_range: int  # 0..100
    speed: float  # habitual speed factor
    gain_db: float  # habitual loudness
    engine: str = "espeak"


@dataclass(frozen=True)
class UttSpec:
    """Everything needed to render one utterance, decided before any audio exists."""

    id: str
    lang: str
    split: str
    text: str
    speaker: Speaker
    speed: float
    pitch: int
    gain_db: float
    lead_s: float  # silence before speech
    tail_s: float  # silence after speech
    snr_db: float | None  # None: no noise
    noise_color: float  # spectral slope exponent: 0 white, 1 pink, 2 brown
    rt60_s: float | None  # None: no reverberation
    seed: int  # for noise and room response
    wav_path: str  # relative to the language directory
    vtlp_alpha: float | None = None  # None: no vocal tract length perturbation
    codec: str | None = None  # telephone channel codec (asr.data.augment.telephone); None: none
    room_model: str = "decay"  # how rt60_s is made (ROOM_MODELS)
    babble_snr_db: float | None = None  # None: no babble
    babble_talkers: int = 0  # other utterances of the shard summed into the babble


@dataclass
class Rendered:
    """What a worker returns for one utterance."""

    id: str
    duration: float
    phones: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    speech_end: float = 0.0


def _derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any printable parts (not Python's salted hash)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def voice_pools() -> dict[str, tuple[str, ...]]:
    """Variant names per split: train's pool is disjoint from dev's and test's."""
    variants = [v for v in list_variants() if v not in EXCLUDED_VARIANTS]
    held = variants[::HELD_OUT_EVERY]
    train = tuple(v for v in variants if v not in held)
    return {"train": train, "dev": tuple(held[1::2]), "test": tuple(held[0::2])}


def _speaker(rng: random.Random, sid: str, lang: str, voice: str, engine: str) -> Speaker:
    return Speaker(id=sid, lang=lang, voice=voice, pitch=rng.randint(25, 75), pitch_range=rng.randint(30, 80),
                   speed=round(rng.uniform(0.9, 1.12), 3), gain_db=round(rng.uniform(-12.0, -3.0), 2), engine=engine)


def make_speakers(lang: str, split: str, count: int, seed: int, engines: tuple[str, ...] = ("espeak",)) -> list[Speaker]:
    """``count`` speakers of ``lang`` for ``split``, deterministic from ``seed``, spread over ``engines``.

    Speaker ``k`` goes to the ``k``-th engine (cyclically) among those with a voice for
    ``split`` in ``lang`` (:func:`asr.data.engines.split_voices`; espeak-ng: :func:`voice_pools`).
    With espeak-ng alone the speakers are those of the espeak-only corpus.
    """
    pools = {}
    for name in engines:
        pool = list(voice_pools()[split]) if name == "espeak" else list(split_voices(get_engine(name).voices(lang))[split])
        if pool:
            pools[name] = pool
    if not pools:
        raise ValueError(f"no engine among {list(engines)} has a {split} voice for {lang!r}")
    names = list(pools)
    share = {n: len(range(i, count, len(names))) for i, n in enumerate(names)}
    speakers: list[Speaker] = []
    for name in names:
        tag = "" if name == "espeak" else f"{name}-"
        rng = random.Random(_derive_seed(seed, "speakers", lang, split) if name == "espeak"
                            else _derive_seed(seed, "speakers", lang, split, name))
        pool = pools[name]
        rng.shuffle(pool)
        base = ESPEAK_VOICES[lang] if name == "espeak" else ""
        for k in range(share[name]):
            variant = pool[k % len(pool)]
            speakers.append(_speaker(rng, f"{lang}-{split}-{tag}{k:03d}", lang,
                                     f"{base}+{variant}" if name == "espeak" else variant, name))
    return speakers


# Characters espeak-ng speaks per second at speed 1 (measured on the generated corpus).
CHARS_PER_SECOND = {"en": 18.5, "de": 18.5, "es": 17.5, "fr": 22.0, "it": 17.5, "sw": 14.0}


def _estimate_seconds(text: str, lang: str, speed: float, lead: float, tail: float) -> float:
    """Rough spoken length of ``text``, used to plan a split's size before rendering."""
    return lead + tail + 0.15 + len(text) / (CHARS_PER_SECOND.get(lang, 17.0) * speed)


def plan_split(cfg: SynthConfig, lang: str, split: str, speakers: list[Speaker]) -> list[UttSpec]:
    """Decide every utterance of one split before rendering (this is what makes it deterministic)."""
    from asr.data.sentences import SentenceGenerator

    fraction = {"dev": cfg.dev_fraction, "test": cfg.test_fraction}.get(split, 1 - cfg.dev_fraction - cfg.test_fraction)
    target = cfg.hours * 3600 * fraction
    gen = SentenceGenerator(lang)
    rng = random.Random(_derive_seed(cfg.seed, "plan", lang, split))
    aug_rng = random.Random(_derive_seed(cfg.seed, "augment", lang, split))
    given = read_texts(cfg.train_texts) if cfg.train_texts and split == "train" else []
    order: list[int] = []
    specs: list[UttSpec] = []
    total = 0.0
    while total < target or len(specs) < cfg.min_utts_per_split:
        i = len(specs)
        spk = speakers[rng.randrange(len(speakers))]
        if given:  # every sentence once per round, rounds in fresh orders
            if not order:
                order = list(range(len(given)))
                rng.shuffle(order)
            text = given[order.pop()]
        else:
            text = gen.sample(rng, split)
        speed = min(max(spk.speed * rng.uniform(0.9, 1.1), SPEED_RANGE[0]), SPEED_RANGE[1])
        lead, tail = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4)
        uid = f"{spk.id}-{i:06d}"
        specs.append(
            UttSpec(
                id=uid,
                lang=lang,
                split=split,
                text=text,
                speaker=spk,
                speed=round(speed, 4),
                pitch=min(100, max(0, spk.pitch + rng.randint(-6, 6))),
                gain_db=round(spk.gain_db + rng.uniform(-3, 3), 2),
                lead_s=round(lead, 3),
                tail_s=round(tail, 3),
                snr_db=round(rng.uniform(*cfg.snr_db), 2) if rng.random() < cfg.noise_prob else None,
                noise_color=rng.choice((0.0, 1.0, 1.0, 2.0)),
                rt60_s=round(rng.uniform(*cfg.rt60_s), 3) if rng.random() < cfg.reverb_prob else None,
                room_model=cfg.room_model,
                seed=_derive_seed(cfg.seed, "utt", uid),
                wav_path=f"wav/{split}/{uid}.wav",
            )
        )
        if cfg.vtlp_prob or cfg.telephone_prob:  # a generator of their own: texts and speakers stay as without
            alpha = round(aug_rng.uniform(*cfg.vtlp_range), 4) if aug_rng.random() < cfg.vtlp_prob else None
            codec = aug_rng.choice(TELEPHONE_CODECS) if aug_rng.random() < cfg.telephone_prob else None
            specs[-1] = dataclasses.replace(specs[-1], vtlp_alpha=alpha, codec=codec)
        if cfg.babble_prob:  # after the draws above: corpora without babble stay as they were
            snr = round(aug_rng.uniform(*cfg.babble_snr_db), 2) if aug_rng.random() < cfg.babble_prob else None
            talkers = aug_rng.randint(*cfg.babble_talkers) if snr is not None else 0
            specs[-1] = dataclasses.replace(specs[-1], babble_snr_db=snr, babble_talkers=talkers)
        total += _estimate_seconds(text, lang, speed, lead, tail)
    return specs


def colored_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """``(n,)`` unit-RMS noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    size = 1 << max(n - 1, 1).bit_length()  # a power of two: FFTs of odd lengths are slow
    spec = np.fft.rfft(rng.standard_normal(size))
    f = np.arange(spec.shape[0], dtype=np.float64)
    f[0] = 1.0
    noise = np.fft.irfft(spec / f ** (exponent / 2), size)[:n]
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def room_response(rt60: float, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A simple synthetic room impulse response: direct path + exponentially decaying noise."""
    n = int(rt60 * sample_rate)
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    delay = int(0.002 * sample_rate)  # first reflections after 2 ms
    h = np.zeros(n + delay)
    h[0] = 1.0
    h[delay:] += 0.3 * tail
    return h / np.sqrt(np.sum(h**2))


def _fft_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = x.shape[0] + h.shape[0] - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)
    return y[: x.shape[0]]


def synth_item(spec: UttSpec) -> SynthItem:
    """What the utterance's engine is asked to say, and how."""
    return SynthItem(spec.text, spec.speaker.voice, spec.lang, spec.speed, spec.pitch, spec.speaker.pitch_range,
                     spec.seed)


def render(spec: UttSpec, lang_dir: Path, syn: Synthesis | None = None, babble_from: Sequence[Synthesis] = ()
           ) -> Rendered:
    """Degrade one synthesized utterance, write its wav; return its duration and phone times.

    The chain: VTLP, silence before and after, babble, room, gain, additive noise, telephone channel.

    Args:
        spec: the utterance.
        lang_dir: where its ``wav_path`` goes.
        syn: the engine's output (synthesized here when not given).
        babble_from: other utterances' engine outputs, the babble's talkers (when ``spec`` has babble).
    """
    import torch

    from asr.audio import resample

    torch.set_num_threads(1)  # one thread: identical sums whatever the machine
    if syn is None:
        syn = get_engine(spec.speaker.engine).synthesize_many([synth_item(spec)])[0]
    speech = resample(torch.from_numpy(syn.samples.astype(np.float64) / 32768.0), syn.sample_rate, SAMPLE_RATE).numpy()
    if spec.vtlp_alpha is not None:
        speech = augment.vtlp(speech, SAMPLE_RATE, spec.vtlp_alpha)
    rng = np.random.default_rng(spec.seed)
    lead, tail = int(spec.lead_s * SAMPLE_RATE), int(spec.tail_s * SAMPLE_RATE)
    x = np.concatenate([np.zeros(lead), speech, np.zeros(tail)])
    if spec.babble_snr_db is not None and babble_from:  # SNR over the utterance, its pauses included
        others = [resample(torch.from_numpy(o.samples.astype(np.float64) / 32768.0), o.sample_rate,
                           SAMPLE_RATE).numpy() for o in babble_from]
        x = augment.babble(x, others, spec.babble_snr_db, np.random.default_rng([spec.seed, 1]))
    if spec.rt60_s is not None:
        if spec.room_model == "image":
            x = augment.reverberate(x, augment.room_impulse_response(rng, spec.rt60_s))
        else:
            x = _fft_convolve(x, room_response(spec.rt60_s, rng))
    speech_rms = np.sqrt(np.mean(speech**2)) + 1e-9
    x = x / speech_rms * 10 ** (spec.gain_db / 20) * 0.1  # gain relative to -20 dBFS speech
    if spec.snr_db is not None:
        level = 0.1 * 10 ** (spec.gain_db / 20) / 10 ** (spec.snr_db / 20)
        x = x + level * colored_noise(x.shape[0], spec.noise_color, rng)
    if spec.codec is not None:  # the recording chain: noise and room went through the channel too
        x = augment.telephone(x, SAMPLE_RATE, spec.codec)
    peak = np.abs(x).max()
    if peak > 0.99:
        x = x * (0.99 / peak)
    out = lang_dir / spec.wav_path
    out.parent.mkdir(parents=True, exist_ok=True)
    save_audio(out, x.astype(np.float32), SAMPLE_RATE)
    duration = x.shape[0] / SAMPLE_RATE
    return Rendered(
        id=spec.id,
        duration=round(duration, 4),
        phones=list(syn.phones),
        starts=[round(spec.lead_s + t, 3) for t in syn.starts],
        speech_end=round(spec.lead_s + speech.shape[0] / SAMPLE_RATE, 3),
    )


def _render_shard(job: tuple[list[UttSpec], str]) -> list[Rendered]:
    """Render a shard in a process that has synthesized nothing before.

    libespeak-ng keeps state from one utterance to the next (pitch flutter phase,
    smoothing), so the same text sounds slightly different depending on what the
    process spoke before. Shards of a fixed size, each rendered in a fresh
    process, make the output independent of the worker count and scheduling.
    Each engine renders its utterances of the shard in one call (festival starts slowly).
    """
    specs, lang_dir = job
    syns: dict[str, Synthesis] = {}
    for engine in dict.fromkeys(spec.speaker.engine for spec in specs):
        mine = [spec for spec in specs if spec.speaker.engine == engine]
        syns.update(zip((spec.id for spec in mine), get_engine(engine).synthesize_many([synth_item(x) for x in mine])))
    return [render(spec, Path(lang_dir), syns[spec.id], [syns[o.id] for o in babble_talkers(spec, specs)])
            for spec in specs]


def babble_talkers(spec: UttSpec, shard: Sequence[UttSpec]) -> list[UttSpec]:
    """The utterances of ``shard`` whose speech makes ``spec``'s babble: ``spec.babble_talkers`` of other
    speakers (fewer when the shard has fewer), chosen from ``spec.seed``."""
    if not spec.babble_talkers:
        return []
    others = [o for o in shard if o.speaker.id != spec.speaker.id]
    return random.Random(spec.seed).sample(others, min(spec.babble_talkers, len(others)))


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def write_lexicon(path: Path, words: list[str], lang: str) -> int:
    """Write ``word phone phone ...`` for ``words`` through espeak-ng G2P; returns the word count."""
    from asr.text.g2p import build_lexicon

    build_lexicon(words, lang).to_file(path)
    return len(words)


def check_engines(engines: tuple[str, ...], skip_missing: bool = False) -> tuple[str, ...]:
    """The engines that work here, in order.

    Raises:
        EngineMissing: an engine is not installed (the message names the package), unless
            ``skip_missing``, which leaves it out with a warning (at least one must remain).
        ValueError: an unknown engine name.
    """
    usable = []
    for name in engines:
        problem = get_engine(name).missing()
        if problem is None:
            usable.append(name)
        elif skip_missing:
            log.warning("synth: skipping %s", problem)
        else:
            raise EngineMissing(f"{problem} (or pass --skip-missing to go on without it)")
    if not usable:
        raise EngineMissing(f"none of the engines {list(engines)} is installed (tools/install_voices.sh)")
    return tuple(usable)


def render_voice(out: str | os.PathLike, speaker: Speaker, texts: dict[str, list[str]], seed: int = 0,
                 jobs: int | None = None) -> dict[str, Path]:
    """One speaker saying given sentences, clean (no noise, room or channel): ``out/<split>.jsonl`` per split.

    For adaptation to one voice: ``texts`` maps a split name to its sentences, each rendered once
    in the speaker's habitual prosody with the per-utterance variation of :func:`plan_split`
    (deterministic from ``seed``). A split whose manifest exists is left as it is.

    Returns:
        ``{split: manifest path}``.
    """
    out = Path(out)
    check_engines((speaker.engine,))
    manifests: dict[str, Path] = {}
    todo: dict[str, list[UttSpec]] = {}
    for split, lines in texts.items():
        manifests[split] = out / f"{split}.jsonl"
        if manifests[split].is_file():
            continue
        rng = random.Random(_derive_seed(seed, "voice", speaker.id, split))
        specs = []
        for i, text in enumerate(lines):
            uid = f"{speaker.id}-{split}-{i:05d}"
            specs.append(UttSpec(
                id=uid, lang=speaker.lang, split=split, text=text, speaker=speaker,
                speed=round(min(max(speaker.speed * rng.uniform(0.9, 1.1), SPEED_RANGE[0]), SPEED_RANGE[1]), 4),
                pitch=min(100, max(0, speaker.pitch + rng.randint(-6, 6))),
                gain_db=round(speaker.gain_db + rng.uniform(-3, 3), 2),
                lead_s=round(rng.uniform(0.1, 0.4), 3), tail_s=round(rng.uniform(0.1, 0.4), 3), snr_db=None,
                noise_color=0.0, rt60_s=None, seed=_derive_seed(seed, "utt", uid), wav_path=f"wav/{split}/{uid}.wav"))
        todo[split] = specs
    if not todo:
        return manifests
    out.mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("forkserver")
    with ctx.Pool(jobs or os.cpu_count() or 1, maxtasksperchild=1) as pool:
        for split, specs in todo.items():
            shards = [(specs[i : i + SHARD_SIZE], str(out)) for i in range(0, len(specs), SHARD_SIZE)]
            rendered = [r for part in pool.imap(_render_shard, shards) for r in part]
            _write_jsonl(manifests[split], [
                {"id": s.id, "audio": s.wav_path, "duration": r.duration, "text": s.text, "lang": s.lang,
                 "speaker": speaker.id} for s, r in zip(specs, rendered)])
    return manifests


def generate(out: str | os.PathLike, cfg: SynthConfig, jobs: int | None = None, progress: bool = True) -> dict:
    """Write the corpus under ``out`` and return its statistics.

    A language whose manifests already exist for the same config is left as it
    is, so a killed generation restarts where it stopped (language by language).
    Every engine of ``cfg.engines`` must be installed (:func:`check_engines`).

    Returns:
        ``{"config": ..., "langs": {lang: {split: {"utts", "hours", "speakers"}}}, "audio_seconds",
        "wall_seconds", "realtime_factor"}``; the timing fields are not written to
        ``corpus.json`` (which must be byte-identical across runs).
    """
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    unknown = [lang for lang in cfg.langs if lang not in ESPEAK_VOICES]
    if unknown:
        raise ValueError(f"no espeak-ng voice configured for language(s) {unknown}; known: {sorted(ESPEAK_VOICES)}")
    check_engines(cfg.engines)
    if cfg.room_model == "image" and cfg.reverb_prob > 0:
        try:
            import pyroomacoustics  # noqa: F401
        except ImportError:
            raise ValueError("room_model 'image' needs pyroomacoustics: pip install 'asr[augment]'") from None
    cfg_dict = cfg.to_dict()
    stats: dict[str, dict] = {}
    audio_seconds, t0 = 0.0, time.perf_counter()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["asr.data.synth", "torchaudio.transforms"])
    with ctx.Pool(jobs, maxtasksperchild=1) as pool:  # a fresh process per shard (see _render_shard)
        for lang in cfg.langs:
            lang_dir = out / lang
            done_marker = lang_dir / ".done.json"
            if done_marker.exists() and json.loads(done_marker.read_text())["config"] == cfg_dict:
                stats[lang] = json.loads(done_marker.read_text())["stats"]
                continue
            lang_dir.mkdir(parents=True, exist_ok=True)
            counts = {"train": cfg.train_speakers, "dev": cfg.dev_speakers, "test": cfg.test_speakers}
            speakers = {s: make_speakers(lang, s, counts[s], cfg.seed, cfg.engines) for s in SPLITS}
            _write_jsonl(lang_dir / "speakers.jsonl", [asdict(spk) for s in SPLITS for spk in speakers[s]])
            words: set[str] = set()
            stats[lang] = {}
            for split in SPLITS:
                specs = plan_split(cfg, lang, split, speakers[split])
                shards = [(specs[i : i + SHARD_SIZE], str(lang_dir)) for i in range(0, len(specs), SHARD_SIZE)]
                rendered: list[Rendered] = []
                with tqdm(total=len(specs), desc=f"synth {lang}/{split}", disable=not progress, leave=False) as bar:
                    for part in pool.imap(_render_shard, shards):
                        rendered.extend(part)
                        bar.update(len(part))
                rows, align = [], []
                for spec, r in zip(specs, rendered):
                    rows.append(
                        {
                            "id": spec.id,
                            "audio": spec.wav_path,
                            "duration": r.duration,
                            "text": spec.text,
                            "lang": lang,
                            "speaker": spec.speaker.id,
                        }
                    )
                    align.append({"id": spec.id, "phones": r.phones, "starts": r.starts, "speech_end": r.speech_end})
                    words.update(spec.text.split())
                _write_jsonl(lang_dir / f"{split}.align.jsonl", align)
                _write_jsonl(lang_dir / f"{split}.jsonl", rows)
                seconds = sum(r.duration for r in rendered)
                audio_seconds += seconds
                stats[lang][split] = {
                    "utts": len(rows),
                    "hours": round(seconds / 3600, 4),
                    "speakers": len({r["speaker"] for r in rows}),
                }
            write_lexicon(lang_dir / "lexicon.txt", sorted(words), lang)
            done_marker.write_text(json.dumps({"config": cfg_dict, "stats": stats[lang]}, sort_keys=True))
    corpus = {"config": cfg_dict, "langs": stats}
    (out / "corpus.json").write_text(json.dumps(corpus, indent=2, sort_keys=True) + "\n")
    wall = time.perf_counter() - t0
    return {**corpus, "audio_seconds": audio_seconds, "wall_seconds": wall,
            "realtime_factor": audio_seconds / wall if wall > 0 else float("inf")}
