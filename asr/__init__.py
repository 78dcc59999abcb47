"""asr: speech recognition, classical pipeline and end-to-end CTC side by side.

Usage::

    import asr
    print(asr.load("exp/synth/ctc/model").transcribe("talk.flac").text)   # either system's model directory

Layers, lowest first (each imports only those before it; pyproject.toml's import-linter contract):
errors -> audio, config, weights -> text, features, vad -> data -> hmm, losses, metrics -> models ->
decoding -> train -> compare -> systems, export -> experiments, recipe, api -> cli.
"""

__version__ = "0.1.0"

__all__ = ["load", "__version__"]


def __getattr__(name: str):
    """``asr.load``: :func:`asr.api.load`, imported on first use (``import asr`` stays light)."""
    if name == "load":
        from asr.api import load

        return load
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
