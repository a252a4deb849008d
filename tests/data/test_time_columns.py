"""A column of times is the time axis, never a sensor.

``TransitionDetector().fit(pd.read_csv(f, parse_dates=["time"]))`` (or any
``df.reset_index()``) took the time column as a sensor, said nothing, knew no sampling
period, and alarmed on half of fresh healthy rows (3.1 % with the times as the index).
The command line finds the time column and refuses a numeric clock
(:func:`normalcy.data.timeaxis.clock_step`); the Python API now refuses both, naming
the column and saying how to make it the time index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.cli.main import main
from normalcy.data.validation import as_series
from normalcy.exceptions import InputError
from tests.conftest import smooth_signals

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def shapes(n: int) -> dict[str, pd.DataFrame]:
    """Sensor tables of several shapes, indexed by their times (every 2 s)."""
    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.normal(size=(n, 3)), axis=0)
    steps = np.repeat(rng.integers(0, 4, size=(n // 50 + 1, 2)), 50, axis=0)[:n]
    out = {
        "smooth": smooth_signals(n, 3, seed=1),
        "walks": pd.DataFrame(walk, columns=["a", "b", "c"]),
        "levels": pd.DataFrame(steps + 0.01 * rng.normal(size=steps.shape), columns=["u", "v"]),
    }
    index = pd.date_range(T0, periods=n, freq="2s", name="time")
    return {k: v.set_axis(index, axis=0) for k, v in out.items()}


COLUMNS = {  # how a time ends up as a column: what reads it so
    "parse_dates": lambda X: X.reset_index(),
    "naive dates": lambda X: X.reset_index().assign(time=lambda d: d.time.dt.tz_localize(None)),
    "durations": lambda X: X.reset_index().assign(time=lambda d: d.time - d.time[0]),
    "Timestamp objects": lambda X: X.reset_index().astype({"time": object}),
    "seconds": lambda X: X.reset_index().assign(time=np.arange(len(X)) * 2.0),
    "row numbers": lambda X: X.reset_index(drop=True).reset_index(),
}


@pytest.mark.parametrize("shape", ["smooth", "walks", "levels"])
@pytest.mark.parametrize("how", list(COLUMNS))
def test_fit_refuses_a_time_column_and_says_how_to_make_it_the_index(shape, how) -> None:
    X = shapes(1500)[shape]
    framed = COLUMNS[how](X)
    name = "index" if how == "row numbers" else "time"
    with pytest.raises(InputError) as e:
        TransitionDetector().fit(framed)
    said = str(e.value)
    assert f"column {name!r} in training data" in said
    assert "X.set_index" in said or "pd.to_timedelta" in said
    assert f"X.drop(columns={name!r})" in said
    with pytest.raises(InputError, match=repr(name)):  # a list of runs too
        TransitionDetector().fit([framed.iloc[:750], framed.iloc[750:]])
    det = TransitionDetector().fit(X)  # what the message says to do works
    assert det.sensors_ == list(X.columns) and det.sample_period_ == 2.0


@pytest.mark.parametrize("shape", ["smooth", "walks", "levels"])
def test_an_array_with_a_clock_column_is_refused_at_fit_not_in_scores(shape) -> None:
    X = shapes(1500)[shape]
    values = X.to_numpy()
    with pytest.raises(InputError, match=r"column 0 \('s0'\) in training data rises by 2"):
        TransitionDetector().fit(np.c_[np.arange(len(X)) * 2.0, values])
    det = TransitionDetector().fit(values)
    ramp = values[:300].copy()
    ramp[:, 0] = np.linspace(0.0, 1.0, 300)  # scored rows: a ramp may rise like a clock
    assert np.isfinite(det.score_samples(ramp)).any()


@pytest.mark.parametrize("shape", ["smooth", "walks", "levels"])
def test_rows_with_their_times_in_a_column_are_refused_wherever_a_model_takes_them(
        shape) -> None:
    """The times, not a sensor: without the index the model would score across gaps and
    check no period. A frame that has its time index may carry other columns of times."""
    X = shapes(2000)[shape]
    det = TransitionDetector().fit(X.iloc[:1500])
    fresh = X.iloc[1500:]
    for call in (det.score_samples, det.residuals, det.predict, det.decision_function,
                 det.partial_fit):
        with pytest.raises(InputError, match="'time' in .* holds times .* no time index"):
            call(fresh.reset_index())
    logged = fresh.assign(logged_at=fresh.index + pd.Timedelta("1s"))
    np.testing.assert_array_equal(det.score_samples(logged), det.score_samples(fresh))


def test_a_noisy_ramp_or_a_staircase_is_a_sensor_not_a_clock() -> None:
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"ramp": np.arange(n) * 0.01 + rng.normal(scale=0.05, size=n),
                      "stairs": np.repeat(np.arange(n // 10), 10) + 0.0,
                      "wave": np.sin(np.arange(n) / 30.0) + rng.normal(scale=0.05, size=n)})
    assert as_series(X).sensors == ["ramp", "stairs", "wave"]


def test_a_file_read_with_its_time_column_fits_as_normalcy_fit_does_once_indexed(
        tmp_path) -> None:
    """The README's promise, from a file read the way the report read it."""
    X = shapes(1600)["smooth"]
    X.reset_index().to_csv(tmp_path / "train.csv", index=False)
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(tmp_path / "m.normalcy")]) == 0
    from normalcy import load

    cli = load(tmp_path / "m.normalcy")
    read = pd.read_csv(tmp_path / "train.csv", parse_dates=["time"])
    with pytest.raises(InputError, match=r"X = X.set_index\('time'\)"):
        TransitionDetector().fit(read)
    api = TransitionDetector().fit(read.set_index("time"))
    assert api.sensors_ == cli.sensors_ == list(X.columns)
    for k in ("n_levels_", "delta_", "window_", "view_", "sample_period_"):
        assert getattr(api, k) == getattr(cli, k), k


def test_a_column_of_times_of_day_without_dates_is_said_as_such(tmp_path) -> None:
    """A logger's export of one day wrote only the time of day (00:00:01): the error said
    the column held "values that are not times pandas reads", though pandas reads each
    (on today's date). It now says they lack a date and how to export one."""
    from normalcy.data.tables import read_table

    t = pd.date_range("2026-01-01", periods=300, freq="s")
    df = pd.DataFrame({"time": t.strftime("%H:%M:%S"), "a": np.sin(np.arange(300) / 7.0)})
    df.to_csv(tmp_path / "clock.csv", index=False)
    with pytest.raises(InputError, match=r"holds times of day without a date \('00:00:00'\)"):
        read_table(str(tmp_path / "clock.csv"))


@pytest.mark.parametrize("per, unit", [(1e3, "milliseconds"), (1e6, "microseconds"),
                                       (1e9, "nanoseconds")])
def test_epoch_milliseconds_are_not_read_as_seconds(tmp_path, per, unit) -> None:
    """A logger's time in milliseconds since 1970 (1767225600000) was read as seconds:
    1 s readings became 16.7 min apart and the model's period, levels and gaps were
    wrong without a word. Such numbers are now an error naming the unit they look like."""
    from normalcy.data.tables import read_table

    t = (1767225600 + np.arange(300)) * np.int64(per)
    pd.DataFrame({"time": t, "a": np.sin(np.arange(300) / 7.0)}).to_csv(
        tmp_path / "ms.csv", index=False)
    with pytest.raises(InputError, match=rf"holds numbers such as {t[0]}: .* they look like "
                                         rf"{unit} since 1970 \(2026-01-01 00:00:00 UTC\)"):
        read_table(str(tmp_path / "ms.csv"))
    pd.DataFrame({"time": np.arange(300) * 2.0, "a": np.sin(np.arange(300) / 7.0)}).to_csv(
        tmp_path / "s.csv", index=False)
    assert read_table(str(tmp_path / "s.csv")).period == 2.0


@pytest.mark.parametrize("word", ["now", "Today"])
def test_a_time_written_as_now_or_today_is_no_time(tmp_path, word) -> None:
    """A historian's unfilled placeholder 'now' was read by pandas as the reading
    machine's clock: the file 'went back in time' after it, and with --sort-time the row
    was fitted as a run of its own months after the others. It is now a value that is
    not a time, named with its row, as any other such value."""
    from normalcy.data.tables import read_table

    t = pd.date_range("2026-01-01", periods=300, freq="s").strftime("%Y-%m-%d %H:%M:%S")
    df = pd.DataFrame({"time": t, "a": np.sin(np.arange(300) / 7.0)})
    df.loc[150, "time"] = word
    df.to_csv(tmp_path / "now.csv", index=False)
    for sort in (False, True):
        with pytest.raises(InputError, match=rf"not times .*row 150 \('{word}'\)"):
            read_table(str(tmp_path / "now.csv"), sort_time=sort)
