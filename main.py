"""Entry point for a Databricks ``spark_python_task``: ``python main.py metadata_extraction PATH ...``.

Runs the same CLI as the ``nuvyn-executor`` console script.  Install the wheel as a cluster library;
from a plain checkout (Databricks Repos) the package is mapped from the ``engine/`` and ``cli/`` folders
beside this file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types


def _map_checkout() -> None:
    """Make ``nuvyn_executor.engine`` and ``nuvyn_executor.cli`` importable from this folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = types.ModuleType("nuvyn_executor")
    pkg.__path__ = []  # a namespace package; its subpackages are mapped explicitly below
    sys.modules["nuvyn_executor"] = pkg
    for sub in ("engine", "cli"):
        spec = importlib.util.spec_from_file_location(
            f"nuvyn_executor.{sub}", os.path.join(here, sub, "__init__.py"),
            submodule_search_locations=[os.path.join(here, sub)],
        )  # fmt: skip
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        setattr(pkg, sub, module)


def run(argv: list[str] | None = None) -> None:
    try:
        from nuvyn_executor.cli.main import main
    except ImportError:
        _map_checkout()
        from nuvyn_executor.cli.main import main
    main(argv)


if __name__ == "__main__":
    run()
