"""A frame's time index cuts runs where the command line cuts its time column.

A historian export read with ``index_col=0, parse_dates=True`` and fitted in
Python must give the model ``normalcy fit`` gives for the same file: before, the
Python API took the period from the index but let transitions and windows cross a
hole in it (on a 3-sensor export with a 17-minute hole: other settings and another
view than the command line's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, load
from normalcy.cli.main import main
from normalcy.data.timeaxis import GAP_PERIODS
from normalcy.data.validation import as_series, time_gaps
from tests.conftest import smooth_signals


def holed(n: int, hole_at: int | list[int], hole_steps: float, *, seed: int = 0,
          step: str = "10s") -> pd.DataFrame:
    """``n`` rows every ``step`` with a hole of ``hole_steps`` steps before each ``hole_at``."""
    X = smooth_signals(n, 3, seed=seed)
    steps = np.ones(n)
    steps[hole_at] = hole_steps
    t = pd.Timestamp("2026-01-01", tz="Europe/Paris") + pd.to_timedelta(
        np.cumsum(steps) - 1, unit="s") * pd.Timedelta(step).total_seconds()
    return X.set_index(pd.DatetimeIndex(t, name="timestamp"))


def test_a_step_over_gap_periods_starts_a_run_and_one_under_does_not() -> None:
    over = holed(50, 20, GAP_PERIODS + 0.5)
    under = holed(50, 20, GAP_PERIODS - 0.5)
    assert time_gaps(over.index).tolist() == [20]
    assert time_gaps(under.index).tolist() == []
    s = as_series(over)
    assert np.unique(s.segment).tolist() == [0, 1]
    assert (s.segment[:20] == 0).all() and (s.segment[20:] == 1).all()
    assert s.index.equals(over.index)  # rows keep their times
    assert np.unique(as_series(under).segment).tolist() == [0]


def test_a_timedelta_index_is_cut_too_and_other_indexes_are_not() -> None:
    X = holed(40, 10, 10)
    rel = X.set_axis(X.index - X.index[0], axis=0)
    assert time_gaps(rel.index).tolist() == [10]
    assert np.unique(as_series(X.reset_index(drop=True)).segment).tolist() == [0]


def test_runs_of_a_list_are_cut_and_numbered_apart() -> None:
    a, b = holed(40, 10, 10), holed(30, 25, 10, seed=1)
    s = as_series([a, b])
    assert np.unique(s.segment).tolist() == [0, 1, 2, 3]
    assert [int(s.segment[r]) for r in (0, 10, 40, 65)] == [0, 1, 2, 3]


def test_a_nan_row_and_a_time_hole_both_separate_runs() -> None:
    X = holed(60, 40, 10)
    X.iloc[20] = np.nan
    s = as_series(X)
    assert s.segment[20] == -1
    assert np.unique(s.segment[s.segment >= 0]).tolist() == [0, 1, 2]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A historian export with a hole, as a file and as the frame pandas reads."""
    d = tmp_path_factory.mktemp("holes")
    X = holed(2300, [900, 1900], 100, seed=3)  # one plant: 1600 rows to fit, 700 to score
    X.iloc[:1600].reset_index().to_csv(d / "train.csv", index=False)
    test = X.iloc[1600:].copy()
    test.iloc[450:520, 1] += 1.5
    test.reset_index().to_csv(d / "test.csv", index=False)
    return d


def test_python_and_the_command_line_fit_the_same_model(export) -> None:
    assert main(["fit", str(export / "train.csv"), "-o", str(export / "m.normalcy")]) == 0
    cli = load(export / "m.normalcy")
    frame = pd.read_csv(export / "train.csv", index_col=0, parse_dates=True)
    api = TransitionDetector().fit(frame)
    for k in ("n_levels_", "delta_", "window_", "view_", "sample_period_"):
        assert getattr(api, k) == getattr(cli, k), k
    assert api.reference_ == pytest.approx(cli.reference_)
    test = pd.read_csv(export / "test.csv", index_col=0, parse_dates=True)
    ours, theirs = api.score_samples(test), cli.score_samples(test)
    np.testing.assert_allclose(ours, theirs, equal_nan=True)
    # no window crosses the test's hole: the rows after it wait for a full window again,
    # where the same rows without their times are scored across it
    assert np.isnan(ours[300:300 + api.window_]).all()
    assert np.isfinite(api.score_samples(test.reset_index(drop=True))[300:400]).all()
    assert np.nanmax(ours[450:520]) > 1 > np.nanmax(ours[:300])


def test_scoring_through_the_command_line_cuts_the_same_rows(export, tmp_path) -> None:
    out = tmp_path / "s.csv"
    assert main(["score", str(export / "m.normalcy"), str(export / "test.csv"), "-o",
                 str(out)]) == 0
    cli = pd.read_csv(out)["score"].to_numpy()
    test = pd.read_csv(export / "test.csv", index_col=0, parse_dates=True)
    api = load(export / "m.normalcy").score_samples(test)
    np.testing.assert_allclose(api, cli, equal_nan=True, rtol=1e-6)


def test_a_time_index_out_of_order_is_refused_everywhere_not_scored() -> None:
    """Before, only fit checked the order of a time index: score_samples, teaching and the
    monitor scored rows whose index went back as one stretch (swapped blocks, or a local
    clock going back an hour at the end of daylight saving time)."""
    from normalcy.alarms.monitor import Monitor
    from normalcy.exceptions import InputError

    X = holed(3000, [], 1.0)
    det = TransitionDetector(n_levels=6, delta=5, window=30).fit(X.iloc[:2000])
    test = X.iloc[2000:]
    swapped = test.iloc[np.r_[0:300, 500:700, 300:500, 700:1000]]
    clock = pd.date_range("2026-10-25 00:50", periods=1000, freq="10s", tz="UTC")
    local = test.set_axis(clock.tz_convert("Europe/Berlin").tz_localize(None), axis=0)
    assert not local.index.is_monotonic_increasing  # 02:59:50 then 02:00:00
    for frame, said in ((swapped, "does not increase at row 500"),
                        (local, "daylight saving time ends.*tz_localize")):
        for use in (det.score_samples, det.residuals, det.partial_fit,
                    lambda f: Monitor(det).update(f)):
            with pytest.raises(InputError, match=said):
                use(frame)
    assert np.isfinite(det.score_samples(test)).any()  # in order: scored as before
