"""Every default, every environment variable name, and the one place that reads the environment.

The CLI builds these settings from its options (each option declares the ``EXECUTOR_*`` variable it reads,
so ``--help`` shows it); a Databricks notebook or job that calls the library directly can use
``ExtractionSettings.from_env`` and ``SinkSettings.from_env`` instead.  No other engine module reads
``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

# --- defaults -------------------------------------------------------------------------------------------
#: The contract's default null tokens; an empty (or all-blank) field is always null.
DEFAULT_NULL_TOKENS: tuple[str, ...] = ("NULL", "null", "None", "NA", "N/A", "NaN", "nan", "#N/A")
DEFAULT_SCHEMA = "_executor_metadata"
DEFAULT_DB_FILE = "executor_metadata.duckdb"
DEFAULT_SAMPLE_SIZE = 5
DEFAULT_SEED = 0
DEFAULT_BLOCK_SIZE = 1 << 20  # bytes parsed at a time: larger blocks cost memory, not less CPU
DEFAULT_SPLIT_SIZE = 512 << 20  # the largest range of a split file (see scheduler.run.range_size)
DEFAULT_SMALL_UNIT_BYTES = 8 << 20  # small files are batched into work units of about this size
DEFAULT_SMALL_UNIT_FILES = 64
DEFAULT_PROGRESS_INTERVAL = 10.0  # seconds between progress log lines when stderr is not a terminal
DEFAULT_DB_RETRIES = 5
DEFAULT_DB_BACKOFF = 1.0  # seconds before the first retry; doubles each time
DEFAULT_DB_BACKOFF_MAX = 30.0
DEFAULT_DB_TIMEOUT = 120.0  # seconds a Databricks SQL request may wait for its reply
DEFAULT_MAX_STATEMENT_BYTES = 2 << 20  # Databricks SQL statement text
DEFAULT_MAX_ROWS_PER_INSERT = 1000
DEFAULT_AZURE_RETRIES = 5  # retries of one Azure request (throttling, 5xx, timeouts, resets)
DEFAULT_AZURE_BACKOFF = 0.5  # seconds before the first retry; doubles each time, with jitter
DEFAULT_AZURE_BACKOFF_MAX = 16.0
DEFAULT_AZURE_CONNECT_TIMEOUT = 20.0
DEFAULT_AZURE_READ_TIMEOUT = 60.0

SOURCE_TYPES = ("local", "dbfs", "azure_blob", "adls")
FORMAT_WORDS = ("csv", "parquet", "json", "orc", "avro", "excel", "arrow", "delta")
HEADER_MODES = ("auto", "true", "false")

# --- environment variable names -------------------------------------------------------------------------
ENV_PREFIX = "EXECUTOR_"
ENV_WRITE_TO_DB = "EXECUTOR_WRITE_TO_DB"
ENV_DB_URL = "EXECUTOR_DB_URL"
ENV_CATALOG = "EXECUTOR_CATALOG"
ENV_SCHEMA = "EXECUTOR_SCHEMA"
ENV_WORKERS = "EXECUTOR_WORKERS"
ENV_SAMPLE_SIZE = "EXECUTOR_SAMPLE_SIZE"
ENV_SEED = "EXECUTOR_SEED"
ENV_INCLUDE = "EXECUTOR_INCLUDE"
ENV_EXCLUDE = "EXECUTOR_EXCLUDE"
ENV_NULL_VALUE = "EXECUTOR_NULL_VALUE"
ENV_FORMAT = "EXECUTOR_FORMAT"
ENV_OUTPUT = "EXECUTOR_OUTPUT"
ENV_PREFER_DECIMAL = "EXECUTOR_PREFER_DECIMAL"
ENV_HEADER = "EXECUTOR_HEADER"
ENV_BLOCK_SIZE = "EXECUTOR_BLOCK_SIZE"
ENV_SPLIT_SIZE = "EXECUTOR_SPLIT_SIZE"
ENV_METADATA_ONLY = "EXECUTOR_METADATA_ONLY"
ENV_GROUP_TABLES = "EXECUTOR_GROUP_TABLES"
ENV_LOG_LEVEL = "EXECUTOR_LOG_LEVEL"
ENV_PROGRESS = "EXECUTOR_PROGRESS"
ENV_DB_RETRIES = "EXECUTOR_DB_RETRIES"
ENV_DB_BACKOFF = "EXECUTOR_DB_BACKOFF"
ENV_DB_BACKOFF_MAX = "EXECUTOR_DB_BACKOFF_MAX"
ENV_DB_TIMEOUT = "EXECUTOR_DB_TIMEOUT"
ENV_MAX_STATEMENT_BYTES = "EXECUTOR_MAX_STATEMENT_BYTES"
ENV_KERNELS = "EXECUTOR_KERNELS"
ENV_NUMBA_DISABLE_JIT = "NUMBA_DISABLE_JIT"
ENV_NUMBA_CACHE_DIR = "NUMBA_CACHE_DIR"
ENV_MALLOC_THRESHOLDS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
ENV_ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"
KERNEL_BACKENDS = ("auto", "compiled", "jit")
ENV_DATABRICKS_HOST = "DATABRICKS_SERVER_HOSTNAME"
ENV_DATABRICKS_HTTP_PATH = "DATABRICKS_HTTP_PATH"
ENV_DATABRICKS_TOKEN = "DATABRICKS_ACCESS_TOKEN"
ENV_CA_BUNDLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
ENV_AZURE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
ENV_AZURE_SAS_TOKEN = "AZURE_STORAGE_SAS_TOKEN"
ENV_AZURE_KEY = "AZURE_STORAGE_KEY"
ENV_AZURE_RETRIES = "EXECUTOR_AZURE_RETRIES"
ENV_AZURE_BACKOFF = "EXECUTOR_AZURE_BACKOFF"

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def parse_bool(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigurationError(f"`{name}` must be true or false, not `{value}`")


def parse_int(value: str, name: str, minimum: int | None = None) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise ConfigurationError(f"`{name}` must be an integer, not `{value}`") from None
    if minimum is not None and n < minimum:
        raise ConfigurationError(f"`{name}` must be at least {minimum}, not {n}")
    return n


def parse_float(value: str, name: str, minimum: float | None = None) -> float:
    try:
        x = float(value.strip())
    except ValueError:
        raise ConfigurationError(f"`{name}` must be a number, not `{value}`") from None
    if minimum is not None and not x >= minimum:  # also refuses nan
        raise ConfigurationError(f"`{name}` must be at least {minimum}, not {x}")
    return x


def kernel_backend_request(environ: Mapping[str, str] | None = None) -> str:
    """Which kernels to run: ``python`` (``NUMBA_DISABLE_JIT=1``: the plain functions, for tests),
    ``auto`` (the compiled module, falling back to Numba's JIT when it cannot be built), ``compiled``
    (the compiled module or an error; a build that failed before is retried) or ``jit``."""
    env = os.environ if environ is None else environ
    disabled = env.get(ENV_NUMBA_DISABLE_JIT, "").strip()
    if disabled and disabled != "0":  # Numba reads it as an int: any other number disables the JIT
        return "python"
    value = env.get(ENV_KERNELS, "auto").strip().lower() or "auto"
    if value not in KERNEL_BACKENDS:
        raise ConfigurationError(
            f"`{ENV_KERNELS}` must be one of {', '.join(KERNEL_BACKENDS)}, not `{value}`"
        )
    return value


# Variables that hold credentials: what runs on the side (the kernels' build) is started without them.
SECRET_ENV_VARS = (
    ENV_DATABRICKS_TOKEN, ENV_DB_URL, ENV_AZURE_CONNECTION_STRING, ENV_AZURE_SAS_TOKEN, ENV_AZURE_KEY,
)  # fmt: skip


def environ_without_secrets(**overrides: str) -> dict[str, str]:
    """The process environment less ``SECRET_ENV_VARS``, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV_VARS}
    env.update(overrides)
    return env


def arrow_pool_chosen_by_user(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``ARROW_DEFAULT_MEMORY_POOL`` names Arrow's allocator (then the executor leaves it alone)."""
    env = os.environ if environ is None else environ
    return bool(env.get(ENV_ARROW_POOL, "").strip())


def malloc_tuned_by_user(environ: Mapping[str, str] | None = None) -> bool:
    """Whether glibc's malloc thresholds are set from the environment (``GLIBC_TUNABLES`` naming
    ``glibc.malloc``, or the older ``MALLOC_*_`` variables): the executor then leaves them alone."""
    env = os.environ if environ is None else environ
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return True
    return any(env.get(name) for name in ENV_MALLOC_THRESHOLDS)


def kernel_cache_root(environ: Mapping[str, str] | None = None) -> str | None:
    """``NUMBA_CACHE_DIR``: where compiled kernels are kept when the package folder is not the place."""
    env = os.environ if environ is None else environ
    return env.get(ENV_NUMBA_CACHE_DIR) or None


def default_workers() -> int:
    """The CPU count this process may use (a container's or cgroup's limit included)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ExtractionSettings:
    """What to profile and how; everything a run needs except where to write."""

    path: str
    source_type: str | None = None
    tenant_id: str | None = None
    workers: int | None = None  # None: the CPU count
    sample_size: int = DEFAULT_SAMPLE_SIZE
    seed: int = DEFAULT_SEED
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    null_values: tuple[str, ...] = DEFAULT_NULL_TOKENS
    prefer_decimal: bool = False
    header: str = "auto"
    block_size: int = DEFAULT_BLOCK_SIZE
    split_size: int = DEFAULT_SPLIT_SIZE
    progress_interval: float = DEFAULT_PROGRESS_INTERVAL
    metadata_only: bool = False  # Parquet from footers alone: no distinct counts or samples
    group_tables: bool = True  # Spark/Hive/Delta folders are one table each

    def __post_init__(self) -> None:
        if self.sample_size < 0:
            raise ConfigurationError(f"`sample-size` must be 0 or more, not {self.sample_size}")
        if self.workers is not None and self.workers < 1:
            raise ConfigurationError(f"`workers` must be at least 1, not {self.workers}")
        if self.header not in HEADER_MODES:
            raise ConfigurationError(
                f"`header` must be one of {', '.join(HEADER_MODES)}, not `{self.header}`"
            )
        if self.block_size < 1 << 16:
            raise ConfigurationError(f"`block-size` must be at least 65536 bytes, not {self.block_size}")

    @property
    def effective_workers(self) -> int:
        return self.workers if self.workers is not None else default_workers()

    @classmethod
    def from_env(
        cls, path: str, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ExtractionSettings:
        """Settings from ``EXECUTOR_*`` variables (for jobs that do not go through the CLI)."""
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        if env.get(ENV_WORKERS):
            kw["workers"] = parse_int(env[ENV_WORKERS], "workers", 1)
        if env.get(ENV_SAMPLE_SIZE):
            kw["sample_size"] = parse_int(env[ENV_SAMPLE_SIZE], "sample-size", 0)
        if env.get(ENV_SEED):
            kw["seed"] = parse_int(env[ENV_SEED], "seed")
        if env.get(ENV_INCLUDE):
            kw["include"] = tuple(env[ENV_INCLUDE].split())
        if env.get(ENV_EXCLUDE):
            kw["exclude"] = tuple(env[ENV_EXCLUDE].split())
        if env.get(ENV_NULL_VALUE):
            kw["null_values"] = tuple(env[ENV_NULL_VALUE].split())
        if env.get(ENV_PREFER_DECIMAL):
            kw["prefer_decimal"] = parse_bool(env[ENV_PREFER_DECIMAL], "prefer-decimal")
        if env.get(ENV_HEADER):
            kw["header"] = env[ENV_HEADER].strip().lower()
        if env.get(ENV_BLOCK_SIZE):
            kw["block_size"] = parse_int(env[ENV_BLOCK_SIZE], "block-size", 1 << 16)
        if env.get(ENV_SPLIT_SIZE):
            kw["split_size"] = parse_int(env[ENV_SPLIT_SIZE], "split-size", 1)
        if env.get(ENV_METADATA_ONLY):
            kw["metadata_only"] = parse_bool(env[ENV_METADATA_ONLY], "metadata-only")
        if env.get(ENV_GROUP_TABLES):
            kw["group_tables"] = parse_bool(env[ENV_GROUP_TABLES], "group-tables")
        kw.update(overrides)
        return cls(path=path, **kw)


@dataclass(frozen=True)
class DatabricksSettings:
    """Connection to a Databricks SQL warehouse.  ``access_token`` is a secret: never print it."""

    server_hostname: str
    http_path: str
    access_token: str = field(repr=False)
    port: int | None = None
    catalog: str | None = None
    ca_bundle: str | None = None


@dataclass(frozen=True)
class SinkSettings:
    """Where and how to write the metadata tables."""

    write_to_db: bool = False
    db_url: str | None = None
    catalog: str | None = None
    schema: str = DEFAULT_SCHEMA
    retries: int = DEFAULT_DB_RETRIES
    backoff: float = DEFAULT_DB_BACKOFF
    backoff_max: float = DEFAULT_DB_BACKOFF_MAX
    timeout: float = DEFAULT_DB_TIMEOUT
    max_statement_bytes: int = DEFAULT_MAX_STATEMENT_BYTES
    max_rows_per_insert: int = DEFAULT_MAX_ROWS_PER_INSERT
    databricks: DatabricksSettings | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> SinkSettings:
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        if env.get(ENV_WRITE_TO_DB):
            kw["write_to_db"] = parse_bool(env[ENV_WRITE_TO_DB], ENV_WRITE_TO_DB)
        if env.get(ENV_DB_URL):
            kw["db_url"] = env[ENV_DB_URL]
        if env.get(ENV_CATALOG):
            kw["catalog"] = env[ENV_CATALOG]
        if env.get(ENV_SCHEMA):
            kw["schema"] = env[ENV_SCHEMA]
        if env.get(ENV_DB_RETRIES):
            kw["retries"] = parse_int(env[ENV_DB_RETRIES], ENV_DB_RETRIES, 0)
        if env.get(ENV_DB_BACKOFF):
            kw["backoff"] = parse_float(env[ENV_DB_BACKOFF], ENV_DB_BACKOFF, 0)
        if env.get(ENV_DB_BACKOFF_MAX):
            kw["backoff_max"] = parse_float(env[ENV_DB_BACKOFF_MAX], ENV_DB_BACKOFF_MAX, 0)
        if env.get(ENV_DB_TIMEOUT):
            kw["timeout"] = parse_float(env[ENV_DB_TIMEOUT], ENV_DB_TIMEOUT, 0.1)
        if env.get(ENV_MAX_STATEMENT_BYTES):
            kw["max_statement_bytes"] = parse_int(env[ENV_MAX_STATEMENT_BYTES], ENV_MAX_STATEMENT_BYTES, 1024)
        kw.update(overrides)
        kw.setdefault("databricks", databricks_from_env(env, catalog=kw.get("catalog")))
        return cls(**kw)


def databricks_from_env(
    environ: Mapping[str, str] | None = None, catalog: str | None = None
) -> DatabricksSettings | None:
    """Databricks connection from ``DATABRICKS_*`` variables, or None unless all three are set."""
    env = os.environ if environ is None else environ
    host = env.get(ENV_DATABRICKS_HOST, "").strip()
    http_path = env.get(ENV_DATABRICKS_HTTP_PATH, "").strip()
    token = env.get(ENV_DATABRICKS_TOKEN, "").strip()
    if not (host and http_path and token):
        return None
    return make_databricks_settings(
        host, http_path, token, catalog=catalog, ca_bundle=ca_bundle_from_env(env)
    )


def make_databricks_settings(
    host: str, http_path: str, token: str, *, catalog: str | None = None, ca_bundle: str | None = None
) -> DatabricksSettings:
    """Normalise a hostname that may carry a scheme or a port (``https://host:8443``)."""
    from .redact import register_secret

    register_secret(token)
    h = host.strip()
    for scheme in ("https://", "http://"):
        if h.lower().startswith(scheme):
            h = h[len(scheme) :]
    h = h.rstrip("/")
    port = None
    if h.count(":") == 1:
        h, _, p = h.partition(":")
        port = parse_int(p, ENV_DATABRICKS_HOST + " port", 1)
    if not h:
        raise ConfigurationError(f"`{ENV_DATABRICKS_HOST}` holds no host name")
    return DatabricksSettings(
        server_hostname=h,
        http_path=http_path,
        access_token=token,
        port=port,
        catalog=catalog,
        ca_bundle=ca_bundle,
    )


@dataclass(frozen=True)
class AzureSettings:
    """Azure credentials from the environment (secrets: never printed) and the retry policy of requests."""

    connection_string: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    account_key: str | None = field(default=None, repr=False)
    retries: int = DEFAULT_AZURE_RETRIES
    backoff: float = DEFAULT_AZURE_BACKOFF
    backoff_max: float = DEFAULT_AZURE_BACKOFF_MAX
    connect_timeout: float = DEFAULT_AZURE_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_AZURE_READ_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> AzureSettings:
        """``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_SAS_TOKEN``, ``AZURE_STORAGE_KEY`` and the
        ``EXECUTOR_AZURE_RETRIES``/``EXECUTOR_AZURE_BACKOFF`` knobs; every secret is registered for redaction."""
        from .redact import register_secret

        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        for name, key in (
            (ENV_AZURE_CONNECTION_STRING, "connection_string"),
            (ENV_AZURE_SAS_TOKEN, "sas_token"),
            (ENV_AZURE_KEY, "account_key"),
        ):
            value = env.get(name, "").strip()
            if value:
                register_secret(value)
                kw[key] = value
        if env.get(ENV_AZURE_RETRIES):
            kw["retries"] = parse_int(env[ENV_AZURE_RETRIES], ENV_AZURE_RETRIES, 0)
        if env.get(ENV_AZURE_BACKOFF):
            kw["backoff"] = parse_float(env[ENV_AZURE_BACKOFF], ENV_AZURE_BACKOFF, 0.0)
        kw.update(overrides)
        return cls(**kw)


def ca_bundle_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for name in ENV_CA_BUNDLES:
        if env.get(name):
            return env[name]
    return None


def environ() -> Mapping[str, str]:
    """The process environment, for the few callers (sources, sinks) that take a mapping."""
    return os.environ


def databricks_target_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment points the metadata tables at Databricks SQL."""
    env = os.environ if environ is None else environ
    return databricks_from_env(env) is not None or env.get(ENV_DB_URL, "").lower().startswith("databricks:")
