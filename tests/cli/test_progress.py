"""Progress goes to stderr (a tqdm bar when asked or on a terminal, log lines otherwise); stdout stays JSON."""

from __future__ import annotations

import json


def test_progress_bar_on_stderr_keeps_stdout_clean(cli_process, write, data_dir) -> None:
    for i in range(3):
        write(f"f{i}.csv", "a\n1\n")
    r = cli_process("metadata_extraction", str(data_dir), "--progress")
    assert r.exit_code == 0
    assert len(json.loads(r.stdout)["tables"]) == 3
    assert "profiling" in r.stderr  # the bar's label
    assert "files" in r.stderr


def test_log_lines_without_a_terminal(cli_process, write, data_dir) -> None:
    from nuvyn_executor.cli.progress import ProgressReporter
    from nuvyn_executor.engine.scheduler.run import Progress

    lines = []
    reporter = ProgressReporter(bar=False, interval=0.0)
    import logging

    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("nuvyn_executor.progress").addHandler(handler)
    logging.getLogger("nuvyn_executor.progress").setLevel(logging.INFO)
    try:
        reporter(Progress(bytes_done=1 << 20, bytes_total=4 << 20, files_done=1, files_total=4))
    finally:
        logging.getLogger("nuvyn_executor.progress").removeHandler(handler)
    assert lines == ["profiled 1/4 files, 1.0 MiB of 4.0 MiB (0s)"]
