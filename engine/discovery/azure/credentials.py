"""The credential that reads a container: the first found, in the documented order (see the package's
docstring).  Every secret found is registered for redaction before it is used."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...errors import ConfigurationError
from ...redact import register_secret
from ...settings import ENV_AZURE_CONNECTION_STRING, ENV_AZURE_KEY, ENV_AZURE_SAS_TOKEN, AzureSettings
from .locations import HOSTED, AzureLocation, register_sas


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
    m = HOSTED.match(parts.hostname or "")
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
