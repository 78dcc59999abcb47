"""asr: speech recognition, classical pipeline and end-to-end CTC side by side.

Layers, lowest first (each imports only those before it):
audio, features, text -> data -> models, losses -> decoding -> train -> cli.
"""

__version__ = "0.1.0"
