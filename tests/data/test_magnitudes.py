"""Readings too large or too finely spread to compute with are refused, naming them.

In Python (the command line's reader refused them already): a sensor read at 1e300 in
training raised numpy's ``RuntimeWarning: overflow encountered in square``; one such
reading in a scored series left 1 350 rows after it without a score (1 548 NaN against
193), the alarms among them lost; a sensor spread over 1e-300 divided by zero."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy import TransitionDetector
from normalcy.alarms.monitor import Monitor
from normalcy.datasets.walks import load_walks
from normalcy.exceptions import InputError, SensorsError


@pytest.fixture(scope="module")
def walks():
    train, test = load_walks(3, 2000, 1)
    return train, test, TransitionDetector().fit(train)


def test_a_reading_beyond_what_a_variance_holds_is_refused_in_fit_and_score(walks) -> None:
    train, test, det = walks
    with pytest.raises(InputError, match=r"sensor 's0' in training data holds -?\d\.\d+e\+299 "
                                         r"at row 0, too large to compute with \(beyond "
                                         r"±1\.3e\+150\): a fill value or a unit mix-up"):
        TransitionDetector().fit(train.assign(s0=train.s0 * 1e300))
    glitch = test.copy()
    glitch.iloc[500, 0] = 1e300
    with pytest.raises(InputError, match=r"sensor 's0' in data holds 1e\+300 at row 500.*"
                                         r"replace it with NaN \(a gap\)"):
        det.score_samples(glitch)


def test_a_large_glitch_that_can_be_computed_is_scored_as_an_alarm(walks) -> None:
    _, test, det = walks
    glitch = test.copy()
    glitch.iloc[500, 0] = 1e140
    scores = det.score_samples(glitch)
    clean = det.score_samples(test)
    assert np.isnan(scores).sum() == np.isnan(clean).sum()  # no row loses its score
    assert np.isfinite(scores[500]) and scores[500] > det.threshold_


def test_a_sensor_spread_below_what_its_square_holds_is_refused(walks) -> None:
    train, _, _ = walks
    with pytest.raises(SensorsError, match=r"sensor 's0' varies by only \d\.\d+e-300 over the "
                                           r"training data.*drop it from the sensors") as e:
        TransitionDetector().fit(train.assign(s0=train.s0 * 1e-300))
    assert e.value.sensors == ["s0"]


def test_the_monitor_refuses_the_reading_naming_its_row(walks) -> None:
    _, test, det = walks
    monitor = Monitor(det)
    monitor.update(test.iloc[:300])
    chunk = test.iloc[300:400].copy()
    chunk.iloc[5, 1] = -1e200
    with pytest.raises(InputError, match=r"sensor 's1' holds -1e\+200 at row 305 of the stream "
                                         r"\(row 5 of the chunk\), too large to compute with"):
        monitor.update(chunk)
