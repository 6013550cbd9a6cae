"""The embedded store: the three metadata tables in a DuckDB file, written in one transaction.

Values are bound (through an Arrow table DuckDB scans), never spliced into SQL text.  A run's rows are
written with the ``sources`` row last; rows a failed earlier attempt left with the same ``source_id`` are
deleted first, so a retried write never duplicates.  Tables created by older versions get the missing
columns added; nothing is ever dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os

import pyarrow as pa

from .._optional import import_duckdb
from ..catalog import SCHEMAS, Catalog
from ..errors import TerminalSinkError, TransientSinkError
from .base import SinkCapabilities, WriteReport, arrow_type, with_retries

log = logging.getLogger(__name__)

_DUCKDB_TYPES = {"STRING": "VARCHAR", "INT": "INTEGER", "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN",
                 "TIMESTAMP": "TIMESTAMP"}  # fmt: skip


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def arrow_rows(table: str, rows: list[dict]) -> pa.Table:
    schema = pa.schema([(name, arrow_type(typ)) for name, typ in SCHEMAS[table]])
    data = {name: [r.get(name) for r in rows] for name in schema.names}
    ts = [name for name, typ in SCHEMAS[table] if typ == "TIMESTAMP"]
    for name in ts:  # timezone-aware UTC datetimes -> naive UTC, as TIMESTAMP stores them
        data[name] = [v.replace(tzinfo=None) if v is not None and v.tzinfo else v for v in data[name]]
    return pa.table(data, schema=schema)


class DuckDBSink:
    capabilities = SinkCapabilities()

    def __init__(
        self, path: str, schema: str, *, retries: int = 5, backoff: float = 0.2, backoff_max: float = 5.0
    ):
        self.path = path
        self.schema = schema
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self._duckdb = import_duckdb()
        self._con = None

    @property
    def target(self) -> str:
        return f"duckdb://{os.path.abspath(self.path)}"

    def _connect(self):  # type: ignore[no-untyped-def]
        duckdb = self._duckdb

        def attempt():  # type: ignore[no-untyped-def]
            try:
                return duckdb.connect(self.path)
            except duckdb.IOException as err:
                if "lock" in str(err).lower():
                    raise TransientSinkError(f"`{self.path}` is locked by another process") from None
                raise TerminalSinkError(f"cannot open `{self.path}`: {err}") from None
            except duckdb.Error as err:
                raise TerminalSinkError(f"cannot open `{self.path}`: {err}") from None

        def note(n: int, err: Exception, delay: float) -> None:
            log.warning("%s; retry %d/%d in %.1fs", err, n, self.retries, delay)

        return with_retries(attempt, retries=self.retries, backoff=self.backoff, backoff_max=self.backoff_max,
                            on_retry=note)  # fmt: skip

    def ensure_tables(self, con) -> None:  # type: ignore[no-untyped-def]
        """Create the schema and tables, and add the columns older tables lack."""
        sch = quote_ident(self.schema)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {sch}")
        for table, columns in SCHEMAS.items():
            cols = ", ".join(f"{quote_ident(n)} {_DUCKDB_TYPES[t]}" for n, t in columns)
            con.execute(f"CREATE TABLE IF NOT EXISTS {sch}.{quote_ident(table)} ({cols})")
            have = {
                r[0].lower()
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                    [self.schema, table],
                ).fetchall()
            }
            for name, typ in columns:
                if name.lower() not in have:
                    log.info("adding column %s.%s.%s", self.schema, table, name)
                    con.execute(
                        f"ALTER TABLE {sch}.{quote_ident(table)} ADD COLUMN {quote_ident(name)} {_DUCKDB_TYPES[typ]}"
                    )

    def write(self, catalog: Catalog) -> WriteReport:
        duckdb = self._duckdb
        con = self._con = self._connect()
        statements = 0
        try:
            self.ensure_tables(con)
            con.execute("BEGIN TRANSACTION")
            sch = quote_ident(self.schema)
            # `sources` last: a reader trusts rows whose source_id has a sources row.
            for table in ("tables", "columns", "sources"):
                con.execute(
                    f"DELETE FROM {sch}.{quote_ident(table)} WHERE source_id = ?", [catalog.source_id]
                )
                rows = catalog.rows(table)
                if rows:
                    names = ", ".join(quote_ident(n) for n, _ in SCHEMAS[table])
                    con.register("_nuvyn_rows", arrow_rows(table, rows))
                    try:
                        con.execute(
                            f"INSERT INTO {sch}.{quote_ident(table)} ({names}) SELECT {names} FROM _nuvyn_rows"
                        )
                    finally:
                        con.unregister("_nuvyn_rows")
                    statements += 1
            con.execute("COMMIT")
        except duckdb.Error as err:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise TerminalSinkError(f"writing to `{self.path}` failed: {err}") from None
        rows = len(catalog.sources) + len(catalog.tables) + len(catalog.columns)
        return WriteReport(target=self.target, statements=statements, rows=rows)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
