"""A wrong reading in the healthy history (a typo, a historian's fill value, epoch
milliseconds) is refused by the fit, in words; real excursions are not
(:func:`normalcy.detector.scaling.fit_robust_scale`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, TransitionDetector
from tests.conftest import smooth_signals


@pytest.mark.parametrize("value", [1e6, -9999.0])
def test_a_wrong_reading_in_the_history_is_refused(value) -> None:
    X = smooth_signals(3000, 3, seed=4) * [1.0, 5.0, 20.0] + [0.0, 50.0, 400.0]
    X.iloc[1234, 1] = value
    with pytest.raises(InputError, match=r"sensor 's1' reads .* at row 1234, where 98 % of "
                                         r"its healthy readings lie within .*leave the cells "
                                         r"empty \(a gap\)"):
        TransitionDetector().fit(X)
    X.iloc[1234, 1] = np.nan  # blanked: a gap, and the fit goes on
    assert TransitionDetector().fit(X).sensors_ == ["s0", "s1", "s2"]


def test_a_real_start_up_and_a_quasi_discrete_sensor_are_kept() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    level = 50.0 + rng.normal(0.0, 0.5, n)
    level[:100] = np.linspace(0.0, 50.0, 100)  # a start-up from empty: 2.5 % of the rows
    burst = np.zeros(n)
    burst[rng.choice(n, 20, replace=False)] = 500.0  # mostly 0: its central range is 0
    X = pd.DataFrame({"level": level, "flow": 5.0 + rng.normal(0.0, 0.1, n),
                      "burst": burst + rng.normal(0.0, 1e-3, n) * (burst > 0)})
    assert TransitionDetector().fit(X).sensors_ == ["level", "flow", "burst"]
