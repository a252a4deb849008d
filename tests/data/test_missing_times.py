"""A time index with missing times (NaT) says so, not that the time does not increase."""

from __future__ import annotations

import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.datasets.walks import load_walks
from normalcy.exceptions import InputError


def test_missing_times_are_said_with_their_rows_and_the_way_out() -> None:
    """It said "does not increase at row 10 (2026-01-01 00:00:09 then NaT): sort the rows
    by time", which no sort mends."""
    X, _ = load_walks(3, 3000, 1)
    times = pd.Series(pd.date_range("2026-01-01", periods=3000, freq="1s"))
    times.iloc[[10, 20]] = pd.NaT
    X.index = pd.DatetimeIndex(times)
    with pytest.raises(InputError, match=r"time index has no time at row\(s\) \[10, 20\] "
                                         r"\(NaT.*drop them \(X\[X.index.notna\(\)\]\)"):
        TransitionDetector().fit(X)
    det = TransitionDetector().fit(X[X.index.notna()])  # the way out works
    assert det.sample_period_ == 1.0
