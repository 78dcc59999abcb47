"""Tokenizers: normalized text <-> label ids for CTC and seq2seq models.

Every tokenizer follows the :class:`Tokenizer` protocol (after wenet) and keeps
the same id conventions, so models and decoders need not know which one made
their labels:

* id 0 is the CTC blank ``<blk>``; :meth:`Tokenizer.encode` never produces it
  and :meth:`Tokenizer.decode` skips it;
* :attr:`Tokenizer.unk_id` (1 for all tokenizers here) stands for anything
  unknown;
* ``vocab_size`` counts the blank, so it is the size of the output layer.

A tokenizer saves itself into a directory: ``tokenizer.json`` (its ``kind``
and settings), ``tokens.txt`` (a :class:`~asr.text.symbols.SymbolTable`, the
id of every token, for decoding graphs) and whatever else it needs
(``spm.model``, ``lexicon.txt``). :func:`load_tokenizer` reads any of them back
through the :data:`TOKENIZERS` registry.

Kinds:

* ``char`` (:class:`CharTokenizer`): one token per character; words are
  separated by the token ``|`` (wav2vec2 / torchaudio ``ctc_decoder``
  convention), placed *between* words only;
* ``sentencepiece`` (:class:`SentencePieceTokenizer`): BPE or unigram pieces;
  sentencepiece marks word starts with ``▁`` inside the pieces; its ids are
  shifted up by one to free id 0 for the blank;
* ``phone`` (:class:`PhoneTokenizer`): phones through a
  :class:`~asr.text.lexicon.Lexicon`, with an optional word-boundary token.

Tokenizers expect normalized text (:func:`asr.text.normalize.normalize`):
for such text ``decode(encode(text)) == text``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from asr.text.lexicon import Lexicon
from asr.text.symbols import BLANK, UNK, SymbolTable

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "PhoneTokenizer",
    "TOKENIZERS",
    "register_tokenizer",
    "load_tokenizer",
    "TOKENIZER_JSON",
    "TOKENS_TXT",
    "WORD_BOUNDARY",
]

TOKENIZER_JSON = "tokenizer.json"  # {"kind": ..., settings}
TOKENS_TXT = "tokens.txt"  # "token id" lines
WORD_BOUNDARY = "|"  # the char tokenizer's token between words

StrPath = str | PathLike[str]


@runtime_checkable
class Tokenizer(Protocol):
    """What models, data pipelines and decoders may rely on."""

    kind: ClassVar[str]  # registry name, written to tokenizer.json

    @property
    def vocab_size(self) -> int:
        """Number of ids, blank included: the output layer's size."""
        ...

    @property
    def blank_id(self) -> int:
        """The CTC blank, always 0."""
        ...

    @property
    def unk_id(self) -> int:
        """The id of unknown input."""
        ...

    @property
    def tokens(self) -> list[str]:
        """Token strings by id (``tokens[0] == "<blk>"``)."""
        ...

    def encode(self, text: str) -> list[int]:
        """Label ids of a normalized transcript (never the blank)."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text of label ids (blanks skipped; CTC repeats must be merged before)."""
        ...

    def save(self, directory: StrPath) -> None:
        """Write ``tokenizer.json`` and the files :meth:`load` needs into ``directory``."""
        ...

    @classmethod
    def load(cls, directory: StrPath) -> Tokenizer:
        """Read a tokenizer saved by :meth:`save`."""
        ...


TOKENIZERS: dict[str, type[Tokenizer]] = {}  # kind -> class, filled by @register_tokenizer

_T = TypeVar("_T")


def register_tokenizer(cls: type[_T]) -> type[_T]:
    """Class decorator: make ``cls`` loadable by :func:`load_tokenizer` under ``cls.kind``."""
    kind = cls.kind  # type: ignore[attr-defined]
    if kind in TOKENIZERS and TOKENIZERS[kind] is not cls:
        raise ValueError(f"tokenizer kind {kind!r} is already registered to {TOKENIZERS[kind].__name__}")
    TOKENIZERS[kind] = cls  # type: ignore[assignment]
    return cls


def load_tokenizer(directory: StrPath) -> Tokenizer:
    """Load whichever tokenizer was saved in ``directory`` (read from its ``tokenizer.json``).

    Raises:
        FileNotFoundError: there is no ``tokenizer.json``.
        ValueError: its ``kind`` is missing or unknown.
    """
    config = _read_config(directory)
    kind = config.get("kind")
    if kind not in TOKENIZERS:
        path = Path(directory) / TOKENIZER_JSON
        raise ValueError(f"{path}: unknown tokenizer kind {kind!r}; known: {', '.join(sorted(TOKENIZERS))}")
    return TOKENIZERS[kind].load(directory)


# -- char ------------------------------------------------------------------------------


class _TableTokenizer:
    """Shared part of the tokenizers whose vocabulary is a :class:`SymbolTable` in ``self.table``:
    blank ``<blk>`` at 0, ``<unk>`` at 1."""

    table: SymbolTable

    @property
    def vocab_size(self) -> int:
        """Number of ids, blank included."""
        return len(self.table)

    @property
    def blank_id(self) -> int:
        """The CTC blank, 0."""
        return 0

    @property
    def unk_id(self) -> int:
        """The id of unknown characters, words or phones, 1."""
        return 1

    @property
    def tokens(self) -> list[str]:
        """Token strings by id."""
        return self.table.symbols


@register_tokenizer
class CharTokenizer(_TableTokenizer):
    """One token per character, ``|`` between words.

    Ids: 0 ``<blk>``, 1 ``<unk>``, 2 ``|``, then the characters in sorted order.

    Example:
        >>> tok = CharTokenizer.build(["ab ba"])
        >>> tok.encode("ab ba"), tok.decode(tok.encode("ab ba"))
        ([3, 4, 2, 4, 3], 'ab ba')
    """

    kind: ClassVar[str] = "char"

    def __init__(self, table: SymbolTable) -> None:
        """Wrap a token table (``<blk>`` 0, ``<unk>`` 1, and ``|``)."""
        _check_ctc_table(table, "char tokenizer")
        if WORD_BOUNDARY not in table:
            raise ValueError(f"char tokenizer table lacks the word boundary {WORD_BOUNDARY!r}")
        self.table = table
        self._ids: dict[str, int] = {s: i for i, s in enumerate(table.symbols)}
        self._boundary = self._ids[WORD_BOUNDARY]

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> CharTokenizer:
        """Collect the characters of normalized ``texts``.

        Args:
            texts: normalized transcripts.
            min_count: characters seen fewer times become ``<unk>``.

        Raises:
            ValueError: a text contains ``|``.
        """
        counts: dict[str, int] = {}
        for text in texts:
            if WORD_BOUNDARY in text:
                raise ValueError(f"text contains the word boundary {WORD_BOUNDARY!r}: {text!r}")
            for ch in text:
                if not ch.isspace():
                    counts[ch] = counts.get(ch, 0) + 1
        chars = sorted(ch for ch, n in counts.items() if n >= min_count)
        return cls(SymbolTable([BLANK, UNK, WORD_BOUNDARY, *chars]))

    def encode(self, text: str) -> list[int]:
        """Character ids, ``|`` for each run of whitespace between words."""
        unk = self.unk_id
        return [self._ids.get(ch, unk) for ch in WORD_BOUNDARY.join(text.split())]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ids: ``|`` becomes a space, ``<unk>`` is written out, blanks are skipped."""
        symbols = self.table.symbols
        chars = [" " if i == self._boundary else symbols[i] for i in ids if i != 0]
        return " ".join("".join(chars).split())

    def save(self, directory: StrPath) -> None:
        """Write ``tokenizer.json`` and ``tokens.txt`` into ``directory``."""
        directory = _ensure_dir(directory)
        self.table.to_file(directory / TOKENS_TXT)
        _write_config(directory, self.kind, word_boundary=WORD_BOUNDARY)

    @classmethod
    def load(cls, directory: StrPath) -> CharTokenizer:
        """Read a tokenizer saved by :meth:`save`."""
        return cls(SymbolTable.from_file(Path(directory) / TOKENS_TXT))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


# -- sentencepiece ---------------------------------------------------------------------


@register_tokenizer
class SentencePieceTokenizer:
    """BPE or unigram pieces from the ``sentencepiece`` package.

    Our id = sentencepiece id + 1, so that id 0 is the blank; sentencepiece's
    ``<unk>`` (its id 0) becomes our id 1. Models are trained without
    ``<s>``/``</s>``/``<pad>`` and with the ``identity`` normalization: the text
    must be normalized already (:func:`asr.text.normalize.normalize`).
    """

    kind: ClassVar[str] = "sentencepiece"
    model_file: ClassVar[str] = "spm.model"

    def __init__(self, model_proto: bytes) -> None:
        """Wrap a serialized sentencepiece model (the bytes of a ``.model`` file)."""
        import sentencepiece as spm

        self._proto = bytes(model_proto)
        self.sp = spm.SentencePieceProcessor(model_proto=self._proto)

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        out_dir: StrPath,
        model_type: str = "bpe",
        character_coverage: float = 1.0,
        seed: int = 0,
        **options: Any,
    ) -> SentencePieceTokenizer:
        """Train a model on normalized ``texts`` and save the tokenizer in ``out_dir``.

        Training is deterministic: one thread, no sampling or shuffling of the
        input, a fixed random seed.

        Args:
            texts: normalized transcripts (an iterator is fine; empty ones are skipped).
            vocab_size: ids wanted in all, blank included (sentencepiece gets one fewer).
            out_dir: where :meth:`save` writes ``spm.model``, ``tokens.txt``
                and ``tokenizer.json``.
            model_type: ``"bpe"`` or ``"unigram"``.
            character_coverage: fraction of characters covered (1.0 for small
                alphabets; 0.9995 for CJK).
            seed: sentencepiece's random seed.
            **options: further ``SentencePieceTrainer`` options, overriding ours
                (e.g. ``hard_vocab_limit=False``, ``byte_fallback=True``).

        Raises:
            ValueError: ``model_type`` is unknown or ``vocab_size < 3``;
                RuntimeError from sentencepiece when the vocabulary cannot be
                reached on this text.
        """
        import io

        import sentencepiece as spm

        if model_type not in ("bpe", "unigram"):
            raise ValueError(f"model_type must be 'bpe' or 'unigram', got {model_type!r}")
        if vocab_size < 3:
            raise ValueError(f"vocab_size must be >= 3 (blank, unk, one piece), got {vocab_size}")
        settings: dict[str, Any] = dict(
            vocab_size=vocab_size - 1,  # + our blank
            model_type=model_type,
            character_coverage=character_coverage,
            normalization_rule_name="identity",
            unk_id=0,
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            unk_surface=UNK,
            num_threads=1,
            input_sentence_size=0,  # use every sentence
            shuffle_input_sentence=False,
            minloglevel=2,  # warnings and errors only
        )
        settings.update(options)
        spm.set_random_generator_seed(seed)
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=(t for t in texts if t.strip()), model_writer=model, **settings
            )
        except RuntimeError as e:
            raise RuntimeError(f"{e} (sentencepiece sizes exclude the blank: ours are one more)") from e
        tokenizer = cls(model.getvalue())
        tokenizer.save(out_dir)
        return tokenizer

    @property
    def vocab_size(self) -> int:
        """Number of ids, blank included (sentencepiece's pieces + 1)."""
        return self.sp.get_piece_size() + 1

    @property
    def blank_id(self) -> int:
        """The CTC blank, 0."""
        return 0

    @property
    def unk_id(self) -> int:
        """sentencepiece's ``<unk>`` shifted by one (1 for models trained here)."""
        return self.sp.unk_id() + 1

    @property
    def tokens(self) -> list[str]:
        """``<blk>`` then the pieces (``▁`` starts a word)."""
        return [BLANK, *(self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size()))]

    def encode(self, text: str) -> list[int]:
        """Piece ids (shifted by one) of a normalized transcript."""
        return [i + 1 for i in self.sp.encode(text, out_type=int)]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of piece ids; blanks are skipped."""
        return self.sp.decode([int(i) - 1 for i in ids if i != 0])

    def encode_as_pieces(self, text: str) -> list[str]:
        """The pieces of a normalized transcript, for inspection."""
        return self.sp.encode(text, out_type=str)

    def save(self, directory: StrPath) -> None:
        """Write ``spm.model``, ``tokens.txt`` and ``tokenizer.json`` into ``directory``."""
        directory = _ensure_dir(directory)
        (directory / self.model_file).write_bytes(self._proto)
        SymbolTable(self.tokens).to_file(directory / TOKENS_TXT)
        _write_config(directory, self.kind, model=self.model_file, id_offset=1)

    @classmethod
    def load(cls, directory: StrPath) -> SentencePieceTokenizer:
        """Read a tokenizer saved by :meth:`save`."""
        config = _read_config(directory)
        return cls((Path(directory) / config.get("model", cls.model_file)).read_bytes())

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(vocab_size={self.vocab_size})"


# -- phone -----------------------------------------------------------------------------


@register_tokenizer
class PhoneTokenizer(_TableTokenizer):
    """Phones of each word's preferred pronunciation in a :class:`Lexicon`.

    Ids: 0 ``<blk>``, 1 ``<unk>``, then the word-boundary token if any, then
    the lexicon's phones sorted. The phone set is fixed when the tokenizer is
    made: phones added to the lexicon later encode as ``<unk>``.

    A word missing from the lexicon encodes as one ``<unk>`` (``on_oov="unk"``)
    or raises ``KeyError`` (``on_oov="error"``).

    :meth:`decode` writes phones separated by one space and, where the ids
    hold word boundaries, words separated by two spaces (espeak-ng's
    convention); whitespace-splitting scorers see phones only.
    """

    kind: ClassVar[str] = "phone"
    lexicon_file: ClassVar[str] = "lexicon.txt"

    def __init__(
        self,
        lexicon: Lexicon,
        table: SymbolTable,
        word_boundary: str | None = None,
        on_oov: str = "unk",
    ) -> None:
        """Wrap a lexicon and its phone table (see :meth:`from_lexicon`)."""
        _check_ctc_table(table, "phone tokenizer")
        if on_oov not in ("unk", "error"):
            raise ValueError(f"on_oov must be 'unk' or 'error', got {on_oov!r}")
        if word_boundary is not None and word_boundary not in table:
            raise ValueError(f"phone table lacks the word boundary {word_boundary!r}")
        self.lexicon = lexicon
        self.table = table
        self.word_boundary = word_boundary
        self.on_oov = on_oov
        self._ids: dict[str, int] = {s: i for i, s in enumerate(table.symbols)}
        self._boundary = self._ids[word_boundary] if word_boundary is not None else -1

    @classmethod
    def from_lexicon(cls, lexicon: Lexicon, word_boundary: str | None = None, on_oov: str = "unk") -> PhoneTokenizer:
        """Make the phone table of ``lexicon``.

        Args:
            lexicon: words and pronunciations.
            word_boundary: a token to put between words (e.g. ``"|"``), or
                ``None`` for none; it must not be one of the phones.
            on_oov: ``"unk"`` or ``"error"`` for words not in the lexicon.
        """
        phones = lexicon.phones()
        specials = [BLANK, UNK] + ([word_boundary] if word_boundary is not None else [])
        clash = set(specials) & set(phones)
        if clash:
            raise ValueError(f"lexicon phones {sorted(clash)} clash with special tokens {specials}")
        return cls(lexicon, SymbolTable([*specials, *phones]), word_boundary, on_oov)

    def encode(self, text: str) -> list[int]:
        """Phone ids of a normalized transcript, word boundaries between words if configured.

        Raises:
            KeyError: a word is not in the lexicon and ``on_oov == "error"``.
        """
        ids: list[int] = []
        for n, word in enumerate(text.split()):
            if n and self._boundary >= 0:
                ids.append(self._boundary)
            if word in self.lexicon:
                ids.extend(self.encode_phones(self.lexicon.pronounce(word)))
            elif self.on_oov == "error":
                raise KeyError(f"word {word!r} is not in the lexicon")
            else:
                ids.append(self.unk_id)
        return ids

    def encode_phones(self, phones: Iterable[str]) -> list[int]:
        """Ids of a phone sequence (unknown phones -> ``<unk>``)."""
        unk = self.unk_id
        return [self._ids.get(p, unk) for p in phones]

    def decode(self, ids: Sequence[int]) -> str:
        """Phones separated by a space, words (where boundaries are) by two."""
        symbols = self.table.symbols
        words: list[list[str]] = [[]]
        for i in ids:
            if i == 0:
                continue
            if i == self._boundary:
                words.append([])
            else:
                words[-1].append(symbols[i])
        return "  ".join(" ".join(w) for w in words if w)

    def save(self, directory: StrPath) -> None:
        """Write ``tokenizer.json``, ``tokens.txt`` and ``lexicon.txt`` into ``directory``."""
        directory = _ensure_dir(directory)
        self.table.to_file(directory / TOKENS_TXT)
        self.lexicon.to_file(directory / self.lexicon_file)
        _write_config(
            directory, self.kind, lexicon=self.lexicon_file, word_boundary=self.word_boundary, on_oov=self.on_oov
        )

    @classmethod
    def load(cls, directory: StrPath) -> PhoneTokenizer:
        """Read a tokenizer saved by :meth:`save`."""
        directory = Path(directory)
        config = _read_config(directory)
        lexicon = Lexicon.from_file(directory / config.get("lexicon", cls.lexicon_file))
        table = SymbolTable.from_file(directory / TOKENS_TXT)
        return cls(lexicon, table, config.get("word_boundary"), config.get("on_oov", "unk"))

    def __repr__(self) -> str:
        return f"PhoneTokenizer(vocab_size={self.vocab_size}, words={len(self.lexicon)})"


# -- helpers ---------------------------------------------------------------------------


def _check_ctc_table(table: SymbolTable, what: str) -> None:
    """Token tables here have ``<blk>`` 0, ``<unk>`` 1 and contiguous ids."""
    if table.get(0) != BLANK or table.get(1) != UNK:
        raise ValueError(f"{what}: ids 0 and 1 must be {BLANK} and {UNK}, got {table.get(0)!r} and {table.get(1)!r}")
    if table.ids != list(range(len(table))):
        raise ValueError(f"{what}: token ids must be 0..{len(table) - 1} without gaps")


def _ensure_dir(directory: StrPath) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_config(directory: Path, kind: str, **settings: Any) -> None:
    text = json.dumps({"kind": kind, **settings}, indent=2, ensure_ascii=False)
    (directory / TOKENIZER_JSON).write_text(text + "\n", encoding="utf-8")


def _read_config(directory: StrPath) -> dict[str, Any]:
    path = Path(directory) / TOKENIZER_JSON
    if not path.is_file():
        raise FileNotFoundError(f"no {TOKENIZER_JSON} in {directory}")
    config = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return config

