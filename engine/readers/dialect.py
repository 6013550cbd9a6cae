"""Detecting how a delimited text file is written, from a sample of its first bytes.

Decides the delimiter (``,`` ``;`` tab ``|``), the quote character, whether the first record is a header,
the column names (Spark's rules: ``_c0, _c1, ...`` without a header, duplicates made unique with their
position), the text encoding (UTF-8 with or without BOM, else Windows-1252), and the byte offset where
the data records start.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..errors import ReadError
from ..kernels.csv_scan import TRANSITIONS, byte_classes
from ..kernels.entry import classify_bytes, first_record_end
from ..kernels.types import BOOL_FAMILY, NUMERIC_FAMILY, TEMPORAL_FAMILY

log = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_RECORDS = 100  # records parsed to choose the delimiter
HEADER_ROWS = 25  # records looked at to decide whether the first one is a header
_TYPED = BOOL_FAMILY | NUMERIC_FAMILY | TEMPORAL_FAMILY


class NeedMoreSample(Exception):
    """The sample ends before the header does; sniff again with a larger one."""


@dataclass(frozen=True)
class Dialect:
    """How to parse one delimited text stream; small and picklable (it travels with byte-range work)."""

    delimiter: str = ","
    quote: str | None = '"'
    header: bool = True
    names: tuple[str, ...] = ()
    encoding: str = "utf-8"
    data_start: int = 0  # offset of the first data record in the (decompressed) stream
    bom: bool = False

    @property
    def classes(self) -> np.ndarray:
        return byte_classes(self.delimiter.encode(), self.quote.encode() if self.quote else None)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _is_binary(sample: bytes) -> bool:
    head = sample[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    text_len = len(head.translate(None, _CONTROL_BYTES))
    return (len(head) - text_len) / len(head) > 0.05


def _decode(sample: bytes, at_eof: bool) -> tuple[str, str]:
    """(text, encoding): UTF-8 when the sample is valid UTF-8, else Windows-1252 (Latin-1 for its holes)."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof), "utf-8"
    except UnicodeDecodeError:
        pass
    return sample.decode("cp1252", errors="replace"), "cp1252"


def _records(text: str, delimiter: str, quote: str | None, limit: int = SNIFF_RECORDS) -> list[list[str]]:
    kw: dict[str, object] = {"delimiter": delimiter, "strict": False}
    if quote:
        kw.update(quotechar=quote, doublequote=True)
    else:
        kw["quoting"] = csv.QUOTE_NONE
    out: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), **kw):  # type: ignore[arg-type]
            if not row:
                continue
            out.append(row)
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _score(records: list[list[str]]) -> tuple[float, int]:
    if not records:
        return 0.0, 1
    counts = Counter(len(r) for r in records)
    mode, n = counts.most_common(1)[0]
    if mode < 2:
        return 0.0, mode
    return n / len(records), mode


def _choose_delimiter(text: str, quote: str | None) -> str:
    best = (0.0, 1, ",")
    for d in DELIMITERS:
        if d not in text:
            continue
        consistency, mode = _score(_records(text, d, quote))
        if (consistency, mode) > best[:2]:
            best = (consistency, mode, d)
    return best[2]


def _choose_quote(text: str) -> str:
    if '"' in text or "'" not in text:
        return '"'
    return "'" if any(f"{d}'" in text or text.startswith("'") for d in DELIMITERS) else '"'


def _value_kind(value: str, null_tokens: frozenset[str]) -> int:
    v = value.strip(" \t")
    if not v or v in null_tokens:
        return 0
    return classify_bytes(v.encode("utf-8"))


def detect_header(records: list[list[str]], null_tokens: frozenset[str]) -> bool:
    """Is the first record a header?  Yes unless it looks like data.

    A column votes "header" when its first value is text while the values below are numbers, dates or
    booleans, and votes "data" when its first value is itself a number, date or boolean.  A file of
    text columns only is assumed to have a header (as exports nearly always do).
    """
    if not records:
        return False
    first, rest = records[0], records[1:HEADER_ROWS]
    header_votes = data_votes = 0
    for j, value in enumerate(first):
        kind = _value_kind(value, null_tokens)
        if kind == 0:
            continue
        if kind & _TYPED:
            data_votes += 1
            continue
        typed_below = False
        for r in rest:
            k = _value_kind(r[j], null_tokens) if j < len(r) else 0
            if k == 0:
                continue
            if not k & _TYPED:
                typed_below = False
                break
            typed_below = True
        if typed_below:
            header_votes += 1
    if header_votes:
        return True
    return data_votes == 0


def unique_names(raw: list[str]) -> tuple[str, ...]:
    """Spark's rules: an empty name becomes ``_c<i>``; names that repeat (ignoring case) get their
    position appended (``id0``, ``id3``)."""
    names = [n if n.strip() else f"_c{i}" for i, n in enumerate(raw)]
    counts = Counter(n.lower() for n in names)
    out = [f"{n}{i}" if counts[n.lower()] > 1 else n for i, n in enumerate(names)]
    # appending the position can collide with a real name: fall back to a suffix loop
    seen: set[str] = set()
    result = []
    for n in out:
        candidate, k = n, 1
        while candidate.lower() in seen:
            candidate, k = f"{n}_{k}", k + 1
        seen.add(candidate.lower())
        result.append(candidate)
    return tuple(result)


def sniff(
    sample: bytes,
    at_eof: bool,
    header_mode: str = "auto",
    null_tokens: tuple[str, ...] = (),
) -> Dialect:
    """Work out the dialect of a stream from its first bytes (``at_eof``: the sample is the whole stream).

    Raises ``ReadError`` for content that is not delimited text, and ``NeedMoreSample`` when the header
    does not end inside the sample.
    """
    bom = sample.startswith(UTF8_BOM)
    offset = len(UTF8_BOM) if bom else 0
    body = sample[offset:]
    if _is_binary(body):
        raise ReadError("binary content (NUL or control bytes): not delimited text")
    text, encoding = _decode(body, at_eof)
    if not at_eof:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[:cut]
    # Excel's "sep=;" first line names the delimiter and is not data.
    delimiter = None
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if first_line.lower().startswith("sep=") and len(first_line) == 5:
        delimiter = first_line[4]
        skip = len(first_line.encode(encoding, errors="replace"))
        while skip < len(body) and body[skip : skip + 1] in (b"\r", b"\n"):
            skip += 1
        offset += skip
        body = sample[offset:]
        text = text[len(first_line) :].lstrip("\r\n")
    quote = _choose_quote(text)
    if delimiter is None:
        delimiter = _choose_delimiter(text, quote)
    records = _records(text, delimiter, quote)
    tokens = frozenset(t.strip(" \t") for t in null_tokens)
    if header_mode == "true":
        header = bool(records)
    elif header_mode == "false":
        header = False
    else:
        header = detect_header(records, tokens)
    width = len(records[0]) if records else 0
    data_counts = Counter(len(r) for r in (records[1:] if header else records))
    data_mode = data_counts.most_common(1)[0][0] if data_counts else width
    if header:
        raw_names = list(records[0])
        end = first_record_end(
            np.frombuffer(body, dtype=np.uint8),
            byte_classes(delimiter.encode(), quote.encode() if quote else None),
            TRANSITIONS,
            0,
        )
        if end < 0:
            if not at_eof:
                raise NeedMoreSample()
            end = len(body)
        data_start = offset + end
    else:
        raw_names = []
        data_start = offset
    ncols = max(width, data_mode) if header else (data_mode or width)
    raw_names += [f"_c{i}" for i in range(len(raw_names), ncols)]
    return Dialect(
        delimiter=delimiter,
        quote=quote,
        header=header,
        names=unique_names(raw_names),
        encoding=encoding,
        data_start=data_start,
        bom=bom,
    )
