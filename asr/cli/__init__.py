"""The ``asr`` command line: one entry point, one function per subcommand.

Usage:
    asr synth OUT --langs en,es,de,fr,it,sw --hours 0.5 --seed 0
    asr score REF HYP [--json OUT.json]
    asr train --system ctc --train TRAIN.jsonl --dev DEV.jsonl --out EXP [--preset tiny] [--units char]
    asr train --system hybrid --train TRAIN.jsonl --dev DEV.jsonl --lexicon lexicon.txt --out EXP/model
    asr decode EXP/model TEST.jsonl HYP.jsonl [--beam 8 --lm LM.arpa]   (either system)
    torchrun --nproc_per_node 2 -m asr train ...   (DDP)
    asr transcribe -m EXP/model a.wav b.flac dir/ - [-f txt|json|srt|vtt|tsv] [-o OUT_DIR]
    asr compare EXP [EXP ...]
    asr serve -m EXP/hybrid/model -m ctc=EXP/ctc/model [--port 8000]   (web page, HTTP, WebSocket)
    asr export EXP/model EXP/model.pt2   (or --format onnx [--int8]: EXP/model/model.onnx)
    asr finetune --from EXP/model --lang sw --train T.jsonl --dev D.jsonl --out FT --policy head
    asr meta-train --train en=EN.jsonl --train de=DE.jsonl --out META --method reptile|fomaml
    asr kaldi import DATA_DIR OUT.jsonl --lang en
    asr kaldi export MANIFEST.jsonl DATA_DIR
    asr manifest MANIFEST.jsonl          (summary: hours, speakers, languages; checks audio)

``python -m asr ...`` is the same command.

Most subcommands import their machinery when they run; ``transcribe`` and
``compare`` contribute their own options (``add_*_arguments`` in their modules).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path

from asr.config import finite_float, fraction, positive_float, positive_int
from asr.errors import UsageError, run_main
from asr.train.config import add_train_options

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    """Register ``fn`` as the handler of subcommand ``name``."""

    def wrap(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        return fn

    return wrap


def _langs(value: str) -> tuple[str, ...]:
    langs = tuple(x.strip() for x in value.split(",") if x.strip())
    if not langs:
        raise argparse.ArgumentTypeError("give at least one language code, e.g. en,es")
    return langs


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all subcommands)."""
    p = argparse.ArgumentParser(prog="asr", description="Speech recognition: classical pipeline and end-to-end CTC.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("synth", help="generate the synthetic multilingual corpus (espeak-ng and other engines, offline)")
    s.add_argument("out", type=Path, help="output directory")
    s.add_argument("--langs", type=_langs, default=("en", "es", "de", "fr", "it", "sw"), help="comma-separated (default: en,es,de,fr,it,sw)")
    s.add_argument("--hours", type=positive_float, default=0.5, help="audio per language, all splits (default 0.5)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--jobs", type=positive_int, default=None, help="worker processes (default: all cores)")
    s.add_argument("--dev-fraction", type=fraction, default=0.1)
    s.add_argument("--test-fraction", type=fraction, default=0.1)
    s.add_argument("--no-noise", action="store_true", help="clean speech: no additive noise, no reverberation")
    s.add_argument("--engines", type=_langs, default=("espeak",),
                   help="comma-separated synthesis engines: espeak (default), mbrola, pico, festival "
                        "(the Debian ones: tools/install_voices.sh)")
    s.add_argument("--skip-missing", action="store_true", help="leave out engines that are not installed")
    s.add_argument("--vtlp", type=fraction, default=0.0, metavar="P",
                   help="share of utterances with vocal tract length perturbation (warp 0.9-1.1)")
    s.add_argument("--telephone", type=fraction, default=0.0, metavar="P",
                   help="share of utterances through a telephone channel (8 kHz mu-law / A-law / GSM)")
    s.add_argument("--rooms", choices=["decay", "image"], default="decay",
                   help="reverberation: decaying noise (default) or image-method shoebox rooms (pyroomacoustics)")
    s.add_argument("--babble", type=fraction, default=0.0, metavar="P",
                   help="share of utterances with babble (3-6 other talkers of the corpus, 5-20 dB below)")
    s.add_argument("--train-texts", type=Path, default=None, metavar="FILE",
                   help="one sentence a line: the train split says these instead of generated sentences")

    s = sub.add_parser("score", help="WER/CER of hypotheses against references")
    s.add_argument("ref", type=Path, help="reference: Kaldi-style 'id text' file or JSONL manifest")
    s.add_argument("hyp", type=Path, help="hypotheses, same formats")
    s.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")

    s = sub.add_parser("kaldi", help="import from / export to Kaldi data directories")
    ks = s.add_subparsers(dest="action", required=True)
    k = ks.add_parser("import", help="Kaldi data dir -> JSONL manifest")
    k.add_argument("data_dir", type=Path)
    k.add_argument("manifest", type=Path)
    k.add_argument("--lang", required=True)
    k = ks.add_parser("export", help="JSONL manifest -> Kaldi data dir")
    k.add_argument("manifest", type=Path)
    k.add_argument("data_dir", type=Path)

    s = sub.add_parser("train", help="train a system: ctc (end-to-end) or hybrid (HMM + frame classifier)")
    s.add_argument("--system", choices=("ctc", "hybrid"), default="ctc")
    s.add_argument("--train", type=Path, action="append", required=True, help="training manifest (repeatable)")
    s.add_argument("--dev", type=Path, required=True, help="validation manifest")
    s.add_argument("--out", type=Path, required=True, help="output directory (model in OUT/model)")
    s.add_argument("--units", choices=("char", "bpe", "unigram", "phone"), default="char")
    s.add_argument("--vocab-size", type=positive_int, default=500, help="sentencepiece units, blank included")
    s.add_argument("--lexicon", type=Path, default=None, help="lexicon.txt: hybrid (required), ctc phone units")
    s.add_argument("--config", type=Path, default=None, help="hybrid: YAML of HybridConfig fields")
    s.add_argument("--preset", default="tiny", help="model size: tiny, small, medium")
    s.add_argument("--model-config", type=Path, default=None, help="YAML overriding ModelConfig fields")
    s.add_argument("--encoder", default=None, help="registered encoder (conformer, blstm)")
    add_train_options(s)

    s = sub.add_parser("decode", help="decode a manifest with a trained model directory")
    s.add_argument("model_dir", type=Path)
    s.add_argument("manifest", type=Path)
    s.add_argument("out", type=Path, help="hypotheses (JSONL, one row per utterance)")
    s.add_argument("--beam", type=positive_float, default=None,
                   help="ctc: beam size (1 = greedy, the default); hybrid: log-score beam (default: the model's)")
    s.add_argument("--mode", choices=("word", "phone"), default="word", help="hybrid: words, or phone recognition (PER)")
    s.add_argument("--lm", type=Path, default=None, help="word n-gram LM (ARPA) for shallow fusion")
    s.add_argument("--lm-weight", type=finite_float, default=None, help="LM weight (default: ctc 1.0, hybrid the model's)")
    s.add_argument("--word-score", type=finite_float, default=None,
                   help="score added per word (default: ctc 0.0, hybrid the model's word_penalty)")
    s.add_argument("--language", default=None, help="ctc: decode with this language's LM saved in the model directory")
    s.add_argument("--device", default="cpu")
    s.add_argument("--json", type=Path, default=None, help="write WER and RTF here")

    s = sub.add_parser("manifest", help="summarize a manifest and check that its audio reads")
    s.add_argument("manifest", type=Path)
    s.add_argument("--no-check", action="store_true", help="skip reading audio headers")

    from asr.cli.compare import add_compare_arguments
    from asr.cli.export import add_export_arguments
    from asr.cli.finetune import add_finetune_arguments
    from asr.cli.meta import add_meta_arguments
    from asr.cli.serve import add_serve_arguments
    from asr.cli.transcribe import add_transcribe_arguments

    add_transcribe_arguments(sub.add_parser("transcribe", help="transcribe audio files (txt, json, srt, vtt, tsv)"))
    add_compare_arguments(sub.add_parser("compare", help="compare experiments' results.json: table, CSV, PNG"))
    add_export_arguments(sub.add_parser("export", help="export a CTC model dir to .pt2 (torch.export) or ONNX (+ int8), checked"))
    add_finetune_arguments(sub.add_parser("finetune", help="fine-tune a pre-trained model on a (new) language: "
                                                          "head / top-k / full / l2sp"))
    add_meta_arguments(sub.add_parser("meta-train", help="meta-learn a multilingual CTC initialization over "
                                                        "languages: Reptile or first-order MAML"))
    add_serve_arguments(sub.add_parser("serve", help="web page, file transcription and live streams (HTTP, WebSocket)"))
    return p


@command("synth")
def _synth(args: argparse.Namespace) -> int:
    from asr.data.synth import SynthConfig, check_engines, generate

    extra = {"noise_prob": 0.0, "reverb_prob": 0.0} if args.no_noise else {}
    engines = check_engines(args.engines, skip_missing=args.skip_missing)
    cfg = SynthConfig(langs=args.langs, hours=args.hours, seed=args.seed, dev_fraction=args.dev_fraction,
                      test_fraction=args.test_fraction, engines=engines, vtlp_prob=args.vtlp,
                      telephone_prob=args.telephone, room_model=args.rooms, babble_prob=args.babble,
                      train_texts=str(args.train_texts or ""), **extra)
    stats = generate(args.out, cfg, jobs=args.jobs)
    print(f"{'lang':<6}{'split':<7}{'utts':>7}{'hours':>9}{'speakers':>10}")
    for lang, splits in stats["langs"].items():
        for split, st in splits.items():
            print(f"{lang:<6}{split:<7}{st['utts']:>7}{st['hours']:>9.3f}{st['speakers']:>10}")
    print(f"wrote {stats['audio_seconds'] / 3600:.3f} h of audio in {stats['wall_seconds']:.1f} s: "
          f"{stats['realtime_factor']:.0f}x real time -> {args.out}")
    return 0


@command("score")
def _score(args: argparse.Namespace) -> int:
    from asr.metrics import format_report, read_text_file, score

    refs, ref_langs = read_text_file(args.ref)
    hyps, _ = read_text_file(args.hyp)
    report = score(refs, hyps, ref_langs or None)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


def _train_hybrid(args: argparse.Namespace) -> int:
    from asr.config import load_config
    from asr.train.hybrid import HybridConfig, train_hybrid

    if args.lexicon is None:
        raise UsageError("--system hybrid needs --lexicon lexicon.txt (word phone phone ...)")
    if len(args.train) != 1:
        raise UsageError("--system hybrid takes one --train manifest")
    cfg = load_config(HybridConfig, args.config) if args.config else HybridConfig()
    summary = train_hybrid(args.train[0], args.dev, args.lexicon, args.out, cfg)
    print(json.dumps(summary, indent=2, default=str))
    return 0


@command("train")
def _train(args: argparse.Namespace) -> int:
    if args.system == "hybrid":
        return _train_hybrid(args)
    from asr.config import load_yaml
    from asr.models.ctc import ModelConfig
    from asr.train.config import train_config_from_args
    from asr.train.loop import train_ctc
    from asr.train.tokenizer_setup import init_tokenizer

    model_fields = {**ModelConfig.preset(args.preset).to_dict()}
    if args.model_config:
        model_fields.update(load_yaml(args.model_config))
    if args.encoder:
        model_fields["encoder"] = args.encoder
    model_cfg = ModelConfig.from_dict(model_fields, source=str(args.model_config or args.preset))
    train_cfg = train_config_from_args(args)
    tokenizer = init_tokenizer(args.out, args.units, args.train, args.vocab_size, args.lexicon)
    summary = train_ctc(args.train, args.dev, args.out, model_cfg, train_cfg, tokenizer)
    print(json.dumps(summary, indent=2))
    return 0


@command("decode")
def _decode(args: argparse.Namespace) -> int:
    from asr.data.manifest import read_manifest
    from asr.decoding.manifest import decode_manifest
    from asr.metrics import format_report, read_text_file, score
    from asr.systems import load_recognizer

    recognizer = load_recognizer(args.model_dir, args.device, args.beam, args.lm, lm_weight=args.lm_weight,
                                 word_score=args.word_score, mode=args.mode, language=args.language)
    stats = decode_manifest(recognizer, args.manifest, args.out, with_times=recognizer.system == "hybrid")
    refs, langs = read_text_file(args.manifest)
    if args.mode == "phone" and recognizer.system == "hybrid":  # score phones against the lexicon's
        from asr.decoding.hybrid import phone_references

        refs = phone_references(recognizer.model, read_manifest(args.manifest))
    hyps, _ = read_text_file(args.out)
    report = score(refs, hyps, langs or None)
    print(format_report(report))
    print(f"RTF {stats.rtf:.4f} ({stats.num_utts} utterances, {stats.audio_seconds:.1f} s of audio, {stats.device})")
    if args.json:
        args.json.write_text(json.dumps({"decode": stats.to_dict(), "score": report.to_dict()}, indent=2) + "\n")
    return 0


@command("kaldi")
def _kaldi(args: argparse.Namespace) -> int:
    from asr.data.kaldi import read_kaldi_dir, write_kaldi_dir
    from asr.data.manifest import read_manifest, write_manifest

    if args.action == "import":
        utts = read_kaldi_dir(args.data_dir, lang=args.lang)
        write_manifest(args.manifest, utts)
        print(f"{len(utts)} utterances -> {args.manifest}")
    else:
        utts = read_manifest(args.manifest)
        write_kaldi_dir(args.data_dir, utts)
        print(f"{len(utts)} utterances -> {args.data_dir}")
    return 0


@command("manifest")
def _manifest(args: argparse.Namespace) -> int:
    from collections import Counter

    from asr.data.dataset import validate
    from asr.data.manifest import read_manifest

    utts = read_manifest(args.manifest)
    hours = sum(u.duration for u in utts) / 3600
    langs = Counter(u.lang for u in utts)
    print(f"{args.manifest}: {len(utts)} utterances, {hours:.3f} h, "
          f"{len({u.speaker for u in utts})} speakers, languages {dict(sorted(langs.items()))}")
    if not args.no_check:
        good, bad = validate(utts)
        print(f"audio: {len(good)} readable, {bad.count} bad")
        if bad.count:
            print(bad)
        return 1 if bad.count else 0
    return 0


@command("transcribe")
def _transcribe(args: argparse.Namespace) -> int:
    from asr.cli.transcribe import run_transcribe

    return run_transcribe(args)


@command("compare")
def _compare(args: argparse.Namespace) -> int:
    from asr.cli.compare import run_compare

    return run_compare(args)


@command("finetune")
def _finetune(args: argparse.Namespace) -> int:
    from asr.cli.finetune import run_finetune

    return run_finetune(args)


@command("meta-train")
def _meta_train(args: argparse.Namespace) -> int:
    from asr.cli.meta import run_meta

    return run_meta(args)


@command("serve")
def _serve(args: argparse.Namespace) -> int:
    from asr.cli.serve import run_serve

    return run_serve(args)


@command("export")
def _export(args: argparse.Namespace) -> int:
    from asr.cli.export import run_export

    return run_export(args)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the subcommand; returns the exit code
    (0; 1 a failed input; 2 a usage error; 130 interrupted: :mod:`asr.errors`)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_main(f"asr {args.command}", lambda: COMMANDS[args.command](args))  # asr.errors: exit 1 or 2


if __name__ == "__main__":
    raise SystemExit(main())
