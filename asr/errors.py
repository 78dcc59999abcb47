"""What a failure means to the user: bad options (exit 2) or an input that cannot be used (exit 1).

Every command-line entry point (``asr ...``, ``python -m asr.cli.<x>``, ``recipes/*/run.py``) runs
its body through :func:`run_main`, which turns the expected failures into one line on stderr,
``PROG: error: MESSAGE`` (the message names the file and the problem), and an exit code:

====  ===========================================================================
0     done
1     a failed input: unreadable or odd audio, a bad manifest, model directory or LM, a
      missing file, a full disk (:class:`InputError`, ``OSError``, ``ValueError``)
2     a usage error: a bad option value or combination (:class:`UsageError`; argparse's own
      errors exit 2 too)
130   interrupted (Ctrl-C); a training run resumes from its last checkpoint when run again
====  ===========================================================================

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

__all__ = ["InputError", "UsageError", "EXPECTED", "exit_code", "run_main", "text_lines"]


class InputError(ValueError):
    """An input that cannot be used; the message names it (``PATH: problem``)."""


class UsageError(ValueError):
    """Options that cannot work together or a value out of range; the message names the option."""


EXPECTED: tuple[type[BaseException], ...] = (OSError, ValueError)  # ArpaError, ManifestError, ... are ValueErrors


def exit_code(exc: BaseException) -> int | None:
    """The exit code of an expected failure, ``None`` for a bug."""
    if isinstance(exc, UsageError):
        return 2
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return 1 if isinstance(exc, EXPECTED) else None


def run_main(prog: str, body: Callable[[], int]) -> int:
    """Run ``body``; an expected failure becomes ``PROG: error: MESSAGE`` on stderr and its exit code."""
    try:
        return body()
    except (Exception, KeyboardInterrupt) as e:
        code = exit_code(e)
        if code is None:
            raise
        if code == 130:
            print(f"{prog}: interrupted", file=sys.stderr)
        else:
            message = str(e) or type(e).__name__
            if isinstance(e, OSError) and e.filename is not None and str(e.filename) not in message:
                message = f"{e.filename}: {message}"
            print(f"{prog}: error: {message}", file=sys.stderr)
        return code


def _line_error(path: str | os.PathLike, line: int, problem: str) -> Exception:
    return InputError(f"{path}:{line}: {problem}")


def text_lines(path: str | os.PathLike, error: Callable[[str | os.PathLike, int, str], Exception] = _line_error
               ) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (a leading BOM dropped), for every reader of users' files.

    Raises:
        ``error(path, line, problem)`` (default :class:`InputError` ``PATH:LINE: problem``): a line
        that is not UTF-8.
        FileNotFoundError: no such file.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise error(path, lineno, f"not UTF-8 text (byte {e.start} of the line)") from None
            yield lineno, line.lstrip("\ufeff") if lineno == 1 else line
