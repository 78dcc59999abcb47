"""``asr serve``: an ASGI app (FastAPI, served by uvicorn) with a web page, file transcription and live streams.

Endpoints:

* ``GET /``: a page that records from the microphone (getUserMedia, an AudioWorklet, 16 kHz PCM over a
  WebSocket per model) or takes a file, and shows each model's transcript side by side: live partials,
  finals, word times and confidences;
* ``GET /v1/models``: ``[{"name", "system"}]``;
* ``POST /v1/transcribe`` (multipart ``file``, optional ``model``): the JSON of ``asr transcribe -f json``
  plus ``"model"``;
* ``WS /v1/stream?model=NAME``: binary frames of 16-bit little-endian mono PCM at 16 kHz, a text frame
  ``{"eof": true}`` at the end; the server sends ``{"type": "partial" | "final", "text", "words",
  "audio_s"}`` (a final at every endpoint and one after ``eof``; ``audio_s``: the seconds of audio
  received on the connection when the message was made) and closes.

Limits (:class:`ServeConfig`): uploads over ``max_upload_mb`` get 413, undecodable audio 400 with the
reason, more than ``max_pending`` requests waiting for a worker 503; at most ``workers`` decodes run at
once (streams and uploads share them), a request waits at most ``timeout_s``, a stream that sends
nothing for ``idle_s`` is closed. Uploads stay in memory: nothing a request sends reaches the
filesystem, as a path or otherwise.

fastapi, uvicorn and python-multipart are the optional extra ``asr[serve]``.

Usage::

    app = create_app({"hybrid": asr.load("exp/synth/hybrid/en/model"), "ctc": asr.load(ctc_dir)})
    uvicorn.run(app, host="127.0.0.1", port=8000)
    asr serve -m exp/synth/hybrid/en/model -m ctc=exp/synth/ctc/model --port 8000
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, File, Form, HTTPException, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse

from asr.api import Recognizer
from asr.audio import AudioError, decode_audio
from asr.decoding.streaming import LIVE_CHUNK_S, LIVE_LOOKAHEAD_S, EndpointConfig, LiveSession, open_live

__all__ = ["ServeConfig", "create_app", "page_html"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    """Limits and streaming options of the server (see the module docstring)."""

    max_upload_mb: float = 50.0
    workers: int = 2
    max_pending: int = 16
    timeout_s: float = 120.0
    idle_s: float = 30.0
    chunk_s: float = LIVE_CHUNK_S["ctc"]  # streaming: audio per network run (CTC)
    hybrid_chunk_s: float = LIVE_CHUNK_S["hybrid"]  # hybrid streams
    lookahead_s: float = LIVE_LOOKAHEAD_S  # CTC streams: newest frames recomputed with the next chunk
    endpoint: EndpointConfig = EndpointConfig()


def page_html() -> str:
    """The web page served at ``/``."""
    return resources.files("asr.serve").joinpath("page.html").read_text(encoding="utf-8")


class _Busy(Exception):
    pass


class _Workers:
    """At most ``workers`` decodes at once, at most ``max_pending`` waiting; each runs in a thread."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.sem = asyncio.Semaphore(cfg.workers)
        self.waiting = 0

    async def run(self, fn: Any, *args: Any) -> Any:
        if self.waiting >= self.cfg.max_pending:
            raise _Busy()
        self.waiting += 1
        try:
            await asyncio.wait_for(self.sem.acquire(), self.cfg.timeout_s)
        finally:
            self.waiting -= 1
        try:
            return await asyncio.to_thread(fn, *args)
        finally:
            self.sem.release()


def create_app(models: Mapping[str, Recognizer], cfg: ServeConfig | None = None) -> Any:
    """The FastAPI application over loaded recognizers (``name -> asr.load(...)``).

    Raises:
        ValueError: no models.
    """
    if not models:
        raise ValueError("asr serve: give at least one model")
    cfg = cfg or ServeConfig()
    models = dict(models)
    app = FastAPI(title="asr", docs_url=None, redoc_url=None)
    state: dict[str, Any] = {}

    def workers() -> _Workers:  # made in the server's event loop
        if "workers" not in state:
            state["workers"] = _Workers(cfg)
        return state["workers"]

    def pick(name: str | None) -> tuple[str, Recognizer]:
        if name is None or name == "":
            name = next(iter(models))
        if name not in models:
            raise HTTPException(404, f"no model {name!r}; loaded: {sorted(models)}")
        return name, models[name]

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page_html()

    @app.get("/v1/models")
    async def list_models() -> list[dict[str, str]]:
        return [{"name": n, "system": r.system} for n, r in models.items()]

    @app.post("/v1/transcribe")
    async def transcribe(file: UploadFile = File(...), model: str | None = Form(None)) -> Any:
        name, rec = pick(model)
        limit = int(cfg.max_upload_mb * 1e6)
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(413, f"upload over {cfg.max_upload_mb:g} MB")
        label = (file.filename or "upload")[:200]
        try:
            wav = decode_audio(data, label)
        except AudioError as e:
            raise HTTPException(400, str(e)) from None
        try:
            t = await workers().run(rec.transcribe, wav.numpy())
        except _Busy:
            raise HTTPException(503, "busy: too many requests waiting; try again") from None
        except asyncio.TimeoutError:
            raise HTTPException(503, f"no worker free within {cfg.timeout_s:g} s") from None
        out = t.to_dict()
        out["audio"], out["model"] = label, name
        return JSONResponse(out)

    @app.websocket("/v1/stream")
    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.query_params.get("model") or next(iter(models))
        if name not in models:
            await ws.send_text(json.dumps({"type": "error", "error": f"no model {name!r}; loaded: {sorted(models)}"}))
            await ws.close(code=1008)
            return
        rec = models[name]
        try:
            session = LiveSession(open_live(rec.engine, cfg.endpoint,
                                            cfg.chunk_s if rec.system == "ctc" else cfg.hybrid_chunk_s,
                                            cfg.lookahead_s))
        except ValueError as e:  # e.g. a language-ID model: files only
            await ws.send_text(json.dumps({"type": "error", "error": f"{name}: {e}"}))
            await ws.close(code=1003)
            return
        pool = workers()

        def feed(samples: np.ndarray) -> list[dict[str, Any]]:
            # an utterance that ended with nothing said sends no final (the one after eof always comes)
            return [m for m in session.feed(samples) if m["type"] != "final" or m["text"]]

        try:
            while True:
                msg = await asyncio.wait_for(ws.receive(), cfg.idle_s)
                if msg["type"] == "websocket.disconnect":
                    return
                if msg.get("bytes") is not None:
                    raw = msg["bytes"]
                    if len(raw) % 2:
                        raw = raw[:-1]
                    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
                    for out in await pool.run(feed, samples):
                        await ws.send_text(json.dumps(out))
                    continue
                try:
                    text = json.loads(msg.get("text") or "{}")
                except json.JSONDecodeError:
                    text = {}
                if isinstance(text, dict) and text.get("eof"):
                    await ws.send_text(json.dumps(await pool.run(session.finish)))
                    await ws.close()
                    return
                await ws.send_text(json.dumps({"type": "error", "error": 'text frames: only {"eof": true}'}))
        except (asyncio.TimeoutError, _Busy) as e:
            reason = "idle" if isinstance(e, asyncio.TimeoutError) else "busy"
            await ws.send_text(json.dumps({"type": "error", "error": reason}))
            await ws.close(code=1013)
        except WebSocketDisconnect:
            return
        except Exception as e:  # a failure in the search: say so on the socket, keep the server up
            log.exception("stream %s failed", name)
            await ws.send_text(json.dumps({"type": "error", "error": f"{type(e).__name__}: {e}"}))
            await ws.close(code=1011)

    return app
