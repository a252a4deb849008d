"""Ranges given as times where the data has a time index, as the command line's
``--start``/``--end`` read them: ``start`` the first row at or after it, ``end`` the rows
up to and including it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, TransitionDetector, operator
from tests.conftest import smooth_signals

T0 = pd.Timestamp("2026-04-01 06:00", tz="Europe/Paris")


def timed(X: pd.DataFrame, start: pd.Timestamp, step: str = "2s") -> pd.DataFrame:
    return X.set_axis(pd.date_range(start, periods=len(X), freq=step), axis=0)


@pytest.fixture(scope="module")
def plant():
    X = smooth_signals(3000, 3, seed=8)
    train = timed(X.iloc[:2000], T0)
    test = timed(X.iloc[2000:].reset_index(drop=True), T0 + pd.Timedelta(hours=2))
    test.iloc[400:500, 1] += 1.0
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"), train)
    return det, test


def test_times_name_the_rows_the_command_line_would(plant) -> None:
    det, test = plant
    t = test.index
    by_row = operator.explain(det, test, 400, 500)
    for start, end in ((t[400], t[499]), (str(t[400]), str(t[499])),
                       (t[400] - pd.Timedelta("1s"), t[499] + pd.Timedelta("1s"))):
        by_time = operator.explain(det, test, start, end)
        assert by_time.text == by_row.text
        pd.testing.assert_frame_equal(by_time.records, by_row.records)


def test_a_verdict_by_time_is_the_verdict_by_rows(plant) -> None:
    _, test = plant
    train = timed(smooth_signals(3000, 3, seed=8).iloc[:2000], T0)
    one, two = (operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"),
                             train) for _ in "ab")
    operator.feedback(one, test, 400, 500, "normal", by="ana")
    operator.feedback(two, test, test.index[400], test.index[499], "normal", by="ana")
    entry = two.history_.entries[-1]
    assert (entry.start, entry.end) == (400, 500)  # the log keeps row numbers
    np.testing.assert_array_equal(one.score_samples(test), two.score_samples(test))


def test_times_are_refused_clearly_where_they_cannot_be_read(plant) -> None:
    det, test = plant
    wall = str(test.index[400].tz_localize(None))  # the index's own wall-clock time
    assert operator.explain(det, test, wall, 500).text == operator.explain(
        det, test, 400, 500).text
    autumn = test.set_axis(pd.date_range(pd.Timestamp("2026-10-25 00:10", tz="UTC"),
                                         periods=len(test), freq="2s"
                                         ).tz_convert("Europe/Paris"), axis=0)
    with pytest.raises(InputError, match="with its UTC offset"):  # 02:30 comes twice
        operator.explain(det, autumn, "2026-10-25 02:30", len(test))
    with pytest.raises(InputError, match="a time needs data with a time index"):
        operator.explain(det, test.reset_index(drop=True), str(test.index[400]), 500)
    with pytest.raises(InputError, match="does not increase"):
        operator.explain(det, test.iloc[::-1], test.index[400], test.index[499])
    with pytest.raises(InputError, match="range is empty"):
        operator.explain(det, test, test.index[499], test.index[400])


def test_explanations_say_durations_in_the_models_own_period(plant) -> None:
    from normalcy.operator.units import Units

    det, _ = plant
    assert det.sample_period_ == 2.0
    assert Units(det, None).within() == "5 samples (10 s)"  # no period passed: the model's
    assert Units(det, 0.5).within() == "5 samples (2.5 s)"  # a period passed wins


def test_a_time_of_day_without_a_date_is_refused_not_read_on_today(plant) -> None:
    """pandas reads "08:10" on the day it runs, so the range fell outside the data and
    the error said an empty range ("start=3000 must be < end=3000")."""
    det, test = plant
    with pytest.raises(InputError, match=r"start='08:10' is a time of day without a date"):
        operator.explain(det, test, "08:10", str(test.index[499]))
    with pytest.raises(InputError, match=r"first row is 2026-04-01 08:00:00\+02:00"):
        operator.feedback(det, test, str(test.index[0]), " 08:20:00 ", "normal")
