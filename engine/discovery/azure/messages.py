"""SDK errors as one-line messages: what was refused and why, with the credential that was tried and what
is visibly wrong with it, never the credential itself."""

from __future__ import annotations

import datetime as dt
import re
from typing import NoReturn
from urllib.parse import parse_qs

from ...errors import ConfigurationError, ReadError, SourceNotFoundError, TransientError
from ...redact import redact_url
from .clients import Scope, azure_settings, sdk_errors
from .locations import AzureLocation


def status_of(err: BaseException) -> int | None:
    return getattr(err, "status_code", None)


def _code(err: BaseException) -> str | None:
    code = getattr(err, "error_code", None)
    return str(getattr(code, "value", code)) if code else None


def describe_error(err: BaseException) -> str:
    """One line: status, service error code and the first line of the message."""
    text = str(getattr(err, "message", None) or err).strip()
    first = text.splitlines()[0].strip() if text else type(err).__name__
    first = re.sub(r"^<[^>]*>:\s*", "", first)  # urllib3's "<...HTTPConnection object at 0x...>: "
    head = " ".join(str(x) for x in (status_of(err), _code(err)) if x)
    return f"{head}: {first}" if head else f"{type(err).__name__}: {first}"


def _retryable(err: BaseException) -> bool:
    status = status_of(err)
    return status is None or status == 408 or (status >= 500 and status not in (501, 505))


def sas_note(sas: str | None) -> str:
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


def access_error(err: BaseException, loc: AzureLocation, scope: Scope, action: str) -> NoReturn:
    """Turn an SDK error met during discovery into a one-line ConfigurationError (exit 2)."""
    shown, grant = loc.shown, scope.grant
    status, code = status_of(err), _code(err) or ""
    errors = sdk_errors()
    if status == 404 and code == "ContainerNotFound":
        raise SourceNotFoundError(f"`{shown}`: container `{loc.container}` does not exist in account "
                                  f"`{loc.account}`") from None  # fmt: skip
    denied = status in (401, 403) or isinstance(err, errors.ClientAuthenticationError)
    if status == 404 and grant.kind == "anonymous":
        denied = True  # a private container looks missing to an anonymous caller
    if denied:
        how = f"with {grant.source}" if grant.kind != "anonymous" else "without a credential"
        note = sas_note(grant.secret if grant.kind == "sas" else None)
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
    az = azure_settings()
    raise TransientError(
        f"`{shown}`: {action} failed after {az.retries + 1} attempts ({describe_error(err)})"
    ) from None


def read_error(scope: Scope, name: str, err: BaseException) -> ReadError:
    where = f"blob `{scope.container}/{name}`"
    if status_of(err) in (401, 403):
        return ReadError(f"access denied reading {where} with {scope.grant.source} ({describe_error(err)})"
                         f"{sas_note(scope.grant.secret if scope.grant.kind == 'sas' else None)}")  # fmt: skip
    if status_of(err) == 404:
        return ReadError(f"{where} no longer exists ({describe_error(err)})")
    if status_of(err) == 412:
        return ReadError(f"{where} changed while it was being read")
    if _retryable(err):
        attempts = azure_settings().retries + 1
        return ReadError(f"reading {where} failed after {attempts} attempts ({describe_error(err)})")
    return ReadError(f"reading {where} failed ({describe_error(err)})")
