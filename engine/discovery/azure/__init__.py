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
pool must never be shared across a fork).  Every SDK error leaves this package as an ``ExecutorError``
whose message is redacted.

Modules: ``locations`` (PATH forms), ``credentials``, ``clients`` (this process's, and the containers it
may read), ``messages`` (SDK errors as messages), ``listing`` and ``reading``.
"""

from __future__ import annotations

from .clients import blob_url, register_scope, registered_scopes
from .credentials import Grant, parse_connection_string, resolve_grant
from .listing import discover_azure
from .locations import ADLS, AZURE_BLOB, AzureLocation, is_azure_path, parse_azure_url, register_sas
from .messages import describe_error
from .reading import AzureFileSystem

__all__ = [
    "ADLS",
    "AZURE_BLOB",
    "AzureFileSystem",
    "AzureLocation",
    "Grant",
    "blob_url",
    "describe_error",
    "discover_azure",
    "is_azure_path",
    "parse_azure_url",
    "parse_connection_string",
    "register_sas",
    "register_scope",
    "registered_scopes",
    "resolve_grant",
]
