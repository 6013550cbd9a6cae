"""Finding record boundaries in delimited text without reading it from the start.

A byte range of a CSV file cannot simply start after the next newline: a quoted field may hold
newlines.  The scanner below runs the CSV state machine from an arbitrary offset under all four possible
starting states at once (field start, inside an unquoted field, inside a quoted field, just after a
quote inside a quoted field).  The first newline at which *every* hypothesis is outside quotes is a
record boundary whatever the true state was, so it is a deterministic function of the bytes that both
neighbouring byte ranges compute identically: the range before ends there and the range after starts
there, with no coordination and no second pass.

The state machine is the one pyarrow's parser follows with ``double_quote=True`` and no escape
character: a quote opens a quoted field only at the start of a field, ``""`` inside quotes is a literal
quote, and text after a closing quote continues the field unquoted.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

S_FIELD_START = 0
S_UNQUOTED = 1
S_QUOTED = 2
S_QUOTE_IN_QUOTED = 3

C_OTHER = 0
C_QUOTE = 1
C_DELIM = 2
C_LF = 3
C_CR = 4

# TRANSITIONS[state, byte class]
TRANSITIONS = np.array(
    [
        # other        quote              delim          LF             CR
        [S_UNQUOTED, S_QUOTED, S_FIELD_START, S_FIELD_START, S_FIELD_START],  # field start
        [S_UNQUOTED, S_UNQUOTED, S_FIELD_START, S_FIELD_START, S_FIELD_START],  # unquoted field
        [S_QUOTED, S_QUOTE_IN_QUOTED, S_QUOTED, S_QUOTED, S_QUOTED],  # quoted field
        [S_UNQUOTED, S_QUOTED, S_FIELD_START, S_FIELD_START, S_FIELD_START],  # quote inside quotes
    ],
    dtype=np.int8,
)


def byte_classes(delimiter: bytes, quote: bytes | None) -> np.ndarray:
    """The class of every byte value for a dialect (``quote=None``: quoting disabled)."""
    cls = np.zeros(256, dtype=np.int8)
    cls[ord("\n")] = C_LF
    cls[ord("\r")] = C_CR
    cls[delimiter[0]] = C_DELIM
    if quote:
        cls[quote[0]] = C_QUOTE
    return cls


def initial_hypotheses() -> np.ndarray:
    return np.array([S_FIELD_START, S_UNQUOTED, S_QUOTED, S_QUOTE_IN_QUOTED], dtype=np.int8)


def unquoted_hypotheses() -> np.ndarray:
    """The starting states outside quotes: their first common LF is where a parse that was not inside a
    quoted field would end a record (the speculative boundary, see ``readers.csv_reader``)."""
    return np.array([S_FIELD_START, S_UNQUOTED], dtype=np.int8)


@njit
def find_boundary(buf: np.ndarray, classes: np.ndarray, transitions: np.ndarray, states: np.ndarray) -> int:
    """Index just after the first LF in ``buf`` at which no hypothesis is inside a quoted field, or -1.

    ``states`` holds the hypotheses on entry and is advanced in place, so a long search can continue over
    the next buffer.
    """
    nh = states.shape[0]
    for i in range(buf.shape[0]):
        c = classes[buf[i]]
        if c == C_LF:
            certain = True
            for k in range(nh):
                if states[k] == S_QUOTED:
                    certain = False
                    break
            if certain:
                return i + 1
        for k in range(nh):
            states[k] = transitions[states[k], c]
    return -1


@njit
def advance_state(buf: np.ndarray, classes: np.ndarray, transitions: np.ndarray, state: int) -> int:
    """The state after ``buf``, from ``state``."""
    for i in range(buf.shape[0]):
        state = transitions[state, classes[buf[i]]]
    return state


@njit
def first_record_end(buf: np.ndarray, classes: np.ndarray, transitions: np.ndarray, state: int) -> int:
    """From a known state, the index just after the first record's terminator (CR, LF or CRLF), or -1."""
    n = buf.shape[0]
    for i in range(n):
        c = classes[buf[i]]
        if (c == C_LF or c == C_CR) and state != S_QUOTED:  # noqa: SIM109  (kept scalar for Numba)
            if c == C_CR and i + 1 < n and buf[i + 1] == 10:
                return i + 2
            return i + 1
        state = transitions[state, c]
    return -1
