"""PATH forms, SOURCE_TYPE detection, the credential order and redaction: no emulator needed."""

from __future__ import annotations

import pytest

from nuvyn_executor.engine.discovery import azure as az
from nuvyn_executor.engine.discovery import resolve_source
from nuvyn_executor.engine.discovery.azure import (
    clients,
    credentials,
    messages,
    parse_azure_url,
    resolve_grant,
)
from nuvyn_executor.engine.errors import ConfigurationError
from nuvyn_executor.engine.redact import redact_text, redact_url
from nuvyn_executor.engine.settings import AzureSettings

SAS = "sv=2024-08-04&sp=rl&sr=c&se=2099-01-01T00%3A00%3A00Z&sig=CANARYsig%2Bvalue%3D"


@pytest.mark.parametrize(
    ("path", "endpoint", "container", "blob_path", "kind"),
    [
        ("https://acct.blob.core.windows.net/data/file.csv", "https://acct.blob.core.windows.net", "data",
         "file.csv", "azure_blob"),
        ("https://acct.blob.core.windows.net/data", "https://acct.blob.core.windows.net", "data", "", "azure_blob"),
        ("https://ACCT.blob.core.windows.net/data/raw/2024/", "https://acct.blob.core.windows.net", "data",
         "raw/2024/", "azure_blob"),
        ("https://acct.dfs.core.windows.net/lake/raw", "https://acct.blob.core.windows.net", "lake", "raw", "adls"),
        ("abfss://lake@acct.dfs.core.windows.net/raw/events", "https://acct.blob.core.windows.net", "lake",
         "raw/events", "adls"),
        ("abfss://lake@acct.dfs.core.windows.net", "https://acct.blob.core.windows.net", "lake", "", "adls"),
        ("wasbs://box@acct.blob.core.windows.net/x.csv", "https://acct.blob.core.windows.net", "box", "x.csv",
         "azure_blob"),
        ("https://acct.blob.core.chinacloudapi.cn/data/a.csv", "https://acct.blob.core.chinacloudapi.cn", "data",
         "a.csv", "azure_blob"),
        ("http://127.0.0.1:10000/devstoreaccount1/data/a%20b.csv", "http://127.0.0.1:10000/devstoreaccount1",
         "data", "a b.csv", "azure_blob"),
        ("http://localhost:10000/devstoreaccount1/data", "http://localhost:10000/devstoreaccount1", "data", "",
         "azure_blob"),
    ],
)  # fmt: skip
def test_path_forms(path: str, endpoint: str, container: str, blob_path: str, kind: str) -> None:
    loc = parse_azure_url(path)
    assert (loc.endpoint, loc.container, loc.path, loc.kind) == (endpoint, container, blob_path, kind)
    assert loc.sas is None


def test_sas_is_kept_apart_and_out_of_every_printed_form() -> None:
    loc = parse_azure_url(f"https://acct.blob.core.windows.net/data/file.csv?{SAS}")
    assert loc.sas == SAS
    assert "CANARY" not in repr(loc)
    assert loc.shown == "https://acct.blob.core.windows.net/data/file.csv"
    src = resolve_source(f"https://acct.blob.core.windows.net/data/file.csv?{SAS}")
    assert "CANARY" not in repr(src)
    assert src.display_path == "https://acct.blob.core.windows.net/data/file.csv"


@pytest.mark.parametrize(
    ("path", "word", "kind", "stored"),
    [
        ("https://acct.blob.core.windows.net/data", None, "azure_blob", "azure_blob"),
        ("abfss://lake@acct.dfs.core.windows.net/raw", None, "adls", "adls"),
        ("https://acct.dfs.core.windows.net/lake", None, "adls", "adls"),
        ("https://acct.blob.core.windows.net/data", "adls", "adls", "adls"),
        ("https://acct.blob.core.windows.net/data", "csv", "azure_blob", "csv"),
        ("http://127.0.0.1:10000/devstoreaccount1/data", None, "azure_blob", "azure_blob"),
        ("http://emulator.internal:10000/devstoreaccount1/data", "azure_blob", "azure_blob", "azure_blob"),
    ],
)
def test_source_type_detection(path: str, word: str | None, kind: str, stored: str) -> None:
    src = resolve_source(path, word)
    assert (src.kind, src.source_type) == (kind, stored)
    assert src.format_filter == (word if word == "csv" else None)


@pytest.mark.parametrize(
    ("path", "word", "message"),
    [
        ("https://acct.blob.core.windows.net/", None, "names no container"),
        (f"https://acct.blob.core.windows.net/?{SAS}", None, "names no container"),
        ("https://acct.blob.core.windows.net/Bad_Name/x.csv", None, "not a valid container name"),
        ("https://acct.blob.core.windows.net/data?comp=list", None, "not a SAS token"),
        ("abfss://acct.dfs.core.windows.net/raw", None, "abfss://CONTAINER@ACCOUNT"),
        ("http://127.0.0.1:10000/", None, "needs the account and the container"),
        ("https://example.com/data/x.csv", None, "not a local path, a DBFS path or an Azure URL"),
        ("data_samples", "azure_blob", "is not an Azure URL"),
        ("https://acct.blob.core.windows.net/data", "local", "is an Azure URL, not a local path"),
        ("https://user:pw@acct.blob.core.windows.net/data", None, "do not belong in an Azure URL"),
    ],
)
def test_bad_urls_are_one_line_configuration_errors(path: str, word: str | None, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_source(path, word)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert "CANARY" not in text


def _grant(path: str, **env: str) -> az.Grant:
    return resolve_grant(parse_azure_url(path), AzureSettings(**env))


def test_credential_order_first_found_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "identity_available", lambda: False)
    blob = "https://acct.blob.core.windows.net/data/x.csv"
    everything = {
        "connection_string": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=S2V5S2V5;",
        "sas_token": "?sv=1&sp=r&sig=ENVSIG",
        "account_key": "QUNDT1VOVEtFWQ==",
    }
    g = _grant(f"{blob}?{SAS}", **everything)
    assert (g.kind, g.source, g.secret) == ("sas", "the SAS token in the URL", SAS)
    g = _grant(blob, **everything)
    assert (g.kind, g.source, g.secret, g.account) == (
        "key",
        "AZURE_STORAGE_CONNECTION_STRING",
        "S2V5S2V5",
        "acct",
    )
    g = _grant(blob, sas_token=everything["sas_token"], account_key=everything["account_key"])
    assert (g.kind, g.source, g.secret) == ("sas", "AZURE_STORAGE_SAS_TOKEN", "sv=1&sp=r&sig=ENVSIG")
    g = _grant(blob, account_key=everything["account_key"])
    assert (g.kind, g.source, g.account) == ("key", "AZURE_STORAGE_KEY", "acct")
    g = _grant(blob)
    assert g.kind == "anonymous"
    assert g.tried == (
        "a SAS token in the URL (none)",
        "AZURE_STORAGE_CONNECTION_STRING (unset)",
        "AZURE_STORAGE_SAS_TOKEN (unset)",
        "AZURE_STORAGE_KEY (unset)",
        "DefaultAzureCredential (azure-identity not installed)",
    )
    monkeypatch.setattr(credentials, "identity_available", lambda: True)
    assert _grant(blob).kind == "default"


def test_connection_string_for_another_account_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "identity_available", lambda: False)
    g = _grant(
        "https://acct.blob.core.windows.net/data",
        connection_string="AccountName=other;AccountKey=T1RIRVI=;EndpointSuffix=core.windows.net",
        account_key="QUNDVA==",
    )
    assert (g.kind, g.source) == ("key", "AZURE_STORAGE_KEY")
    assert "AZURE_STORAGE_CONNECTION_STRING (set, for account `other`, not `acct`)" in g.tried


def test_connection_string_forms() -> None:
    g = _grant("https://acct.blob.core.windows.net/data", connection_string="BlobEndpoint=https://acct.blob.core"
               ".windows.net/;SharedAccessSignature=sv=1&sp=rl&sig=CSSIG")  # fmt: skip
    assert (g.kind, g.secret) == ("sas", "sv=1&sp=rl&sig=CSSIG")
    # the emulator's shorthand names the well-known account and endpoint
    g = _grant(
        "abfss://data@devstoreaccount1.dfs.core.windows.net/x", connection_string="UseDevelopmentStorage=true"
    )
    assert (g.kind, g.account, g.endpoint) == (
        "key",
        "devstoreaccount1",
        "http://127.0.0.1:10000/devstoreaccount1",
    )
    # a path-style URL names its endpoint itself
    g = _grant("http://127.0.0.1:1234/devstoreaccount1/data", connection_string="UseDevelopmentStorage=true")
    assert g.endpoint is None
    with pytest.raises(ConfigurationError, match="neither an AccountKey nor a SharedAccessSignature"):
        _grant(
            "https://acct.blob.core.windows.net/data", connection_string="AccountName=acct;EndpointSuffix=x"
        )
    with pytest.raises(ConfigurationError, match="not a connection string"):
        _grant("https://acct.blob.core.windows.net/data", connection_string="just-a-key")


def test_secrets_are_registered_for_redaction() -> None:
    AzureSettings.from_env(
        {"AZURE_STORAGE_KEY": "S3CR3TKEYVALUE==", "AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=ZZTOP"}
    )
    parse_azure_url(f"https://acct.blob.core.windows.net/data?{SAS}")
    text = redact_text("key S3CR3TKEYVALUE== sig CANARYsig+value= and CANARYsig%2Bvalue%3D")
    assert "S3CR3T" not in text
    assert "CANARY" not in text


def test_redact_url_keeps_the_container_of_abfss_urls() -> None:
    assert (
        redact_url("abfss://lake@acct.dfs.core.windows.net/raw")
        == "abfss://lake@acct.dfs.core.windows.net/raw"
    )
    assert redact_url("https://tok@host/x") == "https://***@host/x"  # a bare user part elsewhere is a token
    assert redact_url(f"http://127.0.0.1:1/devstoreaccount1/c/a.csv?{SAS}") == (
        "http://127.0.0.1:1/devstoreaccount1/c/a.csv"
    )


def test_sas_notes() -> None:
    assert "expired at 2001-01-01T00:00:00Z" in messages.sas_note("se=2001-01-01T00%3A00%3A00Z&sp=rl&sig=x")
    assert "not valid before 2099" in messages.sas_note(
        "st=2099-01-01T00:00:00Z&se=2100-01-01T00:00:00Z&sig=x"
    )
    assert "sp=r " in messages.sas_note("se=2099-01-01T00:00:00Z&sp=r&sig=x")
    assert messages.sas_note(None) == ""


def test_filesystem_routing() -> None:
    from nuvyn_executor.engine.discovery.base import filesystem_for
    from nuvyn_executor.engine.discovery.local import LOCAL

    assert isinstance(filesystem_for("https://acct.blob.core.windows.net/data/x.csv"), az.AzureFileSystem)
    assert filesystem_for("/tmp/x.csv") is LOCAL
    assert filesystem_for("http://127.0.0.1:9/never-registered/c/x.csv") is LOCAL


def test_an_identity_without_a_data_role_is_told_which_role() -> None:
    from azure.core.exceptions import HttpResponseError

    err = HttpResponseError(
        message="This request is not authorized to perform this operation using this permission."
    )
    err.status_code = 403
    err.error_code = "AuthorizationPermissionMismatch"
    loc = parse_azure_url("abfss://lake@acct.dfs.core.windows.net/raw")
    scope = clients.Scope(
        loc.endpoint, loc.container, az.Grant("default", "DefaultAzureCredential", tried=("x",))
    )
    with pytest.raises(ConfigurationError) as info:
        messages.access_error(err, loc, scope, "listing container `lake`")
    assert str(info.value) == (
        "`abfss://lake@acct.dfs.core.windows.net/raw`: access denied while listing container `lake` with "
        "DefaultAzureCredential (403 AuthorizationPermissionMismatch: This request is not authorized to perform "
        "this operation using this permission.); the identity needs a data role on the container, such as Storage "
        "Blob Data Reader; credentials looked for, first found wins: x"
    )


def test_the_azure_module_loads_only_for_azure_paths() -> None:
    """Discovery names the Azure kinds itself and imports the Azure module (~3.4 ms) only for a PATH that
    can be a URL; a process that has not loaded it still serves an Azure URL (a spawned worker)."""
    import subprocess
    import sys

    from nuvyn_executor.engine import discovery

    assert discovery.AZURE_KINDS == (az.AZURE_BLOB, az.ADLS)
    code = (
        "import sys\n"
        "from nuvyn_executor.engine.discovery import resolve_source\n"
        "from nuvyn_executor.engine.discovery.base import filesystem_for\n"
        "mod = 'nuvyn_executor.engine.discovery.azure'\n"
        "assert resolve_source('/data/raw').kind == 'local'\n"
        "assert resolve_source('/data/raw', 'dbfs').kind == 'dbfs'\n"
        "assert mod not in sys.modules\n"
        "fs = filesystem_for('https://acct.blob.core.windows.net/data/x.csv')\n"
        "assert type(fs).__name__ == 'AzureFileSystem', fs\n"
        "assert mod in sys.modules\n"
        "assert resolve_source('abfss://lake@acct.dfs.core.windows.net/raw').kind == 'adls'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
