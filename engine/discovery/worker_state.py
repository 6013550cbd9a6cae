"""What a spawned worker must be told that a forked one inherits.

A worker forked from the parent (Linux) has the parent's memory: the containers discovery was given
access to and the secrets registered for redaction.  A spawned one (macOS, Windows) starts a fresh
interpreter without them, and a SAS token that came in the URL exists nowhere else: without this its
reads would go out unauthenticated, and its errors would not know what to redact.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from ..redact import register_secret, registered_secrets

_AZURE = f"{__package__}.azure"


@dataclass(frozen=True)
class WorkerState:
    secrets: tuple[str, ...]
    azure_scopes: tuple[tuple[str, str, Any], ...]  # (endpoint, container, azure.Grant)


def capture() -> WorkerState:
    """This process's state (the Azure module's only if a run loaded it)."""
    azure = sys.modules.get(_AZURE)
    scopes = azure.registered_scopes() if azure is not None else ()
    return WorkerState(registered_secrets(), scopes)


def restore(state: WorkerState) -> None:
    """Register ``state`` in this (spawned) process."""
    for secret in state.secrets:
        register_secret(secret)
    if state.azure_scopes:
        from . import azure

        for endpoint, container, grant in state.azure_scopes:
            azure.register_scope(endpoint, container, grant)
