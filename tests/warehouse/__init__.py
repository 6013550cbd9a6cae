"""A local Databricks SQL warehouse emulator that the real ``databricks-sql-connector`` talks to.

- HTTPS on 127.0.0.1 (a free port) with a certificate made at start-up (``tls.py``), trusted through
  the connector's CA setting (``REQUESTS_CA_BUNDLE`` for the executor).
- Thrift over HTTP, decoded with the connector's own generated ``TCLIService.Processor`` and thrift's
  in-memory transport and binary protocol (``server.py``); the calls are answered in ``service.py``
  with Arrow results, ``ExecuteStatement`` with direct results (one round trip per statement).
- SQL transpiled by sqlglot from the ``databricks`` dialect to DuckDB, run with the time zone in UTC
  (``sqlengine.py``).
- Fault injection (``Warehouse.inject``: an HTTP status such as 503 or 429 with ``Retry-After``, 500,
  a dropped connection, a delay; before or after the statement runs) and a log of every request
  (``Warehouse.requests``) and every statement executed (``Warehouse.statements``).
"""

from .server import HTTP_PATH, Fault, Request, Warehouse
from .sqlengine import SqlEngine, SqlError, transpile

__all__ = ["HTTP_PATH", "Fault", "Request", "SqlEngine", "SqlError", "Warehouse", "transpile"]
