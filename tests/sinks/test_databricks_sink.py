"""The Databricks SQL sink's connection settings, its use of the connector, and its error classes."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest
import urllib3

from nuvyn_executor.engine.errors import ConfigurationError, TerminalSinkError, TransientSinkError
from nuvyn_executor.engine.settings import SinkSettings, databricks_from_env
from nuvyn_executor.engine.sinks import open_sink
from nuvyn_executor.engine.sinks.databricks import (
    CONNECTOR_RETRY,
    DatabricksSink,
    connect_kwargs,
    databricks_settings_from_url,
)

from .dbx import make_catalog

dbsql = pytest.importorskip("databricks.sql")
TOKEN = "dapi-url-token-0123456789"


def test_a_url_gives_host_port_path_token_and_catalog() -> None:
    c = databricks_settings_from_url(
        f"databricks://token:{TOKEN}@adb-1.azuredatabricks.net:8443?http_path=/sql/1.0/warehouses/abc&catalog=lake"
    )
    assert (c.server_hostname, c.port, c.http_path, c.access_token, c.catalog) == (
        "adb-1.azuredatabricks.net", 8443, "/sql/1.0/warehouses/abc", TOKEN, "lake")  # fmt: skip
    assert TOKEN not in repr(c)
    # --catalog wins over the URL's; a percent-encoded token is decoded
    c = databricks_settings_from_url("databricks://token:a%2Fb%40c@h?http_path=/p&catalog=lake", "main")
    assert (c.server_hostname, c.port, c.access_token, c.catalog) == ("h", None, "a/b@c", "main")


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (f"databricks://token:{TOKEN}@host", "http_path"),
        ("databricks://host?http_path=/p", "no access token"),
        (f"databricks://token:{TOKEN}@host:notaport?http_path=/p", "bad `--db` URL"),
        (f"databricks://token:{TOKEN}@?http_path=/p", "expected databricks://"),
    ],
)
def test_bad_urls_are_configuration_errors_without_the_token(url: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as err:
        databricks_settings_from_url(url)
    assert TOKEN not in str(err.value)


def test_open_sink_routes_urls_and_the_environment(warehouse) -> None:
    by_url = open_sink(SinkSettings(write_to_db=True, db_url=warehouse.url(), catalog="c", schema="s"))
    by_env = open_sink(SinkSettings.from_env(warehouse.env(), write_to_db=True))
    assert isinstance(by_url, DatabricksSink)
    assert isinstance(by_env, DatabricksSink)
    assert by_url.target.table_ref("sources") == "`c`.`s`.`sources`"
    assert (by_env.conn.server_hostname, by_env.conn.port) == ("127.0.0.1", warehouse.port)  # host:port split


def test_connector_keywords(warehouse) -> None:
    env = {**warehouse.env(), "DATABRICKS_SERVER_HOSTNAME": f"https://{warehouse.hostname}/"}
    settings = SinkSettings.from_env({**env, "EXECUTOR_DB_TIMEOUT": "7.5"}, write_to_db=True)
    kw = connect_kwargs(databricks_from_env(env), settings)
    assert kw["server_hostname"] == "127.0.0.1"
    assert kw["_port"] == warehouse.port
    assert kw["_tls_trusted_ca_file"] == str(warehouse.ca_file)
    assert kw["enable_telemetry"] is False
    assert kw["_socket_timeout"] == 7.5
    assert kw["access_token"] == warehouse.token


def test_the_retry_keywords_are_within_the_connectors_bounds() -> None:
    """The connector clamps each retry setting (and logs a warning); ours must be taken as given."""
    from databricks.sql.backend.thrift_backend import _retry_policy

    for key, value in CONNECTOR_RETRY.items():
        _, _, low, high = _retry_policy[key]
        assert low <= value <= high, key
    # a retry window shorter than the shortest 429/503 sleep the connector would take
    assert CONNECTOR_RETRY["_retry_stop_after_attempts_duration"] < CONNECTOR_RETRY["_retry_delay_max"]


def test_no_connection_goes_anywhere_but_the_warehouse(
    warehouse, monkeypatch: pytest.MonkeyPatch, amazon
) -> None:
    """Telemetry off: no feature-flag call to port 443, no telemetry upload, nothing but the warehouse."""
    from databricks.sql.common.feature_flag import FeatureFlagsContextFactory

    seen: list[Any] = []
    connect = socket.socket.connect

    def audited(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", audited)
    sink = DatabricksSink(databricks_from_env(warehouse.env()), SinkSettings(write_to_db=True))
    try:
        sink.write(make_catalog())
    finally:
        sink.close()
    assert seen
    assert {a[1] for a in seen} == {warehouse.port}
    assert FeatureFlagsContextFactory._context_map == {}


# --- error classes: the connector's and urllib3's own exceptions --------------------------------------------
def _verify_failed() -> ssl.SSLCertVerificationError:
    return ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")


ERRORS = [
    (dbsql.exc.RequestError("Error during request to server", {"http-code": 503}, None, OSError("reset")),
     TransientSinkError),
    (dbsql.exc.MaxRetryDurationError("Retry request would exceed Retry policy max retry duration"), TransientSinkError),
    (dbsql.exc.RequestError("Error during request to server: Invalid access token", {"http-code": 401}),
     TerminalSinkError),
    (dbsql.exc.RequestError("Error during request to server", {"http-code": 404}), TerminalSinkError),
    (dbsql.exc.ServerOperationError("[PARSE_SYNTAX_ERROR] Syntax error at or near 'x'"), TerminalSinkError),
    (dbsql.exc.ServerOperationError("[TABLE_OR_VIEW_NOT_FOUND] The table cannot be found"), TerminalSinkError),
    (dbsql.exc.ServerOperationError("[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: files were added"),
     TransientSinkError),
    (dbsql.exc.DatabaseError("Invalid SessionHandle"), TerminalSinkError),
    (urllib3.exceptions.MaxRetryError(None, "/p", urllib3.exceptions.ResponseError("too many 503 error responses")),
     TransientSinkError),
    (urllib3.exceptions.MaxRetryError(None, "/p", urllib3.exceptions.NewConnectionError(None, "refused")),
     TransientSinkError),
    (urllib3.exceptions.MaxRetryError(None, "/p", urllib3.exceptions.SSLError(_verify_failed())), TerminalSinkError),
    (dbsql.exc.RequestError("Error during request to server", {}, None, _verify_failed()), TerminalSinkError),
    (ConnectionResetError(104, "Connection reset by peer"), TransientSinkError),
    (TimeoutError("timed out"), TransientSinkError),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "kind"), ERRORS, ids=[f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(ERRORS)]
)
def test_driver_errors_are_classed(warehouse, error: Exception, kind: type) -> None:
    sink = DatabricksSink(databricks_from_env(warehouse.env()), SinkSettings(write_to_db=True, retries=0))

    def fail() -> None:
        raise error

    with pytest.raises(kind) as raised:
        sink._retrying(fail, "doing it")
    assert str(raised.value).startswith("doing it failed: ")
    assert "\n" not in str(raised.value)


def test_transient_errors_are_retried_with_the_settings_backoff(warehouse) -> None:
    sink = DatabricksSink(databricks_from_env(warehouse.env()),
                          SinkSettings(write_to_db=True, retries=3, backoff=0.01, backoff_max=0.02))  # fmt: skip
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError(104, "Connection reset by peer")
        return "done"

    assert sink._retrying(flaky, "x") == "done"
    assert len(calls) == 3
    calls.clear()

    def always() -> None:
        calls.append(1)
        raise dbsql.exc.ServerOperationError("[PARSE_SYNTAX_ERROR] no")

    with pytest.raises(TerminalSinkError):
        sink._retrying(always, "x")
    assert len(calls) == 1


def test_errors_that_are_not_the_drivers_are_bugs_and_propagate(warehouse) -> None:
    sink = DatabricksSink(databricks_from_env(warehouse.env()), SinkSettings(write_to_db=True))

    def bug() -> None:
        raise KeyError("oops")

    with pytest.raises(KeyError):
        sink._retrying(bug, "x")


def test_write_settings_from_the_environment() -> None:
    env = {"EXECUTOR_DB_RETRIES": "2", "EXECUTOR_DB_BACKOFF": "0.5", "EXECUTOR_DB_BACKOFF_MAX": "4",
           "EXECUTOR_DB_TIMEOUT": "30", "EXECUTOR_MAX_STATEMENT_BYTES": "65536"}  # fmt: skip
    s = SinkSettings.from_env(env)
    assert (s.retries, s.backoff, s.backoff_max, s.timeout, s.max_statement_bytes) == (
        2,
        0.5,
        4.0,
        30.0,
        65536,
    )
    for name, bad in [("EXECUTOR_DB_BACKOFF", "soon"), ("EXECUTOR_DB_TIMEOUT", "0"), ("EXECUTOR_DB_TIMEOUT", "nan"),
                      ("EXECUTOR_MAX_STATEMENT_BYTES", "100")]:  # fmt: skip
        with pytest.raises(ConfigurationError, match=name):
            SinkSettings.from_env({name: bad})
