"""``normalcy bench fleet``: pinned detector settings, peak memory per worker beside one
process's for several series lengths, and a tiny end-to-end run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.bench import fleet


def test_every_detector_setting_is_pinned() -> None:
    assert fleet.unpinned() == []  # a new parameter must be pinned here too
    assert TransitionDetector(**fleet.SETTINGS).get_params() == fleet.SETTINGS
    assert fleet.SETTINGS["view"] == "paper"
    line = fleet.settings_line()
    assert "pinned" in line and "view='paper'" in line and "not pinned" not in line


def table(worker_peaks: tuple[float, float]) -> pd.DataFrame:
    rows = []
    for n, alone, worker in zip((100_000, 400_000), (900.0, 2700.0), worker_peaks,
                                strict=True):
        for how, peak in (("one process", alone), ("one process, BLAS threads", alone),
                          ("dask, 1 worker", worker), ("dask, 2 workers", worker + 4)):
            rows.append({"rows": n, "how": how, "seconds": 1.0, "peak_mib": peak,
                         "rows_per_s": n / 1.0, "equal": True, "vs_one_process": 1.0})
    out = pd.DataFrame(rows)
    out.attrs["worker_idle_mib"] = 230.0
    return out


def test_memory_line_sets_each_length_beside_one_process() -> None:
    flat = fleet.memory_line(table((470.0, 480.0)))
    assert "100,000 rows: one process 900 MiB, a worker 470 MiB (1 worker)" in flat
    assert "400,000 rows: one process 2,700 MiB" in flat
    assert "For 4.0x the rows one process needs 3.00x the memory" in flat
    assert "flat" in flat and "230 MiB of it held before the first task" in flat
    grows = fleet.memory_line(table((470.0, 900.0)))
    assert "not flat in this run" in grows
    one = fleet.memory_line(table((470.0, 480.0)).query("rows == 100000"))
    assert "flatness not measured" in one


def test_report_states_the_pinned_settings_and_memory() -> None:
    text = fleet.report(table((470.0, 480.0)), 20, 50_000, (1.0, 1.0), (1.9, 1.9))
    assert fleet.settings_line() in text
    assert fleet.memory_line(table((470.0, 480.0))) in text
    assert "10 million rows" in text


@pytest.mark.slow
def test_tiny_run_measures_workers_and_one_process(tmp_path: Path, capsys) -> None:
    """Two series lengths, 1 and 2 workers, one process: every score equal, every peak
    measured (about 25 s: four LocalClusters)."""
    from normalcy.cli.main import main

    docs = tmp_path / "bench.md"
    docs.write_text("# b\n\n<!-- bench:fleet:begin -->\nPREVIOUS SECTION\n"
                    "<!-- bench:fleet:end -->\n")
    assert main(["bench", "fleet", "--rows", "20000,40000", "--sensors", "5",
                 "--partition-rows", "10000", "--fit-rows", "4000", "--memory-limit", "1GiB",
                 "--docs", str(docs)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(fleet.settings_line())
    assert "Peak memory: 20,000 rows: one process" in out and "40,000 rows" in out
    section = docs.read_text()
    assert "PREVIOUS SECTION" not in section and "--rows 20000,40000" in section
    assert "view='paper'" in section and "Peak memory:" in section
    for line in section.splitlines():
        if line.startswith("| 20000 |") or line.startswith("| 40000 |"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert cells[5] == "True"  # equal to one process
            peak = float(cells[3].replace(",", ""))  # peak_mib
            assert np.isfinite(peak) and peak > 0
