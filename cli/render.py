"""``--format summary``: the catalog as plain-text tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..engine.catalog import Catalog


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def _short(text: str | None, n: int = 40) -> str:
    if text is None:
        return ""
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[: n - 1] + "…"


def summary(catalog: Catalog) -> str:
    s = catalog.source
    out = [
        f"source   {s['source_path']}  ({s['source_type']})",
        f"run      {s['source_id']}  {s['status']}  {s['files_found']} file(s), {s['files_failed']} failed, "
        f"{s['total_size_bytes']:,} bytes, {s['duration_ms']:,} ms",
        "",
        _table(
            ["table", "type", "rows", "columns", "bytes", "problem"],
            [
                (t["table_name"], t["file_type"] + (f"+{t['compression']}" if t["compression"] else ""),
                 t["row_count"], t["column_count"], t["size_bytes"],
                 _short(t["error"] or ("; ".join(json.loads(t["warnings"])) if t["warnings"] else None), 60))
                for t in catalog.tables
            ],
        ),
    ]  # fmt: skip
    by_table: dict[str, list[dict[str, Any]]] = {}
    for c in catalog.columns:
        by_table.setdefault(c["table_name"], []).append(c)
    for name, cols in by_table.items():
        out += ["", f"{name}:"]
        out.append(
            _table(
                ["#", "column", "type", "nulls", "distinct", "min", "max", "samples"],
                [
                    (c["position"], _short(c["column_name"], 30), c["data_type"], c["null_count"],
                     c["distinct_count"], _short(c["min_value"], 20), _short(c["max_value"], 20),
                     _short(", ".join(json.loads(c["sample_values"])), 50))
                    for c in cols
                ],
            )
        )  # fmt: skip
    return "\n".join(out) + "\n"
