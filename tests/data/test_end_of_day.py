"""``24:00:00``, ISO 8601's end of a day, read as the next day's midnight and said."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy.data.tables import read_table
from normalcy.data.timeaxis import parse_instant
from normalcy.exceptions import InputError
from normalcy.service.errors import ClientError
from normalcy.service.readings import _seconds


def _export(path: Path, stamps: list[str]) -> Path:
    rng = np.random.default_rng(0)
    pd.DataFrame({"time": stamps, "a": rng.normal(size=len(stamps)),
                  "b": rng.normal(size=len(stamps))}).to_csv(path, index=False, sep=";")
    return path


@pytest.mark.parametrize("fmt", ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M"])
def test_midnight_written_as_24_00_ends_its_day(tmp_path: Path, fmt: str) -> None:
    step = "60s" if fmt.endswith("%M") else "10s"
    times = pd.date_range("2026-05-01 23:00", periods=500, freq=step)
    stamps = [t.strftime(fmt) for t in times]
    at = int(np.flatnonzero(times == pd.Timestamp("2026-05-02"))[0])
    stamps[at] = times[at - 1].strftime(fmt.split(" ")[0].split("T")[0]) + (
        "T24:00" if "T" in fmt else " 24:00:00")
    table = read_table(_export(tmp_path / "h.csv", stamps))
    steps = np.diff(table.seconds)
    assert np.all(steps == steps[0])  # one period, midnight included, no gap, no step back
    said = " ".join(table.notes)
    assert "1 time(s) of day 24:00:00" in said and f"row {at}" in said and "ISO 8601" in said


def test_a_minute_24_or_an_hour_25_is_not_an_end_of_day(tmp_path: Path) -> None:
    times = pd.date_range("2026-05-01 23:00", periods=200, freq="10s")
    stamps = times.strftime("%Y-%m-%d %H:%M:%S").tolist()
    table = read_table(_export(tmp_path / "ok.csv", stamps))  # holds 23:24:00
    assert "23:24:00" in stamps[144] and not any("24:00:00" in n for n in table.notes)
    stamps[150] = "2026-05-01 25:00:00"
    with pytest.raises(InputError, match=r"row 150 \('2026-05-01 25:00:00'\)"):
        read_table(_export(tmp_path / "bad.csv", stamps))


def test_start_end_and_the_services_readings_read_24_00_alike() -> None:
    midnight = pd.Timestamp("2026-05-02", tz="UTC").timestamp()
    assert parse_instant("2026-05-01 24:00:00", "datetime", "start", "x",
                         fmt="%Y-%m-%d %H:%M:%S") == midnight
    assert parse_instant("2026-05-01T24:00", "datetime", "end", "x") == midnight
    secs, aware = _seconds(pd.Series(["2026-05-01T23:59:59", "2026-05-01T24:00:00+00:00",
                                      "2026-05-02T00:00:01Z"], index=[4, 5, 6]), utc=True)
    assert aware and np.diff(secs).tolist() == [1.0, 1.0]
    with pytest.raises(ClientError, match="is not a time; send ISO 8601"):
        _seconds(pd.Series(["2026-05-01T24:30:00"]), utc=True)
