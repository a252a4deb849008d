"""``normalcy bench fleet``: pinned detector settings, the series written to a Parquet
folder a file at a time, score files compared row by row, peak memory of the workers
beside the one process's, the full-size command, and a tiny end-to-end run."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.bench import fleet
from normalcy.bench import fleet_data as fd


def test_every_detector_setting_is_pinned() -> None:
    assert fleet.unpinned() == []  # a new parameter must be pinned here too
    assert TransitionDetector(**fleet.SETTINGS).get_params() == fleet.SETTINGS
    assert fleet.SETTINGS["view"] == "paper"
    line = fleet.settings_line()
    assert "pinned" in line and "view='paper'" in line and "not pinned" not in line


def test_row_counts_take_k_and_m() -> None:
    assert fleet.counts("1M,10M") == [1_000_000, 10_000_000]
    assert fleet.count("200k") == fleet.count("200_000") == fleet.count("200000") == 200_000
    assert fleet.count("2.5M") == 2_500_000
    for bad in ("ten", "0", "-3k", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            fleet.count(bad)


def test_full_size_command_is_in_the_docstring_and_the_help(capsys) -> None:
    from normalcy.cli.main import build_parser, main

    assert fleet.FULL_COMMAND in (fleet.__doc__ or "")
    with pytest.raises(SystemExit):
        main(["bench", "fleet", "--help"])
    assert fleet.FULL_COMMAND in capsys.readouterr().out
    args = build_parser().parse_args(shlex.split(fleet.FULL_COMMAND)[1:])
    assert args.rows == [1_000_000, 10_000_000]
    assert (args.units, args.unit_rows, args.sensors) == (50, 200_000, 20)
    assert args.docs == "docs/benchmarks.md"


def test_series_is_written_a_file_at_a_time_as_one_series(tmp_path: Path) -> None:
    from normalcy.data.tables import read_chunks

    plant = fd.stretch(3, rows=7_000)
    lengths = fd.write_series(str(tmp_path), plant, 25_000, 10_000, 4_000)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert lengths == [4_000, 4_000, 2_000] * 2 + [4_000, 1_000]
    got = pd.concat([pd.read_parquet(tmp_path / f) for f in files], ignore_index=True)
    pd.testing.assert_frame_equal(got, fd.cyclic(plant, 0, 25_000))
    assert (np.diff(got["time"].to_numpy()) == np.timedelta64(1, "s")).all()
    np.testing.assert_array_equal(got.iloc[7_000:14_000, 1:].to_numpy(), plant.to_numpy())
    # the CLI reads the folder as one series: no gap, rows counted on across files
    chunks = list(read_chunks(tmp_path, chunk_rows=6_000))
    assert sum(len(c.frame) for c in chunks) == 25_000
    assert all(not c.starts for c in chunks) and chunks[-1].frame.index[-1] == 24_999


def test_units_start_at_other_places_of_the_plant(tmp_path: Path) -> None:
    plant = fd.stretch(2, rows=5_000)
    names = fd.write_units(str(tmp_path), plant, 3, 1_000, 400)
    assert names == ["pump01", "pump02", "pump03"]
    a, b = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in names[:2])
    assert len(a) == 1_000 and list(a.columns) == ["time", *plant.columns]
    assert not np.allclose(a.iloc[:, 1:].to_numpy(), b.iloc[:, 1:].to_numpy())


def scores_file(path: Path, values: list[float]) -> str:
    pd.DataFrame({"score": values, "alarm": 0}).to_parquet(path, index=False)
    return str(path)


def test_same_scores_row_by_row_nan_where_nan(tmp_path: Path) -> None:
    want = [scores_file(tmp_path / "want.parquet", [np.nan, 1.0, 2.0, 300.0, np.nan])]
    split = [scores_file(tmp_path / "a.parquet", [np.nan, 1.0]),
             scores_file(tmp_path / "b.parquet", [2.0 + 1e-13, 300.0 + 1e-10, np.nan])]
    assert fd.same_scores(split, want, rows=2) == (True, pytest.approx(1e-10, rel=1e-3))
    off = [scores_file(tmp_path / "off.parquet", [np.nan, 1.0, 2.0 + 1e-9, 300.0, np.nan])]
    assert not fd.same_scores(off, want)[0]
    nan = [scores_file(tmp_path / "nan.parquet", [0.0, 1.0, 2.0, 300.0, np.nan])]
    assert not fd.same_scores(nan, want)[0]
    short = [scores_file(tmp_path / "short.parquet", [np.nan, 1.0, 2.0, 300.0])]
    assert not fd.same_scores(short, want, rows=2)[0]
    assert not fd.same_scores(short, want)[0]


def table(worker_peaks: tuple[float, float], alone: tuple[float, float] = (300.0, 310.0)
          ) -> pd.DataFrame:
    rows = []
    for n, one, worker in zip((100_000, 400_000), alone, worker_peaks, strict=True):
        for how, peak in (("one process", one), ("one process, BLAS threads", one),
                          ("dask, 1 worker", worker), ("dask, 2 workers", worker + 4)):
            rows.append({"rows": n, "how": how, "seconds": 1.0, "peak_mib": peak,
                         "rows_per_s": n / 1.0, "equal": True, "max_diff": 0.0,
                         "vs_one_process": 1.0})
    out = pd.DataFrame(rows)
    out.attrs.update(worker_idle_mib=230.0, written_s={100_000: 1.0, 400_000: 4.0})
    return out


def test_memory_line_sets_each_length_beside_one_process() -> None:
    flat = fleet.memory_line(table((470.0, 480.0)))
    assert "100,000 rows: one process 300 MiB, a worker 470 MiB (1 worker)" in flat
    assert "400,000 rows: one process 310 MiB" in flat
    assert "For 4.0x the rows the one process needs 1.03x the memory (flat" in flat
    assert "a Dask worker 1.02x (flat" in flat and "230 MiB before its first task" in flat
    grows = fleet.memory_line(table((470.0, 900.0), alone=(300.0, 900.0)))
    assert grows.count("not flat in this run") == 2
    one = fleet.memory_line(table((470.0, 480.0)).query("rows == 100000"))
    assert "flatness not measured" in one


def test_report_states_settings_method_and_memory() -> None:
    text = fleet.report(table((470.0, 480.0)), 20, fleet.FULL, (1.0, 1.0), (1.9, 1.9))
    assert fleet.settings_line() in text
    assert fleet.memory_line(table((470.0, 480.0))) in text
    assert "normalcy score MODEL SERIES/ -o scores.parquet" in text
    assert "files of 500,000 rows" in text and "400,000 rows in 4 s" in text
    assert "dask.dataframe.read_parquet" in text and "1e-12" in text


@pytest.mark.slow
def test_tiny_run_measures_workers_and_one_process(tmp_path: Path, capsys) -> None:
    """Two series lengths and two units, 1 and 2 workers, `normalcy score` in one
    process: every score equal, every peak measured (about 45 s: six LocalClusters)."""
    from normalcy.cli.main import main

    docs = tmp_path / "bench.md"
    docs.write_text("# b\n\n<!-- bench:fleet:begin -->\nPREVIOUS SECTION\n"
                    "<!-- bench:fleet:end -->\n")
    assert main(["bench", "fleet", "--rows", "20k,40000", "--sensors", "5",
                 "--partition-rows", "10000", "--file-rows", "15000", "--fit-rows", "4000",
                 "--units", "2", "--unit-rows", "10k", "--memory-limit", "1GiB",
                 "--docs", str(docs)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(fleet.settings_line())
    assert "Peak memory: 20,000 rows: one process" in out and "40,000 rows" in out
    section = docs.read_text()
    assert "PREVIOUS SECTION" not in section and "--rows 20k,40000" in section
    assert "view='paper'" in section and "Peak memory:" in section
    lines = [line for line in section.splitlines() if line.startswith("| ")
             and line.split("|")[1].strip() in ("20000", "40000")]
    assert len(lines) == 11  # 2 x 4 series rows, 3 fleet rows
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[5] == "True", line  # equal to the one process, row by row
        peak = float(cells[3].replace(",", ""))  # peak_mib
        assert np.isfinite(peak) and peak > 0
