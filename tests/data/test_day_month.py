"""Dates written with a numeric day and month (``01/02/2026``): read in the order the
rows show, never guessed from the first row alone (:func:`normalcy.data.timeaxis.parse_time`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.data.tables import read_chunks, read_table
from normalcy.data.timeaxis import AmbiguousDates, parse_time


def _write(path, times: pd.DatetimeIndex, fmt: str) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(times.size, 2)), columns=["a", "b"])
    df.insert(0, "Zeit", times.strftime(fmt))
    df.to_csv(path, index=False)


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M",
                                 "%m-%d-%Y %H:%M:%S"])
@pytest.mark.parametrize("days", [3, 20])  # all days <= 12, or some days > 12 too
def test_day_first_and_month_first_dates_read_as_written(tmp_path, fmt, days) -> None:
    times = pd.date_range("2026-01-01", periods=days * 144, freq="10min")
    _write(tmp_path / "d.csv", times, fmt)
    t = read_table(str(tmp_path / "d.csv"))
    np.testing.assert_array_equal(t.seconds, (times - pd.Timestamp("1970-01-01")).total_seconds())
    assert t.period == 600 and t.starts == []
    said = [n for n in t.notes if "dates read" in n]
    if days <= 12:  # the rows had to settle the order: said, with why
        order = "day" if fmt.index("%d") < fmt.index("%m") else "month"
        assert len(said) == 1 and f"dates read {order} first" in said[0]
        assert "jump" in said[0], said
    else:  # only one order reads a day 13 and later: nothing to say
        assert said == []


def test_chunks_read_the_order_the_first_telling_chunk_shows(tmp_path) -> None:
    # the first chunk's dates all read alike (1 January); later ones tell
    times = pd.date_range("2026-01-01", periods=3 * 144, freq="10min")
    _write(tmp_path / "d.csv", times, "%d/%m/%Y %H:%M")
    chunks = list(read_chunks(str(tmp_path / "d.csv"), chunk_rows=100))
    secs = np.concatenate([c.seconds for c in chunks])
    np.testing.assert_array_equal(secs, (times - pd.Timestamp("1970-01-01")).total_seconds())


def test_dates_the_rows_cannot_order_are_an_error_saying_how_to_fix(tmp_path) -> None:
    times = pd.date_range("2026-01-01", periods=10, freq="1D")  # daily, or monthly?
    _write(tmp_path / "d.csv", times, "%d/%m/%Y")
    with pytest.raises(AmbiguousDates, match=r"day first and month first alike.*"
                       r"'02/01/2026' 1 February 2026 or 2 January 2026.*ISO 8601"):
        read_table(str(tmp_path / "d.csv"))


def test_iso_dates_are_never_read_year_day_month() -> None:
    raw = pd.Series(["2026-01-02 00:00", "2026-01-02 00:10", "2026-01-02 00:20"])
    axis = parse_time(raw, "time", "x")
    assert axis.said is None
    assert pd.Timestamp(axis.seconds[0], unit="s") == pd.Timestamp("2026-01-02 00:00")


def test_one_label_takes_the_first_rows_guess_and_says_so_unless_asked_not_to() -> None:
    # what monitor --follow does row by row once a batch has set the format
    axis = parse_time(pd.Series(["02/01/2026 00:00"]), "time", "x", decide=False)
    assert pd.Timestamp(axis.seconds[0], unit="s") == pd.Timestamp("2026-02-01")
    assert axis.said is None
    axis = parse_time(pd.Series(["02/01/2026 00:00"]), "time", "x")
    assert pd.Timestamp(axis.seconds[0], unit="s") == pd.Timestamp("2026-02-01")
    assert "reads as 1 February 2026 or 2 January 2026 and no row tells which" in axis.said
    # dates with dots are written day first
    axis = parse_time(pd.Series(["02.01.2026 00:00"]), "time", "x")
    assert pd.Timestamp(axis.seconds[0], unit="s") == pd.Timestamp("2026-01-02")
    assert "read day first, as dates with dots are written" in axis.said


def test_a_first_chunk_of_one_day_takes_its_order_from_the_files_last_rows(tmp_path) -> None:
    # 1 s rows from 2 January: the first chunk reads 2 January or 1 February alike (the
    # same steps); the file's last rows, on 3 January, tell
    times = pd.date_range("2026-01-02 23:00", periods=7200, freq="s")
    _write(tmp_path / "d.csv", times, "%d/%m/%Y %H:%M:%S")
    chunks = list(read_chunks(str(tmp_path / "d.csv"), chunk_rows=500))
    secs = np.concatenate([c.seconds for c in chunks])
    np.testing.assert_array_equal(secs, (times - pd.Timestamp("1970-01-01")).total_seconds())
    said = [n for c in chunks for n in c.notes if "dates read" in n]
    assert len(said) == 1 and "dates read day first" in said[0]


def test_start_and_end_times_are_read_in_the_files_own_order(tmp_path) -> None:
    times = pd.date_range("2026-01-01", periods=3 * 144, freq="10min")
    _write(tmp_path / "d.csv", times, "%d/%m/%Y %H:%M")
    t = read_table(str(tmp_path / "d.csv"))
    assert t.time_format == "%d/%m/%Y %H:%M"
    assert t.position("02/01/2026 00:00", "start", end=False) == 144  # 2 January
    assert t.position("2026-01-03T00:00", "start", end=False) == 288  # ISO 8601 too


def test_dots_of_fractional_seconds_do_not_make_dates_day_first() -> None:
    axis = parse_time(pd.Series(["02/01/2026 00:00:00.250"]), "time", "x")
    assert pd.Timestamp(axis.seconds[0], unit="s") == pd.Timestamp("2026-02-01 00:00:00.250")
    assert "as pandas guesses" in axis.said
