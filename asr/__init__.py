"""asr: speech recognition, classical pipeline and end-to-end CTC side by side.

Layers, lowest first (each imports only those before it):
audio, features, text -> data -> models, losses -> decoding -> train -> cli.
"""

__version__ = "0.1.0"

__all__ = ["load", "__version__"]


def __getattr__(name: str):
    """``asr.load``: :func:`asr.api.load`, imported on first use (``import asr`` stays light)."""
    if name == "load":
        from asr.api import load

        return load
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
