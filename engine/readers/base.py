"""The reader contract and the registry of readers by format.

A reader turns a ``FileRef`` into a ``TableStream``: column names, a bounded iterator of record batches,
and facts about the file (format, codec, encoding, dialect, warnings).  Text formats yield ``binary``
columns of raw text; readers never compute statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..discovery.base import FileRef
from ..errors import ReadError, UnsupportedFormatError


class RecordTooLarge(ReadError):
    """A record does not fit the parser's block; the caller retries with a larger block."""


@dataclass(frozen=True)
class ReadOptions:
    """What readers need to know; travels with every work unit."""

    block_size: int
    header: str = "auto"
    null_values: tuple[str, ...] = ()


@dataclass
class TableStream:
    """One table being read: names, batches and what was learnt about the file."""

    names: tuple[str, ...]
    batches: Iterator[pa.RecordBatch]
    file_type: str
    compression: str | None = None
    encoding: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Updated by the reader while (and once) the batches are consumed:
    warnings: list[str] = field(default_factory=list)
    ragged_long: int = 0  # records with more fields than columns
    ragged_short: int = 0  # records with fewer fields than columns
    close: Callable[[], None] = lambda: None


Opener = Callable[[FileRef, ReadOptions], TableStream]
_READERS: dict[str, Opener] = {}


def register(fmt: str) -> Callable[[Opener], Opener]:
    def deco(fn: Opener) -> Opener:
        _READERS[fmt] = fn
        return fn

    return deco


def opener_for(fmt: str) -> Opener:
    try:
        return _READERS[fmt]
    except KeyError:
        raise UnsupportedFormatError(f"{fmt} files are not supported yet") from None


def registered_formats() -> tuple[str, ...]:
    return tuple(sorted(_READERS))
