"""Listing: the data blobs under an Azure URL (or the one blob it names), page by page."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from typing import Any

from ...errors import SourceNotFoundError
from ...redact import redact_url
from ...settings import AzureSettings
from ..base import FileRef, data_file, guess_format, skip_entry
from . import reading
from .clients import Scope, azure_settings, blob_url, client_for, register_scope, sdk_errors, use_settings
from .credentials import resolve_grant
from .locations import parse_azure_url
from .messages import access_error

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 5000


def _is_folder_marker(props: Any) -> bool:
    """ADLS Gen2 directories (and some tools' "folder/" blobs) seen through the blob endpoint."""
    meta = {k.lower(): v for k, v in (getattr(props, "metadata", None) or {}).items()}
    return props.name.endswith("/") or str(meta.get("hdi_isfolder", "")).lower() == "true"


def _archived(props: Any) -> bool:
    tier = getattr(props, "blob_tier", None)
    return str(getattr(tier, "value", tier) or "").lower() == "archive"


def _ref(scope: Scope, name: str, props: Any, rel: str, fmt: str, compression: str | None) -> FileRef:
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
    use_settings(settings)
    reading.forget_head()  # blobs may have changed since an earlier run in this process
    loc = parse_azure_url(url, source_type)
    grant = resolve_grant(loc, azure_settings())
    scope = register_scope(grant.endpoint or loc.endpoint, loc.container, grant)
    log.debug("`%s`: reading container `%s` at %s with %s", loc.shown, loc.container, redact_url(scope.endpoint),
             grant.source)  # fmt: skip
    container = client_for(scope)
    errors = sdk_errors()
    if loc.path and not loc.path.endswith("/"):
        try:
            props = container.get_blob_client(loc.path).get_blob_properties()
        except errors.ResourceNotFoundError:
            props = None  # not a blob: a prefix (a "folder"), or nothing
        except errors.AzureError as err:
            access_error(err, loc, scope, f"reading blob `{loc.path}`")
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
        access_error(err, loc, scope, f"listing container `{loc.container}`")
    if not listed and prefix:
        raise SourceNotFoundError(
            f"`{loc.shown}`: no blob named `{loc.path.rstrip('/')}` and no blobs under "
            f"`{prefix}` in container `{loc.container}`"
        )
