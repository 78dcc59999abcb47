"""``asr serve -m MODEL [-m NAME=MODEL ...]``: the web page, file transcription and live streams (asr.serve).

Usage:
    asr serve -m exp/synth/hybrid/en/model -m ctc=exp/synth/ctc/model --language en
    asr serve -m exp/ctc/model --host 0.0.0.0 --port 8080      # reachable from other machines
"""

from __future__ import annotations

import argparse
from pathlib import Path

from asr.config import positive_float, positive_int
from asr.errors import UsageError

__all__ = ["add_serve_arguments", "run_serve", "model_name"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``asr serve``."""
    parser.add_argument("-m", "--model", action="append", required=True, metavar="[NAME=]DIR",
                        help="a model directory (either system); repeat for several, side by side")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback only)")
    parser.add_argument("--port", type=positive_int, default=8000)
    parser.add_argument("--language", default=None, help="CTC models: the language whose saved LM decodes")
    parser.add_argument("--workers", type=positive_int, default=2, help="decodes running at once (default 2)")
    parser.add_argument("--max-upload-mb", type=positive_float, default=50.0)
    parser.add_argument("--chunk-seconds", type=positive_float, default=0.32, help="streaming: audio per network run")


def model_name(spec: str) -> tuple[str, Path]:
    """``NAME=DIR`` or ``DIR`` (named after the directory, or its parent when it is called ``model``)."""
    name, sep, path = spec.partition("=")
    if not sep:
        p = Path(spec)
        return (p.parent.name if p.name == "model" and p.parent.name else p.name) or "model", p
    if not name:
        raise UsageError(f"-m {spec!r}: give NAME=DIR")
    return name, Path(path)


def run_serve(args: argparse.Namespace) -> int:
    """Load every model, then serve until interrupted."""
    try:
        import uvicorn
    except ImportError:
        raise UsageError("asr serve needs fastapi and uvicorn: pip install 'asr[serve]'") from None
    import asr
    from asr.serve import ServeConfig, create_app

    models = {}
    for spec in args.model:
        name, path = model_name(spec)
        if name in models:
            raise UsageError(f"two models named {name!r}: name them, -m NAME=DIR")
        models[name] = asr.load(path, language=args.language)
        print(f"loaded {name}: {path} ({models[name].system})", flush=True)
    app = create_app(models, ServeConfig(max_upload_mb=args.max_upload_mb, workers=args.workers,
                                         chunk_s=args.chunk_seconds))
    print(f"serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
