"""Excel workbooks (``.xlsx``, ``.xlsm``, ``.xls``): one table per sheet, named ``file.xlsx#Sheet``.

Cells are read with ``python-calamine`` (fast, and the only one of the two that reads ``.xls``), or with
``openpyxl`` in read-only mode when calamine is not installed (``.xlsx`` only); both are in the
``excel`` extra.  Every cell is turned into its text (whole numbers without ``.0``, dates and times in
ISO form, booleans ``true``/``false``) and typed by the same inference as CSV text, so a sheet and the
same data saved as CSV get the same types.  The header row is detected as for CSV (``--header``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .._optional import import_calamine, import_openpyxl
from ..discovery.base import FileRef, filesystem_for
from ..errors import MissingDependencyError, ReadError
from .base import ReadOptions, TableStream, register_multi
from .dialect import detect_header, unique_names

SNIFF_ROWS = 50
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def cell_text(value: Any) -> str | None:
    """A cell's value as the text a CSV export would hold (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
        return text[:-7] if text.endswith(".000000") else text
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _sheet_stream(rows: Iterator[list[Any]], width: int, options: ReadOptions) -> TableStream:
    head: list[list[str | None]] = []
    for row in rows:
        head.append([cell_text(v) for v in row])
        if len(head) >= SNIFF_ROWS:
            break
    width = max([width, *(len(r) for r in head)]) if head else 0
    # rows that are empty at the top are not the header
    while head and all(v in (None, "") for v in head[0]):
        head.pop(0)
    has_header = options.header == "true" or (
        options.header == "auto"
        and detect_header([[v or "" for v in r] for r in head], frozenset(options.null_values))
    )
    if head and has_header:
        header = [v or "" for v in head.pop(0)]
        names = unique_names(header + [""] * (width - len(header)))
    else:
        names = tuple(f"_c{i}" for i in range(width))

    def batches() -> Iterator[pa.RecordBatch]:
        buf: list[list[str | None]] = list(head)

        def flush() -> pa.RecordBatch:
            cols: list[list[bytes | None]] = [[] for _ in names]
            for r in buf:
                for j in range(len(names)):
                    v = r[j] if j < len(r) else None
                    cols[j].append(None if v is None else v.encode("utf-8", "surrogatepass"))
            return pa.RecordBatch.from_arrays(
                [pa.array(c, type=pa.binary()) for c in cols], names=list(names)
            )

        for row in rows:
            buf.append([cell_text(v) for v in row])
            if len(buf) >= 16384:
                yield flush()
                buf = []
        # trailing empty rows are not records
        while buf and all(v in (None, "") for v in buf[-1]):
            buf.pop()
        if buf and names:
            yield flush()

    return TableStream(names=names, batches=batches(), file_type="excel", encoding="utf-8")


def _read_all(ref: FileRef) -> bytes:
    return filesystem_for(ref.url).read_range(ref.url, 0, ref.size)


def _with_calamine(calamine: Any, ref: FileRef, options: ReadOptions) -> list[tuple[str, TableStream]]:
    import io

    try:
        wb = calamine.CalamineWorkbook.from_filelike(io.BytesIO(_read_all(ref)))
        names = list(wb.sheet_names)
    except Exception as err:  # calamine raises its own exception types for every kind of bad workbook
        raise ReadError(f"not a readable Excel workbook: {err}") from None
    out = []
    for name in names:
        try:
            sheet = wb.get_sheet_by_name(name)
            rows = iter(sheet.iter_rows())
            width = sheet.width
        except Exception as err:
            raise ReadError(f"sheet `{name}` cannot be read: {err}") from None
        out.append((name, _sheet_stream(rows, width, options)))
    return out


def _with_openpyxl(ref: FileRef, options: ReadOptions) -> list[tuple[str, TableStream]]:
    import io
    import zipfile

    openpyxl = import_openpyxl()
    try:
        wb = openpyxl.load_workbook(io.BytesIO(_read_all(ref)), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ReadError(f"not a readable Excel workbook: {err}") from None
    out = []
    for ws in wb.worksheets:
        rows = (list(r) for r in ws.iter_rows(values_only=True))
        out.append((ws.title, _sheet_stream(rows, ws.max_column or 0, options)))
    return out


@register_multi("excel")
def open_excel_tables(ref: FileRef, options: ReadOptions) -> list[tuple[str, TableStream]]:
    """One stream per sheet, in the workbook's order."""
    calamine = import_calamine()
    if calamine is not None:
        return _with_calamine(calamine, ref, options)
    if filesystem_for(ref.url).read_range(ref.url, 0, 8).startswith(OLE2_MAGIC):
        raise MissingDependencyError(
            "reading .xls workbooks needs the `python-calamine` package: pip install 'nuvyn-executor[excel]'"
        )
    return _with_openpyxl(ref, options)
