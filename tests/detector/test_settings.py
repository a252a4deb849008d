"""The ``"auto"`` settings on several shapes of training data.

Shapes: 2, 8 and 20 sensors; 400 and 20 000 rows; smooth signals, white noise
and a mix (SKAB's shape: a few slow sensors among noisy ones).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.detector import settings
from normalcy.detector.scaling import fit_robust_scale
from tests.conftest import smooth_signals


def _noise(n: int, n_sensors: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, n_sensors)),
                        columns=[f"n{i}" for i in range(n_sensors)])


def _mixed(n: int, n_smooth: int, n_noisy: int, seed: int) -> pd.DataFrame:
    """Smooth oscillations (periods 60-90 rows) beside white-noise sensors."""
    return pd.concat([smooth_signals(n, n_smooth, seed=seed),
                      _noise(n, n_noisy, seed=seed + 100)], axis=1)


def _auto(X: pd.DataFrame) -> tuple[int, int, int]:
    det = TransitionDetector().fit(X)
    return det.n_levels_, det.delta_, det.window_


@pytest.mark.parametrize("n_sensors", [2, 8, 20])
def test_long_smooth_series_keep_the_papers_window_and_fine_levels(n_sensors: int) -> None:
    z = smooth_signals(20000, n_sensors, seed=n_sensors).to_numpy()
    delta = settings.auto_delta([z])
    # a quarter of the 60-90 row periods, whatever the number of sensors
    assert 10 <= delta <= 25
    assert settings.auto_window(20000 - 2 * delta + 1) == 100
    levels = settings.auto_levels(20000 - delta, n_sensors + delta - 1)
    if n_sensors <= 8:
        assert levels == 20
    else:  # 20 sensors: more dimensions ask for more samples per code, coarser levels
        assert 4 < levels < 20


@pytest.mark.parametrize("n_sensors", [2, 8, 20])
def test_short_series_get_a_window_that_leaves_five_calibration_folds(n_sensors: int) -> None:
    X = smooth_signals(400, n_sensors, seed=n_sensors)
    n_levels, delta, window = _auto(X)
    assert n_levels == settings.MIN_LEVELS
    transitions = 400 - 2 * delta + 1
    assert window == max(settings.MIN_WINDOW, transitions // settings.CALIBRATION_WINDOWS)
    # the fit's fold rule: min(5, rows // (4 * window)) folds of contiguous rows
    assert (400 - delta) // (4 * window) >= 5


def test_short_series_cap_delta_at_what_the_samples_can_cover() -> None:
    # 8 slow sensors over 400 rows: their autocorrelation alone would give ~20
    slow = smooth_signals(400, 8, seed=4, period=240.0).to_numpy()
    uncapped = settings.auto_delta([smooth_signals(20000, 8, seed=4, period=240.0).to_numpy()])
    capped = settings.auto_delta([slow])
    coverable = 400 // (settings.SAMPLES_PER_DIM * settings.MIN_LEVELS**2) - 8 + 1
    assert uncapped > coverable
    assert capped == coverable == 5
    # 20 sensors over 400 rows leave no room for the sensors' own past
    assert settings.auto_delta([smooth_signals(400, 20, seed=5).to_numpy()]) == 1


def test_white_noise_sensors_do_not_vote_for_delta() -> None:
    smooth = smooth_signals(20000, 2, seed=7).to_numpy()
    mixed = _mixed(20000, 2, 6, seed=7).to_numpy()
    assert settings.auto_delta([mixed]) == settings.auto_delta([smooth]) > 5
    assert settings.auto_delta([_noise(20000, 8, seed=1).to_numpy()]) == 1
    assert settings.auto_delta([_noise(400, 2, seed=1).to_numpy()]) == 1


def test_has_time_scale_separates_noise_from_signal() -> None:
    z = _mixed(5000, 20, 200, seed=2).to_numpy()
    voters = settings.has_time_scale(settings.autocorrelation(z, 5), 5000)
    assert voters[:20].all()
    # the band is 2 standard errors, one-sided: ~2.3 % of white-noise sensors pass
    assert voters[20:].mean() < 0.06


def test_quasi_discrete_sensor_is_scaled_by_its_spread() -> None:
    # SKAB's flow rate: almost always 32, sometimes 31 or 33, a few readings in between
    rng = np.random.default_rng(0)
    flow = 32.0 + rng.choice([-1.0, 0.0, 1.0], size=400, p=[0.15, 0.7, 0.15])
    flow[::50] += 0.001
    center, scale = fit_robust_scale(np.c_[flow, rng.normal(size=400)], ["flow", "x"])
    np.testing.assert_allclose(scale[0], flow.std())
    assert 0.5 < scale[1] < 2.0  # a Gaussian sensor keeps its IQR (1.35 std)
    assert center[0] == 32.0


def test_short_mixed_plant_catches_a_shift_and_stays_quiet_when_healthy() -> None:
    """400 healthy rows, the SKAB shape: the auto settings must leave a working detector."""
    X = _mixed(2400, 3, 5, seed=11)
    det = TransitionDetector().fit(X.iloc[:400])
    assert det.delta_ > 1 and det.window_ < 100
    test = X.iloc[400:].reset_index(drop=True)
    healthy = det.predict(test)
    faulty = test.copy()
    faulty.loc[1000:, "s0"] += 3 * X["s0"].iloc[:400].std()
    alarms = det.predict(faulty)
    assert healthy.mean() < 0.1
    assert alarms[1100:].mean() > 0.5
