"""Fleet data find their time column and refuse a counter as a sensor, as tables do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy.distributed.files import open_data
from normalcy.exceptions import InputError


def _fleet(path: Path, first: str, values: object) -> str:
    n = 60
    df = pd.DataFrame({"unit": np.repeat(["u1", "u2"], n // 2), first: values,
                       "a": np.sin(np.arange(n)), "b": np.cos(np.arange(n))})
    df.to_csv(path, index=False)
    return str(path)


def test_a_column_of_dates_is_the_fleet_time_column(tmp_path: Path) -> None:
    stamps = np.tile(pd.date_range("2026-01-01", periods=30, freq="s").astype(str), 2)
    data = open_data(_fleet(tmp_path / "f.csv", "stamp", stamps))
    assert data.time_column == "stamp" and data.sensors() == ["a", "b"]


def test_a_row_counter_is_not_a_fleet_sensor(tmp_path: Path) -> None:
    data = open_data(_fleet(tmp_path / "f.csv", "t", np.tile(np.arange(30), 2)))
    with pytest.raises(InputError, match=r"column 't' .* like a time or a row counter"):
        data.sensors()
    assert data.sensors(exclude=["t"]) == ["a", "b"]
    assert open_data(str(tmp_path / "f.csv"), time_column="t").sensors() == ["a", "b"]


def test_day_first_dates_get_one_format_for_every_block(tmp_path: Path) -> None:
    # the first rows all read 2 January or 1 February alike; the file's last rows,
    # on 3 January, tell: every block then reads day first (a block of 2 January rows
    # alone could not)
    times = pd.date_range("2026-01-02 20:00", periods=30000, freq="s")
    df = pd.DataFrame({"unit": "u1", "time": times.strftime("%d/%m/%Y %H:%M:%S"),
                       "a": np.sin(np.arange(times.size) / 30.0)})
    df.to_csv(tmp_path / "f.csv", index=False)
    data = open_data(str(tmp_path / "f.csv"))
    assert data.time_column == "time" and data.time_format == "%d/%m/%Y %H:%M:%S"
    # a European export: ; and decimal commas
    df.to_csv(tmp_path / "eu.csv", index=False, sep=";", decimal=",")
    eu = open_data(str(tmp_path / "eu.csv"))
    assert eu.numeric == ["a"] and eu.time_format == "%d/%m/%Y %H:%M:%S"


def test_a_units_row_under_the_header_is_said_as_by_fit(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    _fleet(path, "time", np.tile(np.arange(30.0), 2))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], ",,degC,bar", *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=r"the first row under the header of .*f.csv holds "
                       r"text in every cell \('degC', 'bar'\)"):
        open_data(str(path))


def test_a_long_fleet_table_is_said_with_the_pivot_per_unit(tmp_path: Path) -> None:
    """One row per unit, time and sensor: before, every unit failed on its repeated times;
    now it is said as ``normalcy fit`` says a long table, with a pivot that keeps units."""
    times = pd.date_range("2026-05-01", periods=40, freq="10s")
    rng = np.random.default_rng(0)
    rows = [(u, t, tag, float(rng.normal())) for u in ("A", "B") for t in times
            for tag in ("T1", "T2", "F")]
    path = tmp_path / "long.csv"
    pd.DataFrame(rows, columns=["unit", "time", "tag", "value"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"long table: .* column 'tag' \(3: 'F', 'T1', 'T2'\)"
                       r".* once per sensor of a unit.*\.pivot_table\(index=\['unit', 'time'\], "
                       r"columns='tag', values='value'\)\.reset_index\(\)"):
        open_data(str(path))
    wide = pd.DataFrame(rows, columns=["unit", "time", "tag", "value"]).pivot_table(
        index=["unit", "time"], columns="tag", values="value").reset_index()
    wide.to_csv(tmp_path / "wide.csv", index=False)  # the pivot said reads
    assert open_data(str(tmp_path / "wide.csv")).sensors() == ["F", "T1", "T2"]
