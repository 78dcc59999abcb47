"""asr.errors: what each failure class means to the user (one line, its exit code), bugs keep their traceback."""

from __future__ import annotations

import pytest

from asr.audio import AudioError
from asr.data.manifest import ManifestError
from asr.errors import InputError, UsageError, run_main, text_lines
from asr.text.lm import ArpaError


def _raise(exc: BaseException):
    def body() -> int:
        raise exc
    return body


@pytest.mark.parametrize("exc, code", [
    (UsageError("--beam 0: must be > 0"), 2), (InputError("x.wav: bad"), 1), (AudioError("x.wav", "truncated"), 1),
    (ManifestError("m.jsonl", 3, "invalid JSON"), 1), (ArpaError("lm.arpa", 7, "bad line"), 1),
    (FileNotFoundError(2, "No such file or directory", "gone.txt"), 1), (ValueError("odd"), 1),
    (KeyboardInterrupt(), 130)])
def test_expected_failures_are_one_line_with_their_exit_code(exc, code, capsys):
    assert run_main("asr x", _raise(exc)) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("asr x: ")
    if isinstance(exc, FileNotFoundError):
        assert "gone.txt" in err  # the file is named even where the message did not


def test_bugs_keep_their_traceback():
    with pytest.raises(ZeroDivisionError):
        run_main("asr x", lambda: 1 // 0)
    assert run_main("asr x", lambda: 0) == 0


def test_text_lines_names_file_and_line_of_a_bad_byte(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("\ufeffa\nb\n".encode() + b"c\xff\n")
    with pytest.raises(InputError, match=r"t.txt:3: not UTF-8"):
        list(text_lines(p))
    import itertools

    assert [line for _, line in itertools.islice(text_lines(p), 2)] == ["a\n", "b\n"]  # BOM dropped, read lazily
