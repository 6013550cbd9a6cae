"""Fixtures for the sink tests: a folder of CSV files, and the CLI pointed at the warehouse emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .dbx import FAST_RETRIES


@pytest.fixture
def amazon(write: Callable[..., Path], data_dir: Path) -> Path:
    """A folder of CSV files whose name and first file the seed's example queries look for."""
    write(
        "amazon-sales/amazon.csv",
        "product_id,product_name,rating,added\n"
        "B07JW9H4J1,Wayona Nylon Cable,4.2,2024-01-02 10:00:00\n"
        "B098NS6PVG,\"Ambrane 'fast' \\ charger $5 -- ; \U0001f600\",,2024-02-03 11:30:00\n",
    )
    write("amazon-sales/returns.csv", 'order_id,reason\n1,damaged\n2,"late\nand wrong"\n')
    return data_dir / "amazon-sales"


@pytest.fixture
def executor(cli_process: Callable[..., Any], warehouse: Any) -> Callable[..., Any]:
    """``executor(PATH, *options, env=..., databricks_env=True, global_options=())``: the real CLI, writing to the
    emulator through ``DATABRICKS_*`` (or, with ``databricks_env=False``, only what the options say),
    with fast retries.  ``--workers 1`` keeps a run to about a second."""

    def run(
        path: Path,
        *options: str,
        env: dict[str, str] | None = None,
        databricks_env: bool = True,
        global_options: tuple[str, ...] = (),
    ) -> Any:
        full = dict(warehouse.env())
        if not databricks_env:
            full.update(DATABRICKS_SERVER_HOSTNAME="", DATABRICKS_HTTP_PATH="", DATABRICKS_ACCESS_TOKEN="")
        full.update(FAST_RETRIES)
        full.update(env or {})
        return cli_process(*global_options, "metadata_extraction", str(path), "csv", "client-123", "--write-to-db",
                           "--workers", "1", *options, env=full)  # fmt: skip

    return run
