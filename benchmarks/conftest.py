"""Benchmarks (pytest-benchmark, ``tox -e bench``): one layer per file, ``group`` set, figures reported
through ``benchmark.extra_info``.  Nothing here asserts on a timing."""

from __future__ import annotations

import sys
from pathlib import Path

# The benchmarks use the test services (tests/warehouse, ...): make the project root importable.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
