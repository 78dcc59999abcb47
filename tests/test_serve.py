"""``asr serve``: the HTTP and WebSocket endpoints with real audio, limits and errors, and the page in Chromium."""

from __future__ import annotations

import io
import json
import shutil
import socket
import threading
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="fastapi is not installed (pip install 'asr[serve]')")
pytest.importorskip("httpx", reason="httpx is not installed (the test client)")

from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

import asr  # noqa: E402
from asr.decoding.streaming import LiveSession, open_live  # noqa: E402
from asr.serve import ServeConfig, create_app  # noqa: E402

from conftest import random_hybrid_model_dir  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(overfit_ctc, tmp_path_factory):
    model_dir, wavs, texts = overfit_ctc
    hybrid = random_hybrid_model_dir(tmp_path_factory.mktemp("serve") / "h", {"cat": ["k", "a", "t"]})
    models = {"ctc": asr.load(model_dir, beam=1), "hybrid": asr.load(hybrid)}
    app = create_app(models, SERVE_CFG)
    app.state.test_models = models  # what the tests compare the server's streams with
    return app, wavs, texts


SERVE_CFG = ServeConfig(max_upload_mb=1.0, chunk_s=0.32, lookahead_s=0.64, idle_s=5.0)


def _wav_bytes(wav: np.ndarray, rate: int = 16000, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wav, rate, format=fmt)
    return buf.getvalue()


def test_page_models_and_file_transcription(served):
    app, wavs, texts = served
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 200 and "getUserMedia" in page.text and "AudioWorklet" in page.text
        assert client.get("/v1/models").json() == [{"name": "ctc", "system": "ctc"}, {"name": "hybrid", "system": "hybrid"}]
        r = client.post("/v1/transcribe", files={"file": ("a.flac", _wav_bytes(wavs[0].numpy(), fmt="FLAC"))},
                        data={"model": "ctc"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["text"] == texts[0] and out["model"] == "ctc" and out["audio"] == "a.flac"
        assert [w["word"] for w in out["words"]] == texts[0].split() and all(0 <= w["confidence"] <= 1 for w in out["words"])
        # 8 kHz stereo: resampled and mixed like asr transcribe does
        x = wavs[1].numpy()[::2]
        r = client.post("/v1/transcribe", files={"file": ("b.wav", _wav_bytes(np.stack([x, x], 1), 8000))})
        assert r.status_code == 200 and r.json()["model"] == "ctc"  # the first model by default
        hyb = client.post("/v1/transcribe", files={"file": ("c.wav", _wav_bytes(wavs[2].numpy()))},
                          data={"model": "hybrid"})
        assert hyb.status_code == 200 and set(hyb.json()) >= {"text", "words", "duration"}


def test_bad_requests_get_clear_errors(served):
    app, wavs, _ = served
    with TestClient(app) as client:
        bad = client.post("/v1/transcribe", files={"file": ("x.wav", b"RIFF not really a wav")})
        assert bad.status_code == 400 and "x.wav: cannot decode audio" in bad.json()["detail"]
        empty = client.post("/v1/transcribe", files={"file": ("e.wav", b"")})
        assert empty.status_code == 400 and "empty" in empty.json()["detail"]
        big = client.post("/v1/transcribe", files={"file": ("big.wav", _wav_bytes(np.zeros(16000 * 40, np.float32)))})
        assert big.status_code == 413
        assert client.post("/v1/transcribe", files={"file": ("a.wav", _wav_bytes(wavs[0].numpy()))},
                           data={"model": "nope"}).status_code == 404
        assert client.post("/v1/transcribe").status_code == 422  # no file field
        with client.websocket_connect("/v1/stream?model=nope") as ws:
            assert ws.receive_json()["type"] == "error"


def _pcm(wav: np.ndarray) -> bytes:
    return (np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes()


def _stream(client, model: str, wav: np.ndarray, frame_s: float = 0.1) -> list[dict]:
    pcm = _pcm(wav)
    step = int(frame_s * 16000) * 2
    msgs = []
    with client.websocket_connect(f"/v1/stream?model={model}") as ws:
        for i in range(0, len(pcm), step):
            ws.send_bytes(pcm[i : i + step])
        ws.send_text(json.dumps({"eof": True}))
        while True:
            try:
                msgs.append(ws.receive_json())
            except WebSocketDisconnect:  # the server closes after the last final
                break
    return msgs


def _live_messages(rec, wav: np.ndarray, frame_s: float = 0.1) -> list[dict]:
    """What the library's live session says of ``wav`` sent as :func:`_stream` sends it (16-bit PCM in
    ``frame_s`` frames), keeping the finals the server keeps (not empty ones, except the last)."""
    samples = np.frombuffer(_pcm(wav), dtype="<i2").astype(np.float32) / 32768.0
    session = LiveSession(open_live(rec.engine, SERVE_CFG.endpoint, SERVE_CFG.chunk_s, SERVE_CFG.lookahead_s))
    step = int(frame_s * 16000)
    msgs = [m for i in range(0, len(samples), step) for m in session.feed(samples[i : i + step])
            if m["type"] != "final" or m["text"]]
    return msgs + [session.finish()]


def test_websocket_stream_gives_partials_then_a_final(served):
    app, wavs, texts = served
    with TestClient(app) as client:
        sent = np.concatenate([wavs[0].numpy(), np.zeros(16000, np.float32)])
        msgs = _stream(client, "ctc", sent)
        kinds = [m["type"] for m in msgs]
        assert "partial" in kinds and kinds[-1] == "final", kinds
        # the server relays the library's live session message for message, on every sample it was sent
        # (how close a streamed transcript comes to the offline one: test_streaming.py, tools/bench_stream.py)
        assert msgs == _live_messages(app.state.test_models["ctc"], sent)
        final = " ".join(m["text"] for m in msgs if m["type"] == "final" and m["text"])
        assert texts[0].split()[-1][:3] in final, msgs  # and this three-sentence model heard its words
        last = [m for m in msgs if m["type"] == "final"][-1]
        assert all(set(w) == {"word", "start", "end", "confidence"} for w in last["words"])
        sent = (wavs[0].shape[0] + 16000) / 16000
        assert last["audio_s"] == pytest.approx(sent, abs=1e-3)  # every sample arrived
        hyb = _stream(client, "hybrid", wavs[1].numpy())
        assert hyb and hyb[-1]["type"] == "final"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_page_in_chromium_with_a_fake_microphone(served, tmp_path, monkeypatch):
    pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
    import uvicorn
    from playwright.sync_api import sync_playwright

    import asr.serve

    app, wavs, texts = served
    heard: list[np.ndarray] = []  # what the server's streams were fed, to compare with the microphone's file
    real_open = asr.serve.open_live

    def listening(*args, **kw):
        stream = real_open(*args, **kw)
        accept = stream.accept
        stream.accept = lambda x: (heard.append(np.asarray(x).copy()), accept(x))[1]
        return stream

    monkeypatch.setattr(asr.serve, "open_live", listening)
    # the fake microphone plays: silence, the sentence, silence (Chromium loops the file)
    mic = np.concatenate([np.zeros(8000), wavs[0].numpy(), np.zeros(24000)]).astype(np.float32)
    sf.write(tmp_path / "mic.wav", mic, 16000, subtype="PCM_16")
    sf.write(tmp_path / "upload.wav", wavs[0].numpy(), 16000, subtype="PCM_16")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    logs: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={tmp_path / 'mic.wav'}"])
            page = browser.new_page()
            page.on("console", lambda m: logs.append(m.text))
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#model-ctc")
            # 1. a file: the page posts it to every model and shows their transcripts
            page.set_input_files("#file", str(tmp_path / "upload.wav"))
            page.wait_for_function("document.querySelector('#model-ctc .finals').textContent.length > 0")
            uploaded = page.inner_text("#model-ctc .finals")
            assert page.inner_text("#model-hybrid .finals")
            # 2. the microphone: AudioWorklet -> 16 kHz PCM over a WebSocket per model -> partials, finals
            page.click("#record")
            page.wait_for_function("document.querySelectorAll('#model-ctc .finals .final').length >= 1",
                                   timeout=30_000)
            page.click("#stop")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(tmp_path / "page.png"))
            finals = page.inner_text("#model-ctc .finals")
            table = page.inner_text("#model-ctc .table")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert uploaded == texts[0], (uploaded, logs)
    assert finals.strip() and "confidence" not in finals and "start" in table
    got = np.concatenate(heard)
    assert got.shape[0] > 2 * 16000  # seconds of audio arrived
    # the audio the page streamed is the microphone's file, resampled by the browser (whose clock drifts a
    # little against the file's, so correlate half a second of speech, not the whole sentence)
    onset = 8000 + int(np.argmax(np.abs(wavs[0].numpy()) > 0.05))
    ref = mic[onset : onset + 8000]
    seg = got[: 3 * mic.shape[0]]
    energy = np.sqrt(np.convolve(seg**2, np.ones(ref.shape[0]), "valid"))
    corr = np.correlate(seg, ref, "valid") / (np.linalg.norm(ref) * np.maximum(energy, 1e-9))
    assert corr.max() > 0.5, corr.max()
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_serve_cli_names_models_and_refuses_duplicates(overfit_ctc):
    from asr.cli import main
    from asr.cli.serve import model_name

    assert model_name("exp/synth/ctc/model") == ("ctc", __import__("pathlib").Path("exp/synth/ctc/model"))
    assert model_name("fast=exp/x")[0] == "fast" and model_name("exp/run7")[0] == "run7"
    model_dir, _, _ = overfit_ctc
    assert main(["serve", "-m", f"a={model_dir}", "-m", f"a={model_dir}", "--port", "1"]) == 2  # usage error
