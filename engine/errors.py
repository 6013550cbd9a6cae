"""The one exception tree of the engine.

Every error is picklable (so it survives a process pool), carries a message that has been passed through
``redact`` (so a credential can never leak through ``str(exc)``), and says whether retrying can help
(``TransientError``) or not (``TerminalError``).  The CLI maps the classes to exit codes.
"""

from __future__ import annotations

from typing import Any

from .redact import redact_text


class ExecutorError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str, **attrs: Any) -> None:
        self.message = redact_text(message)
        self.attrs = attrs
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.attrs))


def _rebuild(cls: type[ExecutorError], message: str, attrs: dict[str, Any]) -> ExecutorError:
    err = cls.__new__(cls)
    ExecutorError.__init__(err, message, **attrs)
    return err


class TransientError(ExecutorError):
    """Retrying may succeed (throttling, a dropped connection, a busy lock)."""


class TerminalError(ExecutorError):
    """Retrying will not help."""


class ConfigurationError(TerminalError):
    """A bad argument, option, URL or environment: the CLI exits with status 2."""


class MissingDependencyError(ConfigurationError):
    """An optional package is not installed; the message names the pip extra."""


class SourceNotFoundError(ConfigurationError):
    """The PATH given does not exist or cannot be listed."""


class ReadError(TerminalError):
    """One file could not be read or profiled; it becomes an error record and the run goes on."""


class UnsupportedFormatError(ReadError):
    """The file's format is not one the executor reads."""


class SinkError(ExecutorError):
    """Writing the metadata tables failed."""


class TransientSinkError(SinkError, TransientError):
    """A write failed in a way a retry may fix."""


class TerminalSinkError(SinkError, TerminalError):
    """A write failed for good (permissions, a bad schema, an invalid statement)."""
