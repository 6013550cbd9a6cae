"""Azurite (the Azure Storage emulator) for tests and benchmarks, and a fault-injecting proxy in front of it.

Azurite is the npm package ``azurite``; tox installs it into ``{toxworkdir}/azurite`` before the tests
(see tox.ini).  It is found, in order, at ``$AZURITE_BIN``, ``.tox/azurite/node_modules/.bin``,
``node_modules/.bin`` and on ``PATH``.  When it is missing the Azure tests are skipped, except where
``AZURITE_REQUIRED=1`` (tox sets it), where they fail.

Everything listens on 127.0.0.1 only: Azurite's blob service on a port it picks itself, with its data in a
temporary folder, and the proxy on another free port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft): not a secret.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_VERSION = "3.35.0"
ENV_BIN = "AZURITE_BIN"
ENV_REQUIRED = "AZURITE_REQUIRED"
_NAME = "azurite-blob"  # the blob service alone (the npm package installs it beside `azurite`)


def candidates() -> list[Path]:
    """Where Azurite is looked for, in order."""
    places: list[Path] = []
    if os.environ.get(ENV_BIN):
        places.append(Path(os.environ[ENV_BIN]))
    for base in (ROOT / ".tox" / "azurite" / "node_modules" / ".bin", ROOT / "node_modules" / ".bin"):
        places.append(base / _NAME)
    found = shutil.which(_NAME)
    if found:
        places.append(Path(found))
    return places


def find_azurite() -> Path | None:
    for path in candidates():
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def missing_reason() -> str:
    return (
        f"Azurite not found (looked at ${ENV_BIN}, .tox/azurite/node_modules/.bin, node_modules/.bin and PATH): "
        f"`npm install --no-save --prefix .tox/azurite azurite@{AZURITE_VERSION}` or run the tests through tox"
    )


def required() -> bool:
    return os.environ.get(ENV_REQUIRED, "").strip().lower() in ("1", "true", "yes")


@dataclass
class Azurite:
    """A running Azurite blob service."""

    proc: subprocess.Popen[str]
    port: int
    folder: Path
    log: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def endpoint_via(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return connection_string(self.endpoint)

    def service(self, endpoint: str | None = None) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            endpoint or self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY}
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def connection_string(endpoint: str, key: str = KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={endpoint};"


def start_azurite(binary: Path, folder: Path, timeout: float = 60.0) -> Azurite:
    """Start the blob service on 127.0.0.1 and a port of its choosing; wait until it listens."""
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        str(binary),
        "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", str(folder),
        "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
    ]  # fmt: skip
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=folder,
    )
    lines: list[str] = []
    port: list[int] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            m = re.search(r"listens? (?:on|at) https?://127\.0\.0\.1:(\d+)", line)
            if m and not port:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True, name="azurite-log").start()
    ready.wait(timeout)
    server = Azurite(proc, port[0] if port else 0, folder, lines)
    if not port:
        server.stop()
        raise RuntimeError(f"Azurite did not start within {timeout:.0f}s: {' | '.join(lines[-10:])}")
    return server


# --- SAS tokens -----------------------------------------------------------------------------------------


def container_sas(container: str, *, hours: float = 1.0, permission: str = "rl") -> str:
    """A real service SAS for a container (read and list by default) expiring in ``hours`` (may be < 0)."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    now = dt.datetime.now(dt.timezone.utc)
    return generate_container_sas(
        ACCOUNT,
        container,
        account_key=KEY,
        permission=ContainerSasPermissions.from_string(permission),
        expiry=now + dt.timedelta(hours=hours),
        start=now - dt.timedelta(hours=abs(hours) + 1),
    )


def blob_sas(container: str, blob: str, *, hours: float = 1.0) -> str:
    """A read-only SAS for one blob."""
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    now = dt.datetime.now(dt.timezone.utc)
    return generate_blob_sas(
        ACCOUNT,
        container,
        blob,
        account_key=KEY,
        permission=BlobSasPermissions(read=True),
        expiry=now + dt.timedelta(hours=hours),
        start=now - dt.timedelta(minutes=5),
    )


def upload_folder(container: Any, folder: Path, prefix: str = "") -> list[str]:
    """Upload every file under ``folder`` (hidden ones too) as ``prefix + relative path``."""
    names = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = prefix + path.relative_to(folder).as_posix()
            with path.open("rb") as fh:
                container.upload_blob(name, fh, overwrite=True, max_concurrency=2)
            names.append(name)
    return names


# --- a fault-injecting proxy ----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    status: int = 0
    nbytes: int = 0  # response body bytes sent to the client


@dataclass
class Fault:
    """Answer requests that ``match`` with ``status`` (or drop the connection: status 0), ``times`` times."""

    match: Callable[[Request], bool]
    status: int = 503
    times: float = 1
    hits: int = 0


_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_BUSY = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
    b"<Message>The server is busy (injected by the test proxy).</Message></Error>"
)


class FaultProxy:
    """A reverse proxy on 127.0.0.1 in front of Azurite that logs every request and injects faults."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                req = Request(
                    self.command, self.path, self.headers.get("x-ms-range") or self.headers.get("Range")
                )
                fault = proxy._fault_for(req)
                if fault is not None:
                    if fault.status == 0:
                        req.status = 0
                        proxy._record(req)
                        self.close_connection = True
                        with contextlib.suppress(OSError):
                            self.connection.shutdown(2)
                        return
                    req.status, req.nbytes = fault.status, len(_BUSY)
                    proxy._record(req)
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("x-ms-error-code", "ServerBusy")
                    self.send_header("Content-Length", str(len(_BUSY)))
                    self.end_headers()
                    self.wfile.write(_BUSY)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                req.status, req.nbytes = resp.status, len(data)
                proxy._record(req)
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client dropping a kept-alive connection is normal.  Printing a traceback from this
                # thread would also race the test's own traceback formatting (CPython 3.11's traceback
                # module parses source with `ast`, whose recursion guard is not thread-safe before 3.11.8).
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fault-proxy")
        self._thread.start()

    def _fault_for(self, req: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.hits < fault.times and fault.match(req):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)

    def inject(self, match: Callable[[Request], bool], status: int = 503, times: float = 1) -> Fault:
        fault = Fault(match, status, times)
        with self._lock:
            self.faults.append(fault)
        return fault

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def azurite_for(tmp_path_factory: Any) -> Iterator[Azurite]:
    """The body of an ``azurite`` fixture: start one in a temporary folder and stop it afterwards; skip
    (or fail, under tox) when Azurite is not installed."""
    import pytest

    binary = find_azurite()
    if binary is None:
        if required():
            pytest.fail(missing_reason())
        pytest.skip(missing_reason())
    server = start_azurite(binary, tmp_path_factory.mktemp("azurite"))
    try:
        yield server
    finally:
        server.stop()
