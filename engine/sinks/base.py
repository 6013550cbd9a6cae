"""The sink protocol, the limits a sink declares, and the mapping of output columns to storage types."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import pyarrow as pa

from ..catalog import Catalog
from ..errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class SinkCapabilities:
    """Limits a backend imposes on one statement."""

    max_parameters: int | None = None
    max_statement_bytes: int | None = None
    max_rows_per_insert: int | None = None


@dataclass(frozen=True)
class WriteReport:
    target: str  # where the rows went, without credentials
    statements: int
    rows: int


class Sink(Protocol):
    capabilities: SinkCapabilities

    def write(self, catalog: Catalog) -> WriteReport: ...

    def close(self) -> None: ...


def arrow_type(sql_type: str) -> pa.DataType:
    """The Arrow type a column of the catalog's ``sql_type`` is written with."""
    return {
        "STRING": pa.string,
        "INT": pa.int32,
        "BIGINT": pa.int64,
        "BOOLEAN": pa.bool_,
        "TIMESTAMP": lambda: pa.timestamp("us"),
    }[sql_type]()


def with_retries(
    fn: Callable[[], T],
    *,
    retries: int,
    backoff: float,
    backoff_max: float,
    on_retry: Callable[[int, Exception, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; on a ``TransientError`` wait (doubling from ``backoff`` up to ``backoff_max``) and retry,
    at most ``retries`` times."""
    attempt = 0
    delay = backoff
    while True:
        try:
            return fn()
        except TransientError as err:
            if attempt >= retries:
                raise
            attempt += 1
            if on_retry is not None:
                on_retry(attempt, err, delay)
            sleep(delay)
            delay = min(delay * 2, backoff_max)
