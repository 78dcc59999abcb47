"""``python -m asr ...`` is the same as the ``asr`` console script."""

from asr.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
