"""Azure Blob Storage and ADLS Gen2: PATH forms, credentials, listing, and a ``FileSystem`` over blobs.

PATH forms (all read through the blob endpoint with ``azure-storage-blob``):

- ``https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX or /BLOB][?SAS]`` (any cloud's suffix);
- ``https://ACCOUNT.dfs.core.windows.net/CONTAINER[/PREFIX][?SAS]`` and
  ``abfs[s]://CONTAINER@ACCOUNT.dfs.core.windows.net[/PREFIX]``: ADLS Gen2 (``adls``);
- ``wasb[s]://CONTAINER@ACCOUNT.blob.core.windows.net[/PREFIX]``;
- emulator path-style URLs ``http://127.0.0.1:10000/devstoreaccount1/CONTAINER[/PREFIX][?SAS]`` (a loopback
  or IP host, or any host when SOURCE_TYPE says ``azure_blob``/``adls``).

Credentials, first found wins: the SAS token in the URL; ``AZURE_STORAGE_CONNECTION_STRING`` (when it is
for the URL's account); ``AZURE_STORAGE_SAS_TOKEN``; ``AZURE_STORAGE_KEY`` (with the URL's account);
``DefaultAzureCredential`` when ``azure-identity`` is installed; else anonymous access.  A credential
that is refused is a ``ConfigurationError`` naming what was looked for, never a fallback to the next.

Processes: the parent resolves the credential once and records it in this module, keyed by endpoint and
container; ``FileRef.url`` carries no credential.  Workers are forked from the parent, inherit that record
in memory and build their own SDK clients (clients are keyed by ``os.getpid()``: a client's connection
pool must never be shared across a fork).  Every SDK error leaves this module as an ``ExecutorError``
whose message is redacted.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import posixpath
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, BinaryIO, NoReturn
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pyarrow as pa

from .._optional import import_azure_blob
from ..errors import ConfigurationError, ReadError, SourceNotFoundError, TransientError
from ..redact import redact_url, register_secret
from ..settings import ENV_AZURE_CONNECTION_STRING, ENV_AZURE_KEY, ENV_AZURE_SAS_TOKEN, AzureSettings
from .base import FileRef, data_file, guess_format, register_filesystem, skip_entry

log = logging.getLogger(__name__)

AZURE_BLOB = "azure_blob"
ADLS = "adls"

#: The first bytes of a blob are fetched in one request and kept (format sniffing, dialect sniffing, a
#: small blob whole): a blob read start to end costs one request when it is no larger than this.
HEAD_BYTES = 256 << 10
#: Sequential reads fetch ranges that grow from the first size to the last, one range ahead of the reader.
FIRST_CHUNK = 1 << 20
MAX_CHUNK = 8 << 20
#: Random-access reads smaller than this fetch this much around them (Parquet footers and page headers).
MIN_RANDOM_FETCH = 64 << 10
#: Random-access blobs up to this size are fetched whole on the first read.
SMALL_BLOB = 1 << 20
_RANDOM_WINDOWS = 4
LIST_PAGE_SIZE = 5000

_ACCOUNT = r"[a-z0-9]{3,24}"
_HOSTED = re.compile(
    rf"^(?P<account>{_ACCOUNT})\.(?P<service>blob|dfs)\.(?P<suffix>[a-z0-9.-]+\.[a-z]+)$", re.I
)
_CONTAINER = re.compile(r"^(\$root|\$web|\$logs|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$")
_HADOOP_SCHEMES = {"abfs": ADLS, "abfss": ADLS, "wasb": AZURE_BLOB, "wasbs": AZURE_BLOB}


# --- PATH forms -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AzureLocation:
    """Where a PATH points: a blob service endpoint, a container, and a blob name or prefix in it."""

    endpoint: str  # the blob service URL without a trailing '/': https://ACCOUNT.blob.core.windows.net
    account: str
    container: str
    path: str  # a blob name or a prefix ('' for the whole container), without a leading '/'
    kind: str  # AZURE_BLOB or ADLS
    hosted: bool  # ACCOUNT.blob.SUFFIX host (False: an emulator's path-style URL)
    shown: str  # the URL as given, without its credentials: what messages name
    sas: str | None = field(default=None, repr=False)


def _is_ip_or_local(host: str) -> bool:
    host = host.lower()
    return host == "localhost" or bool(re.fullmatch(r"[0-9.]+|\[[0-9a-f:.]+\]|[0-9a-f:]+", host))


def is_azure_path(path: str, explicit: bool = False) -> bool:
    """Whether PATH is an Azure URL (``explicit``: SOURCE_TYPE said so, so any http(s) host counts)."""
    try:
        parts = urlsplit(path)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme in _HADOOP_SCHEMES:
        return True
    if scheme not in ("http", "https") or not parts.hostname:
        return False
    return explicit or bool(_HOSTED.match(parts.hostname)) or _is_ip_or_local(parts.hostname)


def parse_azure_url(url: str, source_type: str | None = None) -> AzureLocation:
    """Parse every PATH form; raises ``ConfigurationError`` with the (redacted) URL and the reason."""
    shown = redact_url(url)

    def bad(reason: str) -> NoReturn:
        raise ConfigurationError(f"`{shown}`: {reason}")

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        bad(f"not a valid URL ({err})")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    query = parts.query
    sas = None
    if query:
        keys = {k.lower() for k in parse_qs(query, keep_blank_values=True)}
        if "sig" not in keys:
            bad("the query string is not a SAS token (it has no `sig=`)")
        sas = query
        register_sas(sas)
    if parts.fragment:
        bad("a URL fragment (`#...`) has no meaning here")
    path = unquote(parts.path)
    if scheme in _HADOOP_SCHEMES:
        container = unquote(parts.username or "")
        m = _HOSTED.match(host)
        if not container or not m:
            bad(f"expected {scheme}://CONTAINER@ACCOUNT.{'dfs' if scheme.startswith('abfs') else 'blob'}"
                ".core.windows.net/PATH")  # fmt: skip
        account = m["account"].lower()
        endpoint = f"https://{account}.blob.{m['suffix'].lower()}"
        blob_path = path.lstrip("/")
        kind = _HADOOP_SCHEMES[scheme] if m["service"].lower() == "blob" else ADLS
        hosted = True
    elif scheme in ("http", "https") and host:
        m = _HOSTED.match(host)
        netloc = host if port is None else f"{host}:{port}"
        if parts.username or parts.password:
            bad("user names and passwords do not belong in an Azure URL (use a SAS token or a credential)")
        if m:
            account = m["account"].lower()
            endpoint = f"{scheme}://{account}.blob.{m['suffix'].lower()}" + (
                "" if port is None else f":{port}"
            )
            container, _, blob_path = path.lstrip("/").partition("/")
            kind = ADLS if m["service"].lower() == "dfs" else AZURE_BLOB
            hosted = True
        else:
            # path-style: http://HOST:PORT/ACCOUNT/CONTAINER/PATH (Azurite and other emulators)
            account, _, rest = path.lstrip("/").partition("/")
            if not account:
                bad("an emulator URL needs the account and the container: http://HOST:PORT/ACCOUNT/CONTAINER")
            container, _, blob_path = rest.partition("/")
            endpoint = f"{scheme}://{netloc}/{account}"
            kind = AZURE_BLOB
            hosted = False
    else:
        bad("not an Azure Blob Storage or ADLS URL")
    if source_type in (AZURE_BLOB, ADLS):
        kind = source_type
    if not container:
        bad("the URL names no container (profiling a whole storage account is not supported)")
    if not _CONTAINER.match(container):
        bad(f"`{container}` is not a valid container name (3-63 lower-case letters, digits and hyphens)")
    return AzureLocation(endpoint=endpoint, account=account, container=container, path=blob_path,
                         kind=kind, hosted=hosted, shown=shown, sas=sas)  # fmt: skip


def register_sas(sas: str) -> None:
    """Remember a SAS token for redaction: as given, decoded, and its signature alone."""
    register_secret(sas)
    register_secret(unquote(sas))
    for sig in parse_qs(sas).get("sig", []):
        register_secret(sig)
        register_secret(quote(sig, safe=""))


# --- credentials ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """How this process authenticates to one container (``secret`` is never printed)."""

    kind: str  # "sas", "key", "default" or "anonymous"
    source: str  # what it came from, fit to print: "the SAS token in the URL", "AZURE_STORAGE_KEY", ...
    secret: str | None = field(default=None, repr=False)
    account: str | None = None
    endpoint: str | None = None  # a connection string's BlobEndpoint, when it names one
    tried: tuple[str, ...] = ()  # what was looked for, in order, for error messages


def parse_connection_string(value: str) -> dict[str, str]:
    """``Key=Value;...`` pairs of a storage connection string (keys as written)."""
    out: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        if not sep:
            raise ConfigurationError(f"`{ENV_AZURE_CONNECTION_STRING}` is not a connection string "
                                     "(expected Key=Value pairs separated by `;`)")  # fmt: skip
        out[key.strip()] = val.strip()
    return out


_DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _account_of(endpoint: str) -> str:
    """The account of a blob endpoint: ``https://ACCOUNT.blob...`` or path-style ``http://HOST/ACCOUNT``."""
    parts = urlsplit(endpoint)
    m = _HOSTED.match(parts.hostname or "")
    return m["account"].lower() if m else parts.path.strip("/").split("/")[0].lower()


def _from_connection_string(value: str, loc: AzureLocation, tried: list[str]) -> Grant | None:
    cs = {k.lower(): v for k, v in parse_connection_string(value).items()}
    if cs.get("usedevelopmentstorage", "").lower() == "true":
        cs.setdefault("accountname", _DEV_ACCOUNT)
        cs.setdefault("accountkey", _DEV_KEY)
        cs.setdefault("blobendpoint", f"http://127.0.0.1:10000/{_DEV_ACCOUNT}")
    for secret_key in ("accountkey", "sharedaccesssignature"):
        if cs.get(secret_key):
            register_secret(cs[secret_key])
    account = cs.get("accountname", "").lower()
    endpoint = cs.get("blobendpoint", "").rstrip("/") or None
    if not account and endpoint:
        account = _account_of(endpoint)
    if account and account != loc.account.lower():
        tried.append(f"{ENV_AZURE_CONNECTION_STRING} (set, for account `{account}`, not `{loc.account}`)")
        return None
    source = ENV_AZURE_CONNECTION_STRING
    tried.append(f"{source} (used)")
    use_endpoint = endpoint if loc.hosted else None  # a path-style URL names its endpoint itself
    if cs.get("sharedaccesssignature"):
        sas = cs["sharedaccesssignature"].lstrip("?")
        register_sas(sas)
        return Grant("sas", source, sas, account or loc.account, use_endpoint, tuple(tried))
    if cs.get("accountkey"):
        return Grant("key", source, cs["accountkey"], account or loc.account, use_endpoint, tuple(tried))
    raise ConfigurationError(
        f"`{ENV_AZURE_CONNECTION_STRING}` holds neither an AccountKey nor a SharedAccessSignature"
    )


def identity_available() -> bool:
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_grant(loc: AzureLocation, az: AzureSettings) -> Grant:
    """The credential for ``loc``: the first found, in the documented order."""
    tried: list[str] = []
    if loc.sas:
        return Grant(
            "sas", "the SAS token in the URL", loc.sas, loc.account, tried=("the SAS token in the URL",)
        )
    tried.append("a SAS token in the URL (none)")
    if az.connection_string:
        grant = _from_connection_string(az.connection_string, loc, tried)
        if grant is not None:
            return grant
    else:
        tried.append(f"{ENV_AZURE_CONNECTION_STRING} (unset)")
    if az.sas_token:
        sas = az.sas_token.lstrip("?")
        register_sas(sas)
        tried.append(f"{ENV_AZURE_SAS_TOKEN} (used)")
        return Grant("sas", ENV_AZURE_SAS_TOKEN, sas, loc.account, tried=tuple(tried))
    tried.append(f"{ENV_AZURE_SAS_TOKEN} (unset)")
    if az.account_key:
        tried.append(f"{ENV_AZURE_KEY} (used, with account `{loc.account}`)")
        return Grant("key", ENV_AZURE_KEY, az.account_key, loc.account, tried=tuple(tried))
    tried.append(f"{ENV_AZURE_KEY} (unset)")
    if identity_available():
        tried.append("DefaultAzureCredential (used)")
        return Grant("default", "DefaultAzureCredential", tried=tuple(tried))
    tried.append("DefaultAzureCredential (azure-identity not installed)")
    return Grant("anonymous", "anonymous access (no credential found)", tried=tuple(tried))


# --- clients, one per process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """A container this process may read, and how."""

    endpoint: str
    container: str
    grant: Grant

    @property
    def prefix(self) -> str:
        return f"{self.endpoint}/{self.container}/"


_SCOPES: dict[str, _Scope] = {}
_CLIENTS: dict[tuple[int, str], Any] = {}
_CREDENTIALS: dict[tuple[int, str], Any] = {}
_settings: AzureSettings | None = None


def _azure_settings() -> AzureSettings:
    global _settings
    if _settings is None:
        _settings = AzureSettings.from_env()
    return _settings


def _sdk_errors() -> ModuleType:
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


def _client(scope: _Scope) -> Any:
    """This process's ``ContainerClient`` for ``scope`` (clients made before a fork are left alone)."""
    key = (os.getpid(), scope.prefix)
    client = _CLIENTS.get(key)
    if client is None:
        blob = import_azure_blob()
        az = _azure_settings()
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


def register_scope(endpoint: str, container: str, grant: Grant) -> _Scope:
    """Record how this process reads ``container``: workers forked later inherit the record."""
    scope = _Scope(endpoint.rstrip("/"), container, grant)
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


def _scope_for(url: str) -> tuple[_Scope, str]:
    """The scope serving a blob URL and the blob's name."""
    for prefix, scope in _SCOPES.items():
        if url.startswith(prefix):
            return scope, unquote(url[len(prefix) :])
    # A URL this process did not discover (a library caller, or a spawned worker): credentials from the
    # environment, as discovery would have resolved them.
    loc = parse_azure_url(url)
    scope = register_scope(loc.endpoint, loc.container, resolve_grant(loc, _azure_settings()))
    return scope, loc.path


def blob_url(scope: _Scope, name: str) -> str:
    return scope.prefix + quote(name, safe="/")


def _handles(url: str) -> bool:
    if any(url.startswith(prefix) for prefix in _SCOPES):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(_HOSTED.match(parts.hostname or ""))


# --- errors ---------------------------------------------------------------------------------------------


def _status(err: BaseException) -> int | None:
    return getattr(err, "status_code", None)


def _code(err: BaseException) -> str | None:
    code = getattr(err, "error_code", None)
    return str(getattr(code, "value", code)) if code else None


def describe_error(err: BaseException) -> str:
    """One line: status, service error code and the first line of the message."""
    text = str(getattr(err, "message", None) or err).strip()
    first = text.splitlines()[0].strip() if text else type(err).__name__
    first = re.sub(r"^<[^>]*>:\s*", "", first)  # urllib3's "<...HTTPConnection object at 0x...>: "
    head = " ".join(str(x) for x in (_status(err), _code(err)) if x)
    return f"{head}: {first}" if head else f"{type(err).__name__}: {first}"


def _retryable(err: BaseException) -> bool:
    status = _status(err)
    return status is None or status == 408 or (status >= 500 and status not in (501, 505))


def _sas_note(sas: str | None) -> str:
    """What is visibly wrong with a SAS token: its validity window, or missing permissions."""
    if not sas:
        return ""
    q = {k.lower(): v[0] for k, v in parse_qs(sas).items() if v}
    now = dt.datetime.now(dt.timezone.utc)
    for key, past, what in (("se", True, "expired at"), ("st", False, "is not valid before")):
        if key in q:
            try:
                when = dt.datetime.fromisoformat(q[key].replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            if (when <= now) == past:
                return f"; the SAS token {what} {q[key]}"
    if "sp" in q:
        return f"; its permissions are sp={q['sp']} (reading a blob needs r, listing a container r and l)"
    return ""


def _access_error(err: BaseException, loc: AzureLocation, scope: _Scope, action: str) -> NoReturn:
    """Turn an SDK error met during discovery into a one-line ConfigurationError (exit 2)."""
    shown, grant = loc.shown, scope.grant
    status, code = _status(err), _code(err) or ""
    errors = _sdk_errors()
    if status == 404 and code == "ContainerNotFound":
        raise SourceNotFoundError(f"`{shown}`: container `{loc.container}` does not exist in account "
                                  f"`{loc.account}`") from None  # fmt: skip
    denied = status in (401, 403) or isinstance(err, errors.ClientAuthenticationError)
    if status == 404 and grant.kind == "anonymous":
        denied = True  # a private container looks missing to an anonymous caller
    if denied:
        how = f"with {grant.source}" if grant.kind != "anonymous" else "without a credential"
        note = _sas_note(grant.secret if grant.kind == "sas" else None)
        if grant.kind == "default" and code.startswith("Authorization"):
            note = "; the identity needs a data role on the container, such as Storage Blob Data Reader"
        raise ConfigurationError(
            f"`{shown}`: access denied while {action} {how} ({describe_error(err)}){note}; "
            f"credentials looked for, first found wins: {', '.join(grant.tried)}"
        ) from None
    if isinstance(err, errors.ServiceRequestError):
        raise ConfigurationError(
            f"`{shown}`: cannot reach `{redact_url(scope.endpoint)}` ({describe_error(err)}); check the account "
            "name and the network"
        ) from None
    if status is not None and 400 <= status < 500:
        raise ConfigurationError(f"`{shown}`: the service refused {action} ({describe_error(err)})") from None
    az = _azure_settings()
    raise TransientError(
        f"`{shown}`: {action} failed after {az.retries + 1} attempts ({describe_error(err)})"
    ) from None


def _read_error(scope: _Scope, name: str, err: BaseException) -> ReadError:
    where = f"blob `{scope.container}/{name}`"
    if _status(err) in (401, 403):
        return ReadError(f"access denied reading {where} with {scope.grant.source} ({describe_error(err)})"
                         f"{_sas_note(scope.grant.secret if scope.grant.kind == 'sas' else None)}")  # fmt: skip
    if _status(err) == 404:
        return ReadError(f"{where} no longer exists ({describe_error(err)})")
    if _status(err) == 412:
        return ReadError(f"{where} changed while it was being read")
    if _retryable(err):
        attempts = _azure_settings().retries + 1
        return ReadError(f"reading {where} failed after {attempts} attempts ({describe_error(err)})")
    return ReadError(f"reading {where} failed ({describe_error(err)})")


# --- discovery ------------------------------------------------------------------------------------------


def _is_folder_marker(props: Any) -> bool:
    """ADLS Gen2 directories (and some tools' "folder/" blobs) seen through the blob endpoint."""
    meta = {k.lower(): v for k, v in (getattr(props, "metadata", None) or {}).items()}
    return props.name.endswith("/") or str(meta.get("hdi_isfolder", "")).lower() == "true"


def _archived(props: Any) -> bool:
    tier = getattr(props, "blob_tier", None)
    return str(getattr(tier, "value", tier) or "").lower() == "archive"


def _ref(scope: _Scope, name: str, props: Any, rel: str, fmt: str, compression: str | None) -> FileRef:
    modified = getattr(props, "last_modified", None)
    error = None
    if _archived(props):
        error = "the blob is in the Archive access tier: rehydrate it to Hot or Cool first"
    return FileRef(url=blob_url(scope, name), rel_path=rel, size=int(props.size or 0),
                   mtime=modified.timestamp() if modified else None, format=fmt, compression=compression,
                   error=error)  # fmt: skip


def discover_azure(
    url: str,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    format_filter: str | None = None,
    source_type: str | None = None,
    settings: AzureSettings | None = None,
) -> Iterator[FileRef]:
    """Yield the data blobs under an Azure URL (or the blob it names), page by page.

    Resolves the credential (and records it for this process and the workers it forks); refused or
    missing credentials and missing containers raise ``ConfigurationError``.
    """
    global _settings, _HEAD
    _settings = settings if settings is not None else AzureSettings.from_env()
    _HEAD = None  # blobs may have changed since an earlier run in this process
    loc = parse_azure_url(url, source_type)
    grant = resolve_grant(loc, _azure_settings())
    scope = register_scope(grant.endpoint or loc.endpoint, loc.container, grant)
    log.debug("`%s`: reading container `%s` at %s with %s", loc.shown, loc.container, redact_url(scope.endpoint),
             grant.source)  # fmt: skip
    container = _client(scope)
    errors = _sdk_errors()
    if loc.path and not loc.path.endswith("/"):
        try:
            props = container.get_blob_client(loc.path).get_blob_properties()
        except errors.ResourceNotFoundError:
            props = None  # not a blob: a prefix (a "folder"), or nothing
        except errors.AzureError as err:
            _access_error(err, loc, scope, f"reading blob `{loc.path}`")
        if props is not None and not _is_folder_marker(props):
            name = posixpath.basename(loc.path)
            fmt, compression = guess_format(name)
            yield _ref(scope, loc.path, props, name, fmt or "unknown", compression)
            return
    prefix = loc.path.rstrip("/") + "/" if loc.path.strip("/") else ""
    listed = 0
    try:
        for props in container.list_blobs(
            name_starts_with=prefix or None, include=["metadata"], results_per_page=LIST_PAGE_SIZE
        ):
            listed += 1
            if _is_folder_marker(props):
                continue
            rel = props.name[len(prefix) :]
            if not rel or any(skip_entry(seg) for seg in rel.split("/")):
                continue
            kept = data_file(rel, include, exclude, format_filter)
            if kept is None:
                continue
            fmt, compression = kept
            yield _ref(scope, props.name, props, rel, fmt, compression)
    except errors.AzureError as err:
        _access_error(err, loc, scope, f"listing container `{loc.container}`")
    if not listed and prefix:
        raise SourceNotFoundError(
            f"`{loc.shown}`: no blob named `{loc.path.rstrip('/')}` and no blobs under "
            f"`{prefix}` in container `{loc.container}`"
        )


# --- reading --------------------------------------------------------------------------------------------


@dataclass
class _Head:
    """The first bytes of one blob, its size and its ETag (one ranged request)."""

    url: str
    data: bytes
    size: int
    etag: str | None


def _total_size(content_range: str | None) -> int | None:
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    return None


#: The head of the blob read last in this process (one entry: a file's reads are consecutive).
_HEAD: _Head | None = None


class AzureFileSystem:
    """Reads blobs with ranged downloads through this process's clients."""

    def _download(
        self, scope: _Scope, name: str, offset: int, length: int, etag: str | None = None
    ) -> tuple[bytes, int | None, str | None]:
        """(bytes, blob size, etag) of ``[offset, offset + length)``; past the end: no bytes."""
        errors = _sdk_errors()
        kw: dict[str, Any] = {}
        if etag:
            from azure.core import MatchConditions

            kw = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        blob = _client(scope).get_blob_client(name)
        try:
            stream = blob.download_blob(offset=offset, length=length, max_concurrency=1, **kw)
            data = stream.readall()
            return data, _total_size(stream.properties.content_range), stream.properties.etag
        except errors.HttpResponseError as err:
            if _status(err) == 416:  # the range starts at or past the end of the blob
                headers = err.response.headers if err.response is not None else {}
                return b"", _total_size(headers.get("Content-Range")), None
            raise _read_error(scope, name, err) from None
        except errors.AzureError as err:
            raise _read_error(scope, name, err) from None

    def head(self, url: str) -> _Head:
        """The first ``HEAD_BYTES`` of a blob with its size (cached for the blob last asked about)."""
        global _HEAD
        head = _HEAD
        if head is None or head.url != url:
            scope, name = _scope_for(url)
            data, size, etag = self._download(scope, name, 0, HEAD_BYTES)
            head = _HEAD = _Head(url, data, size if size is not None else len(data), etag)
        return head

    def read_range(self, url: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if offset + length <= HEAD_BYTES:
            return self.head(url).data[offset : offset + length]
        scope, name = _scope_for(url)
        return self._download(scope, name, offset, length)[0]

    def open_stream(self, url: str, start: int = 0, end: int | None = None) -> BinaryIO:
        scope, name = _scope_for(url)
        if start == 0:
            head = self.head(url)
            stop = head.size if end is None else min(end, head.size)
            first = head.data[:stop]
            return _BlobStream(self, scope, name, len(first), stop, first, head.etag)  # type: ignore[return-value]
        return _BlobStream(self, scope, name, start, end)  # type: ignore[return-value]

    def open_random(self, url: str) -> Any:
        head = self.head(url)
        scope, name = _scope_for(url)
        return pa.PythonFile(_RandomBlobFile(self, scope, name, head), mode="r")


class _Prefetch:
    """One ranged download running in a background thread."""

    def __init__(self, fetch: Any, offset: int, length: int) -> None:
        self.offset = offset
        self.length = length
        self._result: tuple[bytes, int | None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fetch,), daemon=True, name="azure-prefetch")
        self._thread.start()

    def _run(self, fetch: Any) -> None:
        try:
            self._result = fetch(self.offset, self.length)
        except BaseException as err:
            self._error = err

    def result(self) -> tuple[bytes, int | None]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def wait(self) -> None:
        self._thread.join()


class _BlobStream(io.RawIOBase):
    """Bytes ``[start, end)`` of a blob as a sequential stream.

    Ranges grow from ``FIRST_CHUNK`` to ``MAX_CHUNK``; while the reader consumes one, the next downloads in
    a background thread, so at most two ranges (16 MiB) are held whatever the blob's size.
    """

    def __init__(
        self,
        fs: AzureFileSystem,
        scope: _Scope,
        name: str,
        start: int,
        end: int | None,
        first: bytes = b"",
        etag: str | None = None,
    ) -> None:
        self._fs = fs
        self._scope = scope
        self._name = name
        self._next = start  # offset of the next range to download
        self._end = end  # None: to the end of the blob (learnt from the first download)
        self._buf = memoryview(first)
        self._etag = etag
        self._chunk = FIRST_CHUNK
        self._pending: _Prefetch | None = None
        self._eof = end is not None and start >= end

    def readable(self) -> bool:
        return True

    def _fetch(self, offset: int, length: int) -> tuple[bytes, int | None]:
        data, size, _etag = self._fs._download(self._scope, self._name, offset, length, self._etag)
        return data, size

    def _next_range(self) -> tuple[int, int] | None:
        if self._end is not None and self._next >= self._end:
            return None
        length = self._chunk if self._end is None else min(self._chunk, self._end - self._next)
        return self._next, length

    def _refill(self) -> bool:
        if self._eof:
            return False
        if self._pending is not None:
            pending, self._pending = self._pending, None
            offset, length = pending.offset, pending.length
            data, size = pending.result()
        else:
            rng = self._next_range()
            if rng is None:
                self._eof = True
                return False
            offset, length = rng
            data, size = self._fetch(offset, length)
        if size is not None:
            self._end = size if self._end is None else min(self._end, size)
        self._next = offset + len(data)
        self._chunk = min(self._chunk * 2, MAX_CHUNK)
        if not data:
            self._eof = True
            return False
        self._buf = memoryview(data)
        rng = self._next_range()
        if rng is not None:
            self._pending = _Prefetch(self._fetch, *rng)
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        out = memoryview(b).cast("B")
        got = 0
        while got < len(out):
            if not self._buf and not self._refill():
                break
            n = min(len(out) - got, len(self._buf))
            out[got : got + n] = self._buf[:n]
            self._buf = self._buf[n:]
            got += n
        return got

    def close(self) -> None:
        if self._pending is not None:
            self._pending.wait()  # never leave a thread behind (workers are forked after planning)
            self._pending = None
        self._buf = memoryview(b"")
        super().close()


class _RandomBlobFile(io.RawIOBase):
    """A seekable view of a blob: every read is a ranged download, small reads fetch a window around them.

    A blob no larger than ``SMALL_BLOB`` is fetched whole on the first read; otherwise a read smaller than
    ``MIN_RANDOM_FETCH`` fetches that much (ending at the blob's end when it is near it, so a footer and
    the metadata before it come in one request), and a few such windows are kept.
    """

    def __init__(self, fs: AzureFileSystem, scope: _Scope, name: str, head: _Head) -> None:
        self._fs = fs
        self._scope = scope
        self._name = name
        self._size = head.size
        self._etag = head.etag
        self._pos = 0
        self._windows: OrderedDict[int, bytes] = OrderedDict()
        if head.data:
            self._windows[0] = head.data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        pos = base + offset
        if pos < 0:
            raise OSError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def _cached(self, start: int, stop: int) -> bytes | None:
        for at, data in self._windows.items():
            if at <= start and stop <= at + len(data):
                self._windows.move_to_end(at)
                return data[start - at : stop - at]
        return None

    def _get(self, start: int, stop: int) -> bytes:
        hit = self._cached(start, stop)
        if hit is not None:
            return hit
        if self._size <= SMALL_BLOB:
            at, length = 0, self._size
        elif stop - start >= MIN_RANDOM_FETCH:
            at, length = start, stop - start
        else:
            at = min(start, max(0, self._size - MIN_RANDOM_FETCH))
            length = min(MIN_RANDOM_FETCH, self._size - at)
        data, _size, _etag = self._fs._download(self._scope, self._name, at, length, self._etag)
        if length <= max(MIN_RANDOM_FETCH, SMALL_BLOB):
            self._windows[at] = data
            while len(self._windows) > _RANDOM_WINDOWS:
                self._windows.popitem(last=False)
        return data[start - at : stop - at]

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        out = memoryview(b).cast("B")
        stop = min(self._size, self._pos + len(out))
        if stop <= self._pos:
            return 0
        data = self._get(self._pos, stop)
        n = len(data)
        out[:n] = data
        self._pos += n
        return n


register_filesystem(_handles, AzureFileSystem)
