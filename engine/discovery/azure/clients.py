"""This process's SDK clients and the containers it may read.

The parent records, per endpoint and container, the credential discovery resolved (``register_scope``);
forked workers inherit the record and build their own clients, which are keyed by ``os.getpid()``: a
client's connection pool must never be shared across a fork.  Spawned workers are given the record
(``discovery.worker_state``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..._optional import import_azure_blob
from ...settings import AzureSettings
from .credentials import Grant, resolve_grant
from .locations import HOSTED, parse_azure_url

#: The largest range one download fetches (the clients' single and chunked get sizes).
MAX_CHUNK = 8 << 20


@dataclass(frozen=True)
class Scope:
    """A container this process may read, and how."""

    endpoint: str
    container: str
    grant: Grant

    @property
    def prefix(self) -> str:
        return f"{self.endpoint}/{self.container}/"


_SCOPES: dict[str, Scope] = {}
_CLIENTS: dict[tuple[int, str], Any] = {}
_CREDENTIALS: dict[tuple[int, str], Any] = {}
_settings: AzureSettings | None = None


def azure_settings() -> AzureSettings:
    global _settings
    if _settings is None:
        _settings = AzureSettings.from_env()
    return _settings


def use_settings(settings: AzureSettings | None) -> None:
    """The settings of a new run (None: from the environment), for this process and workers forked later."""
    global _settings
    _settings = settings if settings is not None else AzureSettings.from_env()


def sdk_errors() -> ModuleType:
    """``azure.core.exceptions`` (after checking that the ``azure`` extra is installed)."""
    import_azure_blob()
    import azure.core.exceptions

    return azure.core.exceptions


def _retry_policy(az: AzureSettings) -> Any:
    blob = import_azure_blob()

    class _Backoff(blob.ExponentialRetry):  # type: ignore[misc,name-defined]
        """The SDK's retry of 408/5xx, timeouts and resets, with a short exponential backoff and jitter."""

        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            base = min(az.backoff_max, az.backoff * (2 ** settings["count"]))
            return random.uniform(base / 2, base)

    return _Backoff(retry_total=az.retries)


def _credential(grant: Grant) -> Any:
    if grant.kind == "sas":
        return grant.secret
    if grant.kind == "key":
        return {"account_name": grant.account, "account_key": grant.secret}
    if grant.kind == "default":
        key = (os.getpid(), "default")
        cred = _CREDENTIALS.get(key)
        if cred is None:
            from azure.identity import DefaultAzureCredential

            cred = _CREDENTIALS[key] = DefaultAzureCredential()
        return cred
    return None


def client_for(scope: Scope) -> Any:
    """This process's ``ContainerClient`` for ``scope`` (clients made before a fork are left alone)."""
    key = (os.getpid(), scope.prefix)
    client = _CLIENTS.get(key)
    if client is None:
        blob = import_azure_blob()
        az = azure_settings()
        client = blob.ContainerClient(
            scope.endpoint,
            scope.container,
            credential=_credential(scope.grant),
            retry_policy=_retry_policy(az),
            connection_timeout=az.connect_timeout,
            read_timeout=az.read_timeout,
            max_single_get_size=MAX_CHUNK,
            max_chunk_get_size=MAX_CHUNK,
            connection_data_block_size=1 << 20,
        )
        _CLIENTS[key] = client
    return client


def register_scope(endpoint: str, container: str, grant: Grant) -> Scope:
    """Record how this process reads ``container``: workers forked later inherit the record."""
    scope = Scope(endpoint.rstrip("/"), container, grant)
    _SCOPES[scope.prefix] = scope
    # a new run gets a new client (the grant or the retry settings may differ); this process's own only
    client = _CLIENTS.pop((os.getpid(), scope.prefix), None)
    if client is not None:
        client.close()
    return scope


def registered_scopes() -> tuple[tuple[str, str, Grant], ...]:
    """Every container this process was given access to: (endpoint, container, grant).  A spawned worker
    starts without them, and a SAS that came in the URL is nowhere else (``discovery.worker_state``)."""
    return tuple((s.endpoint, s.container, s.grant) for s in _SCOPES.values())


def scope_for(url: str) -> tuple[Scope, str]:
    """The scope serving a blob URL and the blob's name."""
    for prefix, scope in _SCOPES.items():
        if url.startswith(prefix):
            return scope, unquote(url[len(prefix) :])
    # A URL this process did not discover (a library caller, or a spawned worker): credentials from the
    # environment, as discovery would have resolved them.
    loc = parse_azure_url(url)
    scope = register_scope(loc.endpoint, loc.container, resolve_grant(loc, azure_settings()))
    return scope, loc.path


def blob_url(scope: Scope, name: str) -> str:
    return scope.prefix + quote(name, safe="/")


def handles(url: str) -> bool:
    if any(url.startswith(prefix) for prefix in _SCOPES):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(HOSTED.match(parts.hostname or ""))
