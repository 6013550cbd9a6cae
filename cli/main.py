"""The ``nuvyn-executor`` command: a Click group over the engine, and the mapping of errors to exit codes.

Exit status: 0 every file profiled (and written); 3 some files failed or the database write failed (the
JSON is still printed); 2 a usage or configuration error (one line, no traceback); 1 anything else.
``--debug`` shows the traceback of unexpected errors.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from typing import NoReturn

import click

from ..engine import __version__
from ..engine._deferred import defer_pyarrow
from ..engine.errors import ConfigurationError, ExecutorError
from ..engine.redact import RedactingFilter, redact_text
from ..engine.settings import ENV_LOG_LEVEL, databricks_target_configured

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

PROG = "nuvyn-executor"
# Drivers log each failed attempt, which the engine retries and reports itself.  Left alone they would
# reach stderr unformatted and unredacted through Python's last-resort handler; they go through the
# redacting handler instead, shown from -v (warnings) and -vv (everything).
# Loggers of the SDKs we drive (the connector, thrift, HTTP, the Azure SDK): they log every retried
# attempt; our own errors already say in one line what failed, so they show only with -v.
DRIVER_LOGGERS = ("databricks", "thrift", "urllib3", "azure")


def configure_logging(verbosity: int, level_name: str | None = None) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if level_name:
        level = getattr(logging, level_name.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("nuvyn_executor")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    driver_level = {0: logging.CRITICAL, 1: logging.WARNING}.get(max(verbosity, 0), logging.DEBUG)
    for name in DRIVER_LOGGERS:
        driver = logging.getLogger(name)
        driver.handlers[:] = [handler]
        driver.setLevel(driver_level)
        driver.propagate = False


class _Group(click.Group):
    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # list each task once, under its canonical (underscore) name
        rows = [(n, c.get_short_help_str()) for n, c in self.commands.items() if "-" not in n]
        if rows:
            with formatter.section("Tasks"):
                formatter.write_dl(rows)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(version=__version__, prog_name=PROG)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    envvar=ENV_LOG_LEVEL,
    show_envvar=True,
    help="Log level on stderr (overrides -v/-q).",
)
@click.option("--debug", is_flag=True, envvar="EXECUTOR_DEBUG", show_envvar=True,
              help="Show tracebacks of unexpected errors.")  # fmt: skip
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, log_level: str | None, debug: bool) -> None:
    """Profile data files into a catalog of tables and columns.

    stdout carries exactly one JSON document (or the summary); progress and logs go to stderr.
    """
    ctx.obj = {"debug": debug}
    configure_logging(-1 if quiet else verbose, log_level)


def _register() -> None:
    from .commands.metadata_extraction import metadata_extraction

    cli.add_command(metadata_extraction, "metadata_extraction")
    cli.add_command(metadata_extraction, "metadata-extraction")


_register()


def _keep_pandas_out(argv: list[str]) -> None:
    """pyarrow imports pandas, when installed, the first time it builds any array (to check whether the
    input is a pandas object): 0.12 s and ~40 MiB in every run, for nothing the executor uses.  The
    console script owns its process, so it keeps pandas out; the library, imported into a user's process,
    does not, and neither does a run that writes to Databricks SQL, whose connector needs pandas.
    """
    if "pandas" in sys.modules or any("databricks://" in a for a in argv) or databricks_target_configured():
        return
    sys.meta_path.insert(0, _NoPandas())


class _NoPandas:
    """A meta path finder (the protocol needs only ``find_spec``; importing ``importlib.abc`` for its base
    class cost ~5 ms of every run)."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ImportError("pandas is not loaded by the nuvyn-executor CLI")
        return None


def console() -> NoReturn:
    """The ``nuvyn-executor`` console script (and ``python -m``): ``main`` in a process of its own, which
    loads pyarrow only if the run needs it (``engine._deferred``)."""
    defer_pyarrow()
    main(own_process=True)
    raise AssertionError("main() returned")  # pragma: no cover


def main(argv: list[str] | None = None, *, own_process: bool = False) -> None:
    """Run the CLI and exit with the contract's status; ``own_process``: see ``_leave``."""
    args = argv if argv is not None else sys.argv[1:]
    _keep_pandas_out(args)
    debug = "--debug" in args
    try:
        code = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except ConfigurationError as exc:
        click.echo(f"{PROG}: error: {exc}", err=True)
        code = EXIT_USAGE
    except ExecutorError as exc:
        if debug:
            raise
        click.echo(f"{PROG}: error: {exc}", err=True)
        code = EXIT_INTERNAL
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except Exception as exc:
        if debug:
            raise
        click.echo(f"{PROG}: internal error: {type(exc).__name__}: {redact_text(str(exc))} "
                   "(run with --debug for the traceback)", err=True)  # fmt: skip
        code = EXIT_INTERNAL
    # Everything that matters is written and closed.  Without this the interpreter's teardown walks the
    # GC over every long-lived object again and again: with the JIT backend, Numba's object graph (loaded
    # kernels, typing contexts) made that ~0.25 s per run.
    gc.freeze()
    status = code if isinstance(code, int) else EXIT_OK
    if own_process:
        _leave(status)
    sys.exit(status)


def _leave(status: int) -> NoReturn:
    """Flush what was written and end the process without the interpreter's teardown.

    Everything that matters is written and closed by now (a pool's workers are joined before
    ``extract_metadata`` returns, a sink is closed before ``write_catalog`` does); the teardown would only
    free, object by object, memory the kernel takes back at once: 6 ms from the last log line to
    ``exit_group`` in every run (strace).  Only the console script's process, which nothing else shares: a
    library caller's, and a Databricks task's (``main.py``), exit the usual way.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # the reader may have gone away (``| head``), or the stream been closed (None: closed at start)
        with contextlib.suppress(BrokenPipeError, ValueError, AttributeError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    console()
