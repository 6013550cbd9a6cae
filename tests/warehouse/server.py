"""The warehouse: Thrift over HTTPS on 127.0.0.1, fault injection, and a log of every request.

The HTTP layer is a small HTTP/1.1 server (keep-alive, Content-Length, ``TCP_NODELAY``: without it
every reply waits about 45 ms for the client's delayed ACK).  Thrift's own HTTP server speaks
HTTP/1.0 and caps bodies at about 16 MB, as does its binary protocol unless the limit is lifted.
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from databricks.sql.thrift_api.TCLIService import TCLIService
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

from .service import Handler
from .sqlengine import SqlEngine
from .tls import make_certificates

HTTP_PATH = "/sql/1.0/warehouses/nuvyn-test"
KINDS = ("status", "drop", "delay")


@dataclass
class Fault:
    """What to do to the next ``times`` requests that match ``method`` and ``match`` (a regular
    expression searched in the statement), once ``skip`` matching requests have gone by, ``before`` or
    ``after`` the warehouse does the work: answer HTTP ``status`` (with ``Retry-After`` when given),
    drop the connection without an answer, or wait ``seconds``."""

    kind: str
    when: str = "before"
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0
    method: str | None = None
    match: str | None = None
    times: int = 1
    skip: int = 0

    def applies(self, method: str, statement: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.match is None or (
            statement is not None and re.search(self.match, statement, re.I) is not None
        )

    def __str__(self) -> str:
        what = {
            "status": f"HTTP {self.status}",
            "drop": "dropped connection",
            "delay": f"{self.seconds}s delay",
        }
        return f"{what[self.kind]} {self.when}"


class Injected(TTransport.TTransportException):
    """Raised through thrift's Processor (which re-raises transport errors) to the HTTP layer."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(message=str(fault))
        self.fault = fault


@dataclass(frozen=True)
class Request:
    method: str  # the Thrift call, or "HTTP" for a request refused before Thrift
    statement: str | None
    fault: str | None


class Warehouse:
    """A Databricks SQL warehouse for tests.  ``env()`` and ``url()`` point the executor at it."""

    http_path = HTTP_PATH

    def __init__(self, directory: Path, token: str | None = None) -> None:
        self.token = token or f"tok-{secrets.token_hex(12)}"
        self.ca_file, cert, key = make_certificates(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._lock = threading.Lock()
        self._call = threading.local()
        self._server = _Server(self, context)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, name="warehouse", daemon=True)
        self.engine: SqlEngine | None = None
        self.reset()
        self._thread.start()

    # --- pointing a client at it ---------------------------------------------------------------------
    @property
    def hostname(self) -> str:
        return f"{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment a user would set: DATABRICKS_*, and the CA bundle that trusts the warehouse."""
        return {
            "DATABRICKS_SERVER_HOSTNAME": self.hostname,
            "DATABRICKS_HTTP_PATH": self.http_path,
            "DATABRICKS_ACCESS_TOKEN": self.token,
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def url(self, catalog: str | None = None) -> str:
        url = f"databricks://token:{quote(self.token, safe='')}@{self.hostname}?http_path={self.http_path}"
        return url + (f"&catalog={catalog}" if catalog else "")

    def connect(self) -> Any:
        """A connection through the real connector, as a backend service would open one."""
        from databricks import sql

        return sql.connect(server_hostname=self.host, http_path=self.http_path, access_token=self.token,
                           _port=self.port, _tls_trusted_ca_file=str(self.ca_file), enable_telemetry=False)  # fmt: skip

    # --- state, faults and the log -------------------------------------------------------------------
    def reset(self) -> None:
        """A fresh, empty warehouse: no table, fault, session or logged request."""
        with self._lock:
            if self.engine is not None:
                self.engine.close()
            self.engine = SqlEngine()
            self.faults: list[Fault] = []
            self.requests: list[Request] = []
            self.statements: list[str] = []  # every statement executed, in order, repeats included
            self.busy_seconds = 0.0  # time spent decoding, running and encoding calls
            self.connections = 0  # TCP connections accepted (keep-alive reuses one)
            self.handler = Handler(self.engine, self._before, self._after)

    def reset_log(self) -> None:
        """Forget the requests, statements and busy time logged and the faults queued; the data stays."""
        with self._lock:
            self.faults, self.requests, self.statements = [], [], []
            self.busy_seconds, self.connections = 0.0, 0

    def inject(self, kind: str, **options: Any) -> Fault:
        """Queue a fault (see ``Fault``); faults apply in the order they were queued."""
        assert kind in KINDS, kind
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def create_catalog(self, name: str) -> None:
        assert self.engine is not None
        self.engine.create_catalog(name)

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """DuckDB SQL straight on the warehouse's data, for assertions."""
        assert self.engine is not None
        return self.engine.query(sql, parameters)

    def executed(self, pattern: str) -> list[str]:
        """The statements executed that match ``pattern`` (a regular expression, case-insensitive)."""
        return [s for s in self.statements if re.search(pattern, s, re.I)]

    @property
    def round_trips(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.engine is not None:
            self.engine.close()

    def _before(self, method: str, statement: str | None) -> None:
        with self._lock:
            fault = None
            for f in self.faults:  # every matching fault counts the request; the first one due strikes
                if not f.applies(method, statement):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                elif fault is None:
                    fault = f
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            self.requests.append(Request(method, statement, str(fault) if fault else None))
        self._call.fault, self._call.statement = fault, statement
        if fault is not None and fault.when == "before":
            self._apply(fault)

    def _after(self, method: str) -> None:
        if method == "ExecuteStatement":
            with self._lock:
                self.statements.append(self._call.statement)
        fault = self._call.fault
        if fault is not None and fault.when == "after":
            self._apply(fault)

    @staticmethod
    def _apply(fault: Fault) -> None:
        if fault.kind == "delay":
            time.sleep(fault.seconds)
        else:
            raise Injected(fault)

    def _process(self, body: bytes) -> bytes:
        """Decode one Thrift call, run it, encode the reply (raises ``Injected``)."""
        unlimited = {"string_length_limit": None, "container_length_limit": None}
        iprot = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(body), **unlimited)
        out = TTransport.TMemoryBuffer()
        started = time.perf_counter()
        try:
            TCLIService.Processor(self.handler).process(iprot, TBinaryProtocol.TBinaryProtocol(out))
        finally:
            with self._lock:
                self.busy_seconds += time.perf_counter() - started
        return out.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, warehouse: Warehouse, context: ssl.SSLContext) -> None:
        self.warehouse = warehouse
        self.context = context
        super().__init__(("127.0.0.1", 0), _HttpHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        with self.warehouse._lock:
            self.warehouse.connections += 1
        # The TLS handshake happens in the connection's own thread (see _HttpHandler.setup).
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that refused the certificate, or went away: nothing to report


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 60  # an idle kept-alive connection is closed after this
    server: _Server

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/x-thrift")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self) -> None:
        warehouse = self.server.warehouse
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refusal = None
        if self.path.split("?")[0] != warehouse.http_path:
            refusal = (404, "No such warehouse")
        elif self.headers.get("Authorization") != f"Bearer {warehouse.token}":
            refusal = (401, "Invalid access token")
        if refusal is not None:
            with warehouse._lock:
                warehouse.requests.append(Request("HTTP", None, f"HTTP {refusal[0]}"))
            self._reply(refusal[0], headers={"x-databricks-reason-phrase": refusal[1]})
            return
        try:
            reply = warehouse._process(body)
        except Injected as injected:
            fault = injected.fault
            if fault.kind == "drop":
                self.close_connection = True
                self.request.shutdown(socket.SHUT_RDWR)  # no TLS close_notify: the reply is simply lost
                return
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            self._reply(fault.status, headers=headers)
            return
        except Exception as err:  # a request the emulator cannot decode: answer as a server would
            message = " ".join(f"{type(err).__name__}: {err}".split())[:200]
            self._reply(500, headers={"x-thriftserver-error-message": message})
            return
        self._reply(200, reply)
