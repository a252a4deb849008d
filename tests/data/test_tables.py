"""Reading sensor tables: the time column is data, no sensor is dropped silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.data.periods import check_period, same_period
from normalcy.data.tables import read_chunks, read_table
from normalcy.data.timeaxis import duration
from normalcy.exceptions import InputError


def frame(n: int = 40, freq: str = "s") -> pd.DataFrame:
    t = pd.date_range("2026-01-01", periods=n, freq=freq)
    return pd.DataFrame({"time": t.astype(str), "a": np.cos(0.3 * np.arange(n)),
                         "b": np.sin(np.arange(n))})


def write(tmp_path, df: pd.DataFrame, name: str = "t.csv", **kw) -> str:
    p = tmp_path / name
    df.to_csv(p, index=False, **kw)
    return str(p)


def test_a_clean_table_has_its_period_and_one_run(tmp_path) -> None:
    t = read_table(write(tmp_path, frame().assign(note="ok")))
    assert t.period == 1.0 and t.starts == [] and t.ignored == ["note"]
    assert list(t.frame.columns) == ["a", "b"] and t.time_kind == "datetime"
    assert t.runs() is t.frame


def test_numeric_time_is_seconds(tmp_path) -> None:
    df = frame().assign(time=np.round(np.arange(40) * 0.01, 2))
    t = read_table(write(tmp_path, df))
    assert t.time_kind == "number" and t.period == pytest.approx(0.01)


@pytest.mark.parametrize("how, needle", [
    ("reversed", "goes back in time at row 1"),
    ("shuffled", "goes back in time"),
    ("duplicated", "repeats a time at row 4"),
    ("mixed formats", "not times in the format of its first row"),
    ("missing time", "is empty in row(s) [6]"),
])
def test_bad_time_columns_are_errors_naming_rows(tmp_path, how, needle) -> None:
    df = frame().astype({"time": object})
    if how == "reversed":
        df = df.iloc[::-1]
    elif how == "shuffled":
        df = df.sample(frac=1.0, random_state=0)
    elif how == "duplicated":
        df.loc[4, "time"] = df.loc[3, "time"]
    elif how == "mixed formats":
        df.loc[7, "time"] = "01/01/2026 00:00:07"
    else:
        df.loc[6, "time"] = None
    with pytest.raises(InputError, match=needle.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        read_table(write(tmp_path, df))


def test_sort_time_sorts_and_says_so_but_keeps_duplicates_an_error(tmp_path) -> None:
    df = frame()
    shuffled = df.sample(frac=1.0, random_state=1)
    t = read_table(write(tmp_path, shuffled), sort_time=True)
    assert t.frame["a"].tolist() == df["a"].tolist()  # back in time order
    assert any("sorted by the time column" in n for n in t.notes)
    dup = pd.concat([df, df.iloc[[5]]])
    with pytest.raises(InputError, match="repeats a time"):
        read_table(write(tmp_path, dup, "dup.csv"), sort_time=True)


def test_a_hole_in_time_splits_runs_and_is_reported(tmp_path) -> None:
    df = frame(2000)
    t = pd.to_datetime(df["time"])
    keep = np.r_[0:1000, 1600:2000]  # a 600-row hole
    df = df.iloc[keep].assign(time=t.iloc[keep].astype(str).to_numpy())
    tab = read_table(write(tmp_path, df))
    assert tab.starts == [1000] and [len(r) for r in tab.runs()] == [1000, 400]
    assert "a gap of 10 min before row 1000" in tab.notes[0]


def test_chunks_find_the_same_gaps_and_order_errors_across_borders(tmp_path) -> None:
    df = frame(100)
    t = pd.to_datetime(df["time"])
    t.iloc[50:] += pd.Timedelta("1h")
    path = write(tmp_path, df.assign(time=t.astype(str)))
    for rows in (1, 7, 50, 1000):
        starts = [int(c.frame.index[0]) + s for c in read_chunks(path, chunk_rows=rows)
                  for s in c.starts]
        assert starts == [50], rows
    back = df.copy()
    back.loc[60, "time"] = back.loc[10, "time"]
    with pytest.raises(InputError, match="goes back in time at row 60"):
        list(read_chunks(write(tmp_path, back, "back.csv"), chunk_rows=60))


def test_a_sensor_with_a_few_text_values_is_an_error_naming_rows_and_values(tmp_path) -> None:
    df = frame().astype({"b": object})
    df.loc[[3, 17], "b"] = ["abc", "n/a?"]
    p = write(tmp_path, df)
    with pytest.raises(InputError, match=r"column 'b' .* 2 value\(s\): row 3 holds 'abc', "
                                         r"row 17 holds 'n/a\?'"):
        read_table(p)
    assert list(read_table(p, sensors=["a"]).frame.columns) == ["a"]  # chosen explicitly


def test_duplicate_column_names_are_an_error(tmp_path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("time,a,b,a\n0,1,2,3\n1,2,3,4\n")
    with pytest.raises(InputError, match=r"duplicate column names \['a'\]"):
        read_table(p)


def test_a_header_of_numbers_is_an_error(tmp_path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("0.5,1.5\n1,2\n2,3\n")
    with pytest.raises(InputError, match="add a header row"):
        read_table(p)


def test_time_ranges_select_by_time(tmp_path) -> None:
    df = frame(60)
    tab = read_table(write(tmp_path, df.sample(frac=1.0, random_state=3)), sort_time=True)
    s = tab.position("2026-01-01 00:00:10", "start", False)
    e = tab.position("2026-01-01 00:00:19", "end", True)
    assert (s, e) == (10, 20)
    assert tab.position("7", "start", False) == 7  # a whole number is a row
    with pytest.raises(InputError, match="neither a row number nor a time"):
        tab.position("soon", "start", False)


def test_period_checks_name_both_periods() -> None:
    assert same_period(1.0, 1.005) and not same_period(1.0, 5.0)
    check_period(1.0, None, "d.csv", "m")  # nothing to compare
    with pytest.raises(InputError, match="every 5 s, but the model m was fitted on data "
                                         "sampled every 1 s"):
        check_period(5.0, 1.0, "d.csv", "m")
    assert duration(600) == "10 min" and duration(7200) == "2 h" and duration(0.01) == "0.01 s"


def test_a_trailing_separator_is_not_a_sensor_but_a_named_empty_column_is(tmp_path) -> None:
    p = tmp_path / "trail.csv"
    p.write_text("time,a,b,\n0,1.0,2.0,\n1,1.5,2.5,\n2,2.0,3.1,\n")
    t = read_table(p)
    assert list(t.frame.columns) == ["a", "b"] and t.ignored == []  # nothing to say
    q = tmp_path / "empty.csv"
    q.write_text("time,a,b,c\n0,1.0,2.0,\n1,1.5,2.5,\n2,2.0,3.1,\n")
    assert list(read_table(q).frame.columns) == ["a", "b", "c"]  # never dropped silently


def test_resampled_interpolates_within_runs_and_keeps_gaps(tmp_path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("time,a\n0,0\n2,2\n4,\n6,6\n100,1\n102,3\n")
    t = read_table(p).resampled(1.0)
    a = t.frame["a"].to_numpy()
    np.testing.assert_array_equal(a[:7], [0, 1, 2, np.nan, np.nan, np.nan, 6])
    np.testing.assert_array_equal(a[7:], [1, 2, 3])
    assert t.starts == [7] and t.seconds.tolist()[7:] == [100, 101, 102]
    assert "resampled from every 2 s to every 1 s" in t.notes[-1]


def test_resampling_that_would_invent_most_rows_is_refused(tmp_path) -> None:
    p = tmp_path / "daily.csv"
    p.write_text("time,a\n2026-01-01,1\n2026-01-02,2\n2026-01-03,3\n")
    with pytest.raises(InputError, match="would invent about 172,800 rows from 3"):
        read_table(p).resampled(1.0)


@pytest.mark.parametrize("values", [np.arange(30.0), 1.7e9 + 0.5 * np.arange(30)])
def test_a_time_under_another_name_is_refused_as_a_sensor(tmp_path, values) -> None:
    df = pd.DataFrame({"t": values, "a": np.sin(np.arange(30)), "b": np.cos(np.arange(30))})
    p = write(tmp_path, df)
    with pytest.raises(InputError, match=r"column 't' of .* like a time or a row counter.*"
                                         r"--time-column t.*--sensors"):
        read_table(p)
    named = read_table(p, time_column="t")  # named: the time axis
    assert list(named.frame.columns) == ["a", "b"] and named.time_kind == "number"
    assert list(read_table(p, sensors=["t", "a"]).frame.columns) == ["t", "a"]  # chosen


def test_a_rising_sensor_is_not_a_clock(tmp_path) -> None:
    rng = np.random.default_rng(0)
    ramp = np.arange(200.0) + rng.normal(scale=0.3, size=200)  # noisy, mostly rising
    steady = np.repeat(np.arange(20.0), 10)  # rises in steps, with plateaus
    p = write(tmp_path, pd.DataFrame({"ramp": ramp, "steps": steady, "n": np.arange(200) % 7}))
    assert list(read_table(p).frame.columns) == ["ramp", "steps", "n"]


def test_a_column_of_dates_under_another_name_is_the_time_column(tmp_path) -> None:
    df = frame().rename(columns={"time": "Date/Time"}).assign(note="ok")
    t = read_table(write(tmp_path, df))
    assert t.time_name == "Date/Time" and t.time_kind == "datetime" and t.period == 1.0
    assert list(t.frame.columns) == ["a", "b"] and t.ignored == ["note"]
    assert any("'Date/Time' holds dates: read as the time column" in n for n in t.notes)
    chunks = list(read_chunks(write(tmp_path, df, "c.csv"), chunk_rows=15))
    assert [c.time_name for c in chunks] == ["Date/Time"] * 3  # found once, every chunk
    assert sum("holds dates" in n for c in chunks for n in c.notes) == 1


def test_two_columns_of_dates_are_an_error_naming_both(tmp_path) -> None:
    df = frame().rename(columns={"time": "start"})
    df.insert(1, "logged", df["start"])
    with pytest.raises(InputError, match=r"columns \['start', 'logged'\] .* all hold dates; "
                                         r"name the time column with --time-column"):
        read_table(write(tmp_path, df))
    assert read_table(write(tmp_path, df), time_column="logged").time_name == "logged"


def test_irregular_sampling_is_said_as_such_not_only_as_gaps(tmp_path) -> None:
    """A historian recording on change: time steps of every length. Before, the fit said
    only that its longest gap-free stretch was too short."""
    rng = np.random.default_rng(3)
    steps = rng.exponential(10.0, size=3000)
    df = pd.DataFrame({"time": np.cumsum(steps), "a": rng.normal(size=3000)})
    df.to_csv(tmp_path / "irregular.csv", index=False)
    t = read_table(tmp_path / "irregular.csv")
    said = [n for n in t.notes if "sampled irregularly" in n]
    assert len(said) == 1 and f"{len(t.starts)} gaps in 3000 rows" in said[0]
    regular = pd.DataFrame({"time": np.arange(3000) * 10.0, "a": rng.normal(size=3000)})
    holes = [k + i for k in range(100, 2100, 100) for i in range(3)]  # 20 holes of 40 s
    regular.drop(index=holes).to_csv(tmp_path / "holes.csv", index=False)
    t = read_table(tmp_path / "holes.csv")
    assert len(t.starts) == 20 and not any("irregularly" in n for n in t.notes)


def test_the_time_column_named_as_a_sensor_is_said_as_the_time(tmp_path) -> None:
    """`fit --sensors time,a` said the file "lacks the sensor column(s) ['time']" beside a
    list of its columns without it, though the file has it: it was read as the time. The
    error now says so."""
    p = tmp_path / "t.csv"
    pd.DataFrame({"time": np.arange(300.0), "a": np.sin(np.arange(300) / 7.0)}).to_csv(
        p, index=False)
    with pytest.raises(InputError, match=r"'time' of .*t.csv is read as its time column, "
                                         r"never a sensor: name the time column with "
                                         r"--time-column") as e:
        read_table(str(p), sensors=["time", "a"])
    assert "lacks" not in str(e.value)
