"""Removing credentials from URLs and from any text before it is printed, logged, raised or stored.

Depends on the standard library only, so every layer can use it.  Two mechanisms work together:
patterns that recognise credentials by shape (SAS signatures, account keys, bearer and Databricks tokens,
passwords in URLs), and an exact-match list of secrets the process was configured with
(``register_secret``), which catches a token whatever its shape.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED = "***"

_lock = threading.Lock()
_secrets: set[str] = set()

# Query parameter names that carry credentials on their own.
_SECRET_QUERY_KEYS = {"sig", "token", "access_token", "password", "secret", "key", "code", "signature"}

# URL schemes whose user part names a container, not a user (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net).
_CONTAINER_AT_HOST_SCHEMES = {"abfs", "abfss", "wasb", "wasbs"}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # ?sv=...&sig=...: drop the whole SAS query string.
    (re.compile(r"\?[^\s\"'<>]*\bsig=[^\s\"'<>]*", re.IGNORECASE), ""),
    # a bare SAS token (e.g. from AZURE_STORAGE_SAS_TOKEN in an error message)
    (re.compile(r"\b((?:sv|sp|se|st|sr|spr|srt|ss)=[^\s&\"'<>]*&)+[^\s\"'<>]*\bsig=[^\s&\"'<>]*", re.IGNORECASE), REDACTED),
    (re.compile(r"\bsig=[^\s&\"'<>;]+", re.IGNORECASE), "sig=" + REDACTED),
    (re.compile(r"(AccountKey|SharedAccessSignature|SharedAccessKey)=[^;\s\"'<>]+", re.IGNORECASE), r"\1=" + REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), r"\1 " + REDACTED),
    (re.compile(r"\bdapi[0-9a-f]{16,}(-\d+)?\b", re.IGNORECASE), REDACTED),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]*):[^@\s/\"'<>]+@", re.IGNORECASE), r"\1:" + REDACTED + "@"),
    (re.compile(r"\b(access_token|password|secret|client_secret)(['\"]?\s*[:=]\s*['\"]?)[^\s,;&\"'<>]+", re.IGNORECASE), r"\1\2" + REDACTED),
]  # fmt: skip


def register_secret(value: str | None) -> None:
    """Remember a credential so that it is removed from any text passed through ``redact_text``."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def registered_secrets() -> tuple[str, ...]:
    """The secrets registered in this process (handed to spawned workers, which start without them)."""
    with _lock:
        return tuple(sorted(_secrets))


def redact_text(text: str) -> str:
    """Remove every credential recognisable by shape or registered with ``register_secret``."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A URL fit to print or store: no SAS token, no password, no secret query parameter.

    A query string that carries a SAS signature is dropped as a whole (its other parameters describe the
    grant and are part of the credential); other credential parameters are dropped one by one.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.scheme or parts.scheme == "file":
        return redact_text(url)
    netloc = parts.netloc
    container_style = parts.scheme.lower() in _CONTAINER_AT_HOST_SCHEMES
    if "@" in netloc and not (container_style and ":" not in netloc.rsplit("@", 1)[0]):
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        keys = {k.lower() for k, _ in pairs}
        if "sig" in keys:
            query = ""
        else:
            query = "&".join(f"{k}={v}" for k, v in pairs if k.lower() not in _SECRET_QUERY_KEYS)
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record alone
            return True
        record.msg = redact_text(message)
        record.args = None
        return True
