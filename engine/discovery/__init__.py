"""Turning the PATH a user gives into a source and a list of ``FileRef`` records."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigurationError
from ..redact import redact_url
from ..settings import FORMAT_WORDS, SOURCE_TYPES, ExtractionSettings
from .base import FileRef
from .dbfs import dbfs_local_path, is_dbfs
from .local import discover_local

#: ``azure.AZURE_BLOB`` and ``azure.ADLS``: the Azure module (the SDK side, ~3.4 ms to import) is loaded
#: only for a PATH that can be a URL or a SOURCE_TYPE that names Azure.
AZURE_BLOB, ADLS = "azure_blob", "adls"
AZURE_KINDS = (AZURE_BLOB, ADLS)


def _is_azure_path(path: str, explicit: bool) -> bool:
    if not explicit and "://" not in path:
        return False  # a local or DBFS path: every Azure form is a URL
    from .azure import is_azure_path

    return is_azure_path(path, explicit)


@dataclass(frozen=True)
class Source:
    kind: str  # one of settings.SOURCE_TYPES
    location: str = field(repr=False)  # what discovery lists: a local path, or a URL (it may hold a SAS)
    display_path: str  # what is printed and stored: credentials removed
    source_type: str  # what goes into sources.source_type (the user's word, or the kind)
    format_filter: str | None = None


def resolve_source(path: str, source_type: str | None = None) -> Source:
    """Decide where PATH lives; ``source_type`` may name a kind (``local``, ``dbfs``, ...) or a format."""
    if not path or not path.strip():
        raise ConfigurationError("PATH is empty")
    word = source_type.strip().lower() if source_type else None
    if word and word not in SOURCE_TYPES and word not in FORMAT_WORDS:
        raise ConfigurationError(
            f"unknown SOURCE_TYPE `{source_type}`: use one of {', '.join(SOURCE_TYPES)} "
            f"or a format ({', '.join(FORMAT_WORDS)})"
        )
    format_filter = word if word in FORMAT_WORDS else None
    if _is_azure_path(path, explicit=word in AZURE_KINDS):
        if word in ("local", "dbfs"):
            raise ConfigurationError(f"`{redact_url(path)}` is an Azure URL, not a {word} path: "
                                     f"use SOURCE_TYPE {AZURE_BLOB} or {ADLS}, or leave it out")  # fmt: skip
        from .azure import parse_azure_url

        kind = parse_azure_url(path, word).kind  # checks the URL's form before any request
        return Source(kind=kind, location=path, display_path=redact_url(path), source_type=word or kind,
                      format_filter=format_filter)  # fmt: skip
    if word in AZURE_KINDS:
        raise ConfigurationError(
            f"`{redact_url(path)}` is not an Azure URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/..., "
            "abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/..., or an emulator's http://HOST:PORT/ACCOUNT/CONTAINER)"
        )
    if "://" in path and not path.startswith("dbfs:"):
        raise ConfigurationError(f"`{redact_url(path)}` is not a local path, a DBFS path or an Azure URL")
    kind = "dbfs" if is_dbfs(path) or word == "dbfs" else "local"
    location = dbfs_local_path(path) if kind == "dbfs" else path
    return Source(kind=kind, location=location, display_path=path, source_type=word or kind,
                  format_filter=format_filter)  # fmt: skip


def discover(source: Source, settings: ExtractionSettings) -> list[FileRef]:
    """Every data file of the source, sorted by relative path."""
    if source.kind in AZURE_KINDS:
        from .azure import discover_azure

        found = discover_azure(source.location, settings.include, settings.exclude, source.format_filter,
                               source.kind)  # fmt: skip
    else:
        found = discover_local(source.location, settings.include, settings.exclude, source.format_filter)
    refs = list(found)
    return sorted(refs, key=lambda r: r.rel_path)


__all__ = ["FileRef", "Source", "discover", "resolve_source"]
