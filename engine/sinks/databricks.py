"""The metadata tables in a Databricks SQL warehouse, through ``databricks-sql-connector``.

Exactly once.  The connector repeats a request on its own when a reply is lost (a dropped connection,
a socket timeout), so an INSERT can run twice while the client sees one success; and a statement that
failed may or may not have run.  The sink therefore never trusts a single statement:

1. ``columns`` and ``tables`` are inserted in batches, then their rows for the run's ``source_id`` are
   counted; a table whose count is off has its rows for the run deleted and written again.
2. Only then is the ``sources`` row inserted, counted and, if need be, rewritten the same way.

The ``sources`` row is the commit marker: a reader should trust ``tables`` and ``columns`` rows only
when their ``source_id`` has a ``sources`` row.  Rows without one are an unfinished or failed write.
Rows an earlier attempt left for the same ``source_id`` are deleted first (the ``sources`` row before
the others), so writing the same catalog again never duplicates.

Retries.  The sink retries a statement that failed transiently (HTTP 429/503, a dropped connection, a
timeout) with the backoff of ``SinkSettings`` (``retries``, ``backoff``, ``backoff_max``).  The
connector's own retry policy cannot follow those limits: before repeating a 429 or 503 it sleeps
``max(Retry-After, _retry_delay_max)``, and it clamps ``_retry_delay_max`` to at least 5 s (60 s by
default).  :data:`CONNECTOR_RETRY` therefore gives it a retry window of 1 s, too short for any such
sleep, so it hands those errors straight back; it still repeats, at once, a request whose connection
dropped.

Connections.  Telemetry is off (``enable_telemetry=False``): with it on, the connector first asks a
feature-flag endpoint on port 443 of the host, whatever port the warehouse listens on.  A custom CA
bundle (``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``) is passed as ``_tls_trusted_ca_file``.  The access
token is registered with :mod:`..redact`, so no message, log line or error carries it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from .._optional import import_databricks_sql
from ..catalog import SCHEMAS, Catalog
from ..errors import ConfigurationError, SinkError, TerminalSinkError, TransientSinkError
from ..redact import redact_text, redact_url, register_secret
from ..settings import DatabricksSettings, SinkSettings, ca_bundle_from_env, make_databricks_settings
from . import batching as sql
from .base import SinkCapabilities, WriteReport, with_retries

log = logging.getLogger(__name__)

T = TypeVar("T")

# Native parameters a Databricks SQL statement accepts (values are rendered as literals instead).
MAX_NATIVE_PARAMETERS = 256

# See the module docstring.  The connector bounds each value: delay_min >= 0.1 s, delay_max >= 5 s,
# attempts >= 1, duration >= 1 s.
CONNECTOR_RETRY: dict[str, Any] = {
    "_retry_stop_after_attempts_count": 1,
    "_retry_stop_after_attempts_duration": 1.0,
    "_retry_delay_min": 0.1,
    "_retry_delay_max": 5.0,
}

# HTTP statuses after which retrying cannot help: a bad request, credentials, an unknown http_path.
_TERMINAL_HTTP = {400, 401, 403, 404}
# Errors a warehouse reports for a statement that may well succeed when run again.
_TRANSIENT_SQL = ("CONCURRENT", "TEMPORARILY_UNAVAILABLE", "SERVICE_UNAVAILABLE", "THROTTLED")
_MESSAGE_LIMIT = 300


def databricks_settings_from_url(url: str, catalog: str | None = None) -> DatabricksSettings:
    """Connection settings from ``databricks://token:TOKEN@HOST[:PORT]?http_path=PATH[&catalog=C]``.

    ``catalog`` (``--catalog``), when given, wins over the URL's ``catalog=``.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise ConfigurationError(f"bad `--db` URL `{shown}`: {err}") from None
    if parts.scheme.lower() != "databricks" or not parts.hostname:
        raise ConfigurationError(
            f"bad `--db` URL `{shown}`: expected databricks://token:TOKEN@HOST?http_path=PATH"
        )
    token = unquote(parts.password or "")
    register_secret(token)
    if not token:
        raise ConfigurationError(
            f"`--db` URL `{shown}` holds no access token (databricks://token:TOKEN@HOST...)"
        )
    query = parse_qs(parts.query)
    http_path = (query.get("http_path") or [""])[0]
    if not http_path:
        raise ConfigurationError(f"`--db` URL `{shown}` needs `?http_path=/sql/1.0/warehouses/ID`")
    host = parts.hostname if port is None else f"{parts.hostname}:{port}"
    return make_databricks_settings(
        host,
        http_path,
        token,
        catalog=catalog or (query.get("catalog") or [None])[0],
        ca_bundle=ca_bundle_from_env(),
    )


def connect_kwargs(conn: DatabricksSettings, settings: SinkSettings) -> dict[str, Any]:
    """The keyword arguments of ``databricks.sql.connect`` (the access token among them)."""
    kwargs: dict[str, Any] = {
        "server_hostname": conn.server_hostname,
        "http_path": conn.http_path,
        "access_token": conn.access_token,
        "enable_telemetry": False,
        "user_agent_entry": "nuvyn-executor",
        "_socket_timeout": settings.timeout,
        **CONNECTOR_RETRY,
    }
    if conn.port is not None:
        kwargs["_port"] = conn.port
    if conn.ca_bundle:
        kwargs["_tls_trusted_ca_file"] = conn.ca_bundle
    return kwargs


def _chain(err: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: causes, contexts, urllib3's ``reason``, exceptions among its ``args``
    (where the connector and urllib3 keep the error they wrap)."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend(x for x in (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args)
                    if isinstance(x, BaseException))  # fmt: skip


def _one_line(text: str) -> str:
    text = " ".join(redact_text(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


class DatabricksSink:
    """Writes a ``Catalog`` to ``[catalog.]schema`` in a Databricks SQL warehouse, exactly once."""

    def __init__(self, conn: DatabricksSettings, settings: SinkSettings) -> None:
        register_secret(conn.access_token)
        self.conn = conn
        self.settings = settings
        self.target = sql.Target(settings.schema, conn.catalog)
        self.capabilities = SinkCapabilities(
            max_parameters=MAX_NATIVE_PARAMETERS,
            max_statement_bytes=settings.max_statement_bytes,
            max_rows_per_insert=settings.max_rows_per_insert,
        )
        self._dbsql = import_databricks_sql()
        self._connection: Any = None
        self._cursor: Any = None
        self.statements = 0

    @property
    def where(self) -> str:
        port = f":{self.conn.port}" if self.conn.port else ""
        return f"databricks://{self.conn.server_hostname}{port}{self.conn.http_path} {self.target.display()}"

    # --- errors and retries ------------------------------------------------------------------------
    def _driver_error(self, err: BaseException) -> bool:
        import urllib3
        from thrift.Thrift import TException

        return isinstance(err, (self._dbsql.exc.Error, urllib3.exceptions.HTTPError, OSError, TException))

    def _classify(self, err: BaseException, what: str) -> SinkError:
        """The driver's error as a ``TransientSinkError`` (retrying may help) or ``TerminalSinkError``."""
        exc = self._dbsql.exc
        message = f"{what} failed: {_one_line(str(err) or type(err).__name__)}"
        chain = list(_chain(err))
        if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
            return TerminalSinkError(f"{message} (is the warehouse's CA in REQUESTS_CA_BUNDLE?)")
        if isinstance(err, exc.RequestError):
            code = err.context.get("http-code") if isinstance(err.context, dict) else None
            if code in _TERMINAL_HTTP:
                return TerminalSinkError(f"{message} (HTTP {code})")
            return TransientSinkError(message)
        if isinstance(err, exc.Error):  # the warehouse refused the statement
            transient = any(m in str(err).upper() for m in _TRANSIENT_SQL)
            return (TransientSinkError if transient else TerminalSinkError)(message)
        return TransientSinkError(message)  # urllib3, socket and thrift transport errors

    def _retrying(self, fn: Callable[[], T], what: str) -> T:
        def attempt() -> T:
            try:
                return fn()
            except Exception as err:
                if not self._driver_error(err):
                    raise
                raise self._classify(err, what) from None

        def note(n: int, err: Exception, delay: float) -> None:
            log.warning("%s; retry %d/%d in %.2gs", err, n, self.settings.retries, delay)

        s = self.settings
        return with_retries(
            attempt, retries=s.retries, backoff=s.backoff, backoff_max=s.backoff_max, on_retry=note
        )

    # --- statements --------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._cursor is None:
            kwargs = connect_kwargs(self.conn, self.settings)
            self._connection = self._retrying(
                lambda: self._dbsql.connect(**kwargs), f"connecting to {self.where}"
            )
            self._cursor = self._connection.cursor()
        return self._cursor

    def _run(self, statement: str, what: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Execute one statement (retrying transient failures); its result's column names and rows."""

        def run() -> tuple[list[str], list[tuple[Any, ...]]]:
            cur.execute(statement)
            return [d[0] for d in cur.description or ()], [tuple(r) for r in cur.fetchall()]

        cur = self._open()
        result = self._retrying(run, what)
        self.statements += 1
        return result

    # --- DDL ---------------------------------------------------------------------------------------
    def _missing_columns(self, table: str, source_id: str) -> tuple[list[tuple[str, str]], bool]:
        """The contract's columns the table lacks, and whether it holds rows of ``source_id``."""
        names, rows = self._run(sql.probe_columns(self.target, table, source_id), f"reading `{table}`")
        have = {n.lower() for n in names}
        return [(n, t) for n, t in SCHEMAS[table] if n.lower() not in have], bool(rows)

    def _ensure_tables(self, source_id: str) -> list[str]:
        """Create the schema and tables, add the columns older tables lack; returns the tables that hold
        rows of ``source_id`` already."""
        self._run(sql.create_schema(self.target), f"creating schema `{self.target.display()}`")
        for table, columns in SCHEMAS.items():
            self._run(
                sql.create_table(self.target, table, columns), f"creating `{self.target.display(table)}`"
            )
        leftovers = []
        for table in SCHEMAS:
            missing, has_rows = self._missing_columns(table, source_id)
            if has_rows:
                leftovers.append(table)
            if not missing:
                continue
            log.info("adding %s to %s", ", ".join(n for n, _ in missing), self.target.display(table))
            try:
                self._run(sql.add_columns(self.target, table, missing), f"adding columns to `{table}`")
            except SinkError:
                # A lost reply may hide an ALTER that ran, or that the connector ran twice (the second
                # failing on the now existing columns): look again before counting it as failed.
                if self._missing_columns(table, source_id)[0]:
                    raise
        return leftovers

    # --- rows --------------------------------------------------------------------------------------
    def _counts(self, tables: Sequence[str], source_id: str) -> dict[str, int]:
        _, rows = self._run(sql.count_rows(self.target, tables, source_id), "counting the rows written")
        return {str(t): int(n) for t, n in rows}

    def _delete(self, table: str, source_id: str) -> None:
        self._run(sql.delete_rows(self.target, table, source_id), f"deleting the run's rows of `{table}`")

    def _write_verified(self, catalog: Catalog, tables: Sequence[str]) -> None:
        """Insert the rows of ``tables``, count them, and rewrite any table whose count is off."""
        source_id = catalog.source_id
        plans = {
            t: sql.plan_inserts(self.target, t, SCHEMAS[t], catalog.rows(t), self.capabilities)
            for t in tables
        }
        pending = list(tables)
        # Rewriting repairs a write that succeeded too well: allowed at least once, even with no retries.
        attempts = max(self.settings.retries, 1) + 1
        for _ in range(attempts):
            for table in pending:
                plan = plans[table]
                for i, statement in enumerate(plan, 1):
                    self._run(statement.sql, f"inserting into `{table}` ({i}/{len(plan)})")
            counts = self._counts(tables, source_id)
            pending = [t for t in tables if counts.get(t, 0) != len(catalog.rows(t))]
            if not pending:
                return
            for table in pending:
                log.warning(
                    "`%s` holds %d row(s) of source %s instead of %d; writing them again",
                    self.target.display(table), counts.get(table, 0), source_id, len(catalog.rows(table)),
                )  # fmt: skip
                self._delete(table, source_id)
        raise TransientSinkError(
            f"could not write {', '.join(pending)} of source {source_id} exactly once in {attempts} attempts"
        )

    def write(self, catalog: Catalog) -> WriteReport:
        self.statements = 0
        leftovers = self._ensure_tables(catalog.source_id)
        # An earlier attempt's rows go first, the sources row (the commit marker) before the others.
        for table in sorted(leftovers, key=lambda t: t != "sources"):
            self._delete(table, catalog.source_id)
        self._write_verified(catalog, ("columns", "tables"))
        self._write_verified(catalog, ("sources",))
        rows = len(catalog.sources) + len(catalog.tables) + len(catalog.columns)
        return WriteReport(target=self.where, statements=self.statements, rows=rows)

    def close(self) -> None:
        connection, self._connection, self._cursor = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception as err:  # the rows are written (or not) already: closing cannot change that
                log.debug("closing the Databricks SQL connection: %s", redact_text(str(err)))
