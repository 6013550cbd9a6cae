"""Azure PATH forms: whether a PATH is an Azure URL, and the endpoint, container and blob or prefix it names.

The forms (all read through the blob endpoint) are listed in the package's docstring.  A SAS token in the
URL is registered for redaction the moment the URL is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ...errors import ConfigurationError
from ...redact import redact_url, register_secret

AZURE_BLOB = "azure_blob"
ADLS = "adls"

_ACCOUNT = r"[a-z0-9]{3,24}"
#: ACCOUNT.blob.SUFFIX or ACCOUNT.dfs.SUFFIX (any cloud's suffix)
HOSTED = re.compile(
    rf"^(?P<account>{_ACCOUNT})\.(?P<service>blob|dfs)\.(?P<suffix>[a-z0-9.-]+\.[a-z]+)$", re.I
)
_CONTAINER = re.compile(r"^(\$root|\$web|\$logs|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$")
_HADOOP_SCHEMES = {"abfs": ADLS, "abfss": ADLS, "wasb": AZURE_BLOB, "wasbs": AZURE_BLOB}


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
    return explicit or bool(HOSTED.match(parts.hostname)) or _is_ip_or_local(parts.hostname)


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
        m = HOSTED.match(host)
        if not container or not m:
            bad(f"expected {scheme}://CONTAINER@ACCOUNT.{'dfs' if scheme.startswith('abfs') else 'blob'}"
                ".core.windows.net/PATH")  # fmt: skip
        account = m["account"].lower()
        endpoint = f"https://{account}.blob.{m['suffix'].lower()}"
        blob_path = path.lstrip("/")
        kind = _HADOOP_SCHEMES[scheme] if m["service"].lower() == "blob" else ADLS
        hosted = True
    elif scheme in ("http", "https") and host:
        m = HOSTED.match(host)
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
