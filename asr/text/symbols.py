"""Symbol tables: a two-way map between symbols and integer ids.

The on-disk format is Kaldi's / icefall's ``words.txt`` and ``tokens.txt``:
one ``symbol id`` pair per line, separated by whitespace::

    <blk> 0
    <unk> 1
    a 2

Conventions (followed, not enforced, by this class):

* word tables (``words.txt``, the output side of a decoding graph) put
  :data:`EPS` ``<eps>`` at id 0, as Kaldi and OpenFst expect;
* token tables of CTC models (``tokens.txt``) put :data:`BLANK` ``<blk>`` at
  id 0 and :data:`UNK` ``<unk>`` at id 1 (icefall), so the CTC blank is id 0
  everywhere in asr.

Symbols may not contain whitespace. Ids need not be contiguous (Kaldi allows
gaps), but each symbol and each id appears once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path

__all__ = ["SymbolTable", "EPS", "BLANK", "UNK"]

EPS = "<eps>"  # id 0 of word tables (FST epsilon)
BLANK = "<blk>"  # id 0 of CTC token tables
UNK = "<unk>"  # id 1 of CTC token tables


class SymbolTable:
    """A bijection between symbols (strings without whitespace) and integer ids.

    Example:
        >>> table = SymbolTable([BLANK, UNK, "a", "b"])
        >>> table["a"], table[3]
        (2, 'b')
        >>> table.add("c")
        4
    """

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        """Make a table holding ``symbols`` with ids 0, 1, 2, ... in order."""
        self._sym2id: dict[str, int] = {}
        self._id2sym: dict[int, str] = {}
        for sym in symbols:
            self.add(sym)

    # -- building -----------------------------------------------------------------

    def add(self, symbol: str, index: int | None = None) -> int:
        """Add ``symbol`` and return its id.

        Args:
            symbol: the symbol; must be non-empty and contain no whitespace.
            index: the id to give it; by default one more than the largest id
                so far (0 for an empty table).

        Returns:
            The symbol's id. Adding a symbol already present returns its id
            when ``index`` is ``None`` or equal to it.

        Raises:
            ValueError: the symbol is malformed, already present with another
                id, or ``index`` is negative or taken by another symbol.
        """
        _check_symbol(symbol)
        if symbol in self._sym2id:
            have = self._sym2id[symbol]
            if index is not None and index != have:
                raise ValueError(f"symbol {symbol!r} already has id {have}, cannot give it id {index}")
            return have
        if index is None:
            index = max(self._id2sym, default=-1) + 1
        if index < 0:
            raise ValueError(f"symbol ids must be >= 0, got {index} for {symbol!r}")
        if index in self._id2sym:
            raise ValueError(f"id {index} already belongs to {self._id2sym[index]!r}, cannot give it to {symbol!r}")
        self._sym2id[symbol] = index
        self._id2sym[index] = symbol
        return index

    # -- lookup ---------------------------------------------------------------------

    def __getitem__(self, key: str | int) -> int | str:
        """The id of a symbol (``str`` key) or the symbol of an id (``int`` key)."""
        if isinstance(key, str):
            try:
                return self._sym2id[key]
            except KeyError:
                raise KeyError(f"no symbol {key!r} in the table") from None
        try:
            return self._id2sym[int(key)]
        except KeyError:
            raise KeyError(f"no id {key} in the table") from None

    def id(self, symbol: str) -> int:
        """The id of ``symbol``; ``KeyError`` if absent."""
        return self[symbol]  # type: ignore[return-value]

    def symbol(self, index: int) -> str:
        """The symbol with id ``index``; ``KeyError`` if absent."""
        return self[index]  # type: ignore[return-value]

    def get(self, key: str | int, default: int | str | None = None) -> int | str | None:
        """Like ``table[key]`` but returns ``default`` when ``key`` is absent."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is a symbol (``str``) or an id (``int``) of the table."""
        if isinstance(key, str):
            return key in self._sym2id
        if isinstance(key, int):
            return key in self._id2sym
        return False

    def __len__(self) -> int:
        """The number of symbols."""
        return len(self._sym2id)

    def __iter__(self) -> Iterator[str]:
        """The symbols in id order."""
        return iter(self.symbols)

    def __eq__(self, other: object) -> bool:
        """Tables are equal when they map the same symbols to the same ids."""
        return isinstance(other, SymbolTable) and self._sym2id == other._sym2id

    def __repr__(self) -> str:
        return f"SymbolTable({len(self)} symbols)"

    @property
    def symbols(self) -> list[str]:
        """All symbols, sorted by id."""
        return [self._id2sym[i] for i in sorted(self._id2sym)]

    @property
    def ids(self) -> list[int]:
        """All ids, sorted."""
        return sorted(self._id2sym)

    @property
    def max_id(self) -> int:
        """The largest id (-1 for an empty table); ``max_id + 1`` sizes an output layer."""
        return max(self._id2sym, default=-1)

    # -- files ----------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> SymbolTable:
        """Read a ``symbol id`` file (``words.txt`` / ``tokens.txt``).

        Blank lines are skipped.

        Raises:
            ValueError: a line is not ``symbol id``, the id is not a
                non-negative integer, or a symbol or id repeats; the message
                names the file and the 1-based line number.
        """
        table = cls()
        path = Path(path)
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                fields = line.split()
                if not fields:
                    continue
                where = f"{path}:{lineno}"
                if len(fields) != 2:
                    raise ValueError(f"{where}: expected 'symbol id', got {line.rstrip()!r}")
                sym, idx = fields
                try:
                    index = int(idx)
                except ValueError:
                    raise ValueError(f"{where}: id {idx!r} of {sym!r} is not an integer") from None
                if sym in table._sym2id:
                    raise ValueError(f"{where}: duplicate symbol {sym!r} (already id {table._sym2id[sym]})")
                if index in table._id2sym:
                    raise ValueError(f"{where}: duplicate id {index} (already {table._id2sym[index]!r})")
                try:
                    table.add(sym, index)
                except ValueError as e:
                    raise ValueError(f"{where}: {e}") from None
        return table

    def to_file(self, path: str | PathLike[str]) -> None:
        """Write the table as ``symbol id`` lines in id order (UTF-8, ``\\n`` endings)."""
        with Path(path).open("w", encoding="utf-8", newline="\n") as f:
            for index in sorted(self._id2sym):
                f.write(f"{self._id2sym[index]} {index}\n")


def _check_symbol(symbol: str) -> None:
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"symbols must be non-empty strings, got {symbol!r}")
    if any(ch.isspace() for ch in symbol):
        raise ValueError(f"symbols may not contain whitespace, got {symbol!r}")
