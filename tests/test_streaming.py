"""Streaming: audio fed in pieces gives the offline result (both systems), partials, endpoints."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
import torch

import asr
from asr.decoding.streaming import EndpointConfig, open_stream

from conftest import make_tone, random_hybrid_model_dir

pytestmark = pytest.mark.slow


def _feed(stream, wav, block: int = 1600) -> list[str]:
    partials = []
    for i in range(0, wav.shape[0], block):
        stream.accept(wav[i : i + block])
        partials.append(stream.partial().text)
    return partials


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory):
    return asr.load(random_hybrid_model_dir(tmp_path_factory.mktemp("h") / "m",
                                            {"cat": ["k", "a", "t"], "dog": ["d", "o", "g"], "go": ["g", "o"]}))


def test_hybrid_search_fed_in_pieces_is_the_offline_search(hybrid):
    eng = hybrid.engine
    ll = eng.model.loglikes(torch.from_numpy(make_tone(3.0, seed=3))).numpy()
    offline = eng.decoder.decode(ll, nbest=3)
    search = eng.decoder.start()
    for k in range(0, ll.shape[0], 7):
        search.advance(ll[k : k + 7])
        assert search.partial().num_frames == min(k + 7, ll.shape[0])
    online = search.finish(nbest=3)
    assert online.words == offline.words and online.score == offline.score
    assert online.starts.tolist() == offline.starts.tolist() and online.alternatives == offline.alternatives


def test_hybrid_stream_final_equals_offline(hybrid):
    wav = torch.from_numpy(make_tone(2.5, seed=5))
    offline = hybrid.engine.transcribe([wav], with_times=True)[0]
    stream = open_stream(hybrid.engine, chunk_s=0.2)
    _feed(stream, wav)
    final = stream.finalize()
    assert final.text == offline.text and [w.word for w in final.words] == [w.word for w in offline.words]
    stream.reset()
    assert stream.samples == 0 and stream.partial().text == ""
    long = np.concatenate([make_tone(1.0, seed=i) for i in range(5)])  # past the CMVN warm-up: incremental
    stream = open_stream(hybrid.engine, chunk_s=0.3)
    _feed(stream, torch.from_numpy(long))
    assert stream.decoded_s <= 5.0 and isinstance(stream.finalize().text, str)


def test_ctc_stream_with_one_chunk_is_offline_and_with_chunks_finds_the_words(overfit_ctc):
    model_dir, wavs, texts = overfit_ctc
    rec = asr.load(model_dir, beam=1)
    for wav, text in zip(wavs, texts):
        whole = open_stream(rec.engine, chunk_s=60.0)  # longer than the utterance: all at finalize
        _feed(whole, wav)
        assert whole.decoded_s == 0.0
        assert whole.finalize().text == rec.engine.transcribe([wav])[0].text == text
        chunked = open_stream(rec.engine, chunk_s=0.32, lookahead_s=0.64)
        partials = _feed(chunked, wav)
        final = chunked.finalize()  # the encoder saw 0.64 s of future, not all of it: close, maybe not equal
        assert jiwer.cer(text, final.text) <= 0.3 and len(final.words) == len(text.split()), final.text
        assert any(partials)  # words show before the end
        assert all(w.end <= chunked.decoded_s + 1e-6 for w in chunked.partial().words)
        assert 0.0 < chunked.decoded_s <= wav.shape[0] / 16000


def test_endpoints_after_trailing_silence_and_at_the_length_limit(overfit_ctc):
    # (rule 1, silence with nothing said: this three-sentence model babbles on a second of zeros)
    model_dir, wavs, texts = overfit_ctc
    rec = asr.load(model_dir, beam=1)
    cfg = EndpointConfig(rule1_silence_s=1.0, rule2_silence_s=0.5, max_utterance_s=8.0)
    stream = open_stream(rec.engine, chunk_s=0.16, endpoint=cfg, lookahead_s=0.32)
    _feed(stream, wavs[0])
    said = stream.endpoint()
    silence = torch.zeros(32000)
    ended_at = None
    for k in range(20):  # 0.1 s blocks of silence
        stream.accept(silence[k * 1600 : (k + 1) * 1600])
        if stream.endpoint():
            ended_at = (k + 1) * 0.1
            break
    # rule 2: 0.5 s after a word, seen through the look-ahead and the chunk (0.48 s late at most)
    assert not said and ended_at is not None and ended_at <= 1.2, ended_at
    assert stream.finalize().text  # (accuracy at this short look-ahead: tools/bench_stream.py)
    stream.reset()
    _feed(stream, torch.from_numpy(np.tile(wavs[1].numpy(), 6)))
    assert stream.endpoint()  # rule 3: past 8 s


def test_transcribe_stream_reads_pcm_on_stdin(overfit_ctc):
    import json
    import subprocess
    import sys

    model_dir, wavs, texts = overfit_ctc
    pcm = (np.concatenate([wavs[2].numpy(), np.zeros(16000, np.float32)]) * 32767).astype("<i2").tobytes()
    out = subprocess.run([sys.executable, "-m", "asr", "transcribe", "-m", str(model_dir), "--beam", "1", "--stream",
                          "-", "-f", "json"], input=pcm, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode()
    msgs = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert msgs and msgs[-1]["type"] == "final" and {"partial"} <= {m["type"] for m in msgs}
    final = " ".join(m["text"] for m in msgs if m["type"] == "final" and m["text"])
    assert jiwer.cer(texts[2], final) <= 0.3, msgs
    assert msgs[-1]["audio_s"] == pytest.approx(len(pcm) / 2 / 16000, abs=1e-3)
    bad = subprocess.run([sys.executable, "-m", "asr", "transcribe", "-m", str(model_dir), "--stream", "a.wav"],
                         capture_output=True, timeout=300)
    assert bad.returncode == 2 and b"--stream 'a.wav'" in bad.stderr


def test_a_chunk_trained_ctc_model_streams_exactly_its_chunk_masked_output(tmp_path):
    from asr.decoding.streaming import ChunkedCTCStream
    from asr.models.ctc import CTCModel, ModelConfig, save_model_dir
    from asr.text.tokenizer import CharTokenizer

    torch.manual_seed(0)
    tok = CharTokenizer.build(["abc def"])
    cfg = ModelConfig.preset("tiny", vocab_size=tok.vocab_size, causal_conv=True, dynamic_chunk=True, chunk_left=2)
    save_model_dir(tmp_path / "m", CTCModel(cfg), tok)
    rec = asr.load(tmp_path / "m", beam=1)
    wav = torch.from_numpy(np.concatenate([make_tone(1.3, seed=1), make_tone(1.1, seed=2)]))
    stream = open_stream(rec.engine, chunk_s=0.32)
    assert isinstance(stream, ChunkedCTCStream) and stream.chunk_frames == 8
    _feed(stream, wav, block=1000)
    assert stream.decoded_s > 1.5  # computed as the audio came, chunk by chunk
    final = stream.finalize()
    model = rec.engine.model
    model.encoder.chunk_frames = 8  # the whole utterance at once, under the same chunk mask
    with torch.no_grad():
        ref, n = model.log_probs(wav[None], torch.tensor([wav.shape[0]]))
    model.encoder.chunk_frames = 0
    got = torch.cat(stream.lp)
    assert got.shape == ref[0, : int(n[0])].shape and torch.allclose(got, ref[0, : int(n[0])], atol=1e-4)
    assert final.text == rec.engine.decode(ref, n, [wav.shape[0] / 16000])[0].text
