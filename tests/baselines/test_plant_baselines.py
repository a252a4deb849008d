"""Dynamic PCA, max |z| and the window-averaged monitor: the baseline contract and
their per-sensor contributions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from normalcy.baselines import (
    Baseline,
    DynamicPCAMonitor,
    MaxZScore,
    PCAMonitor,
    WindowAveraged,
    pca_contributions,
)
from normalcy.exceptions import InputError

FACTORIES: dict[str, Callable[[], Baseline]] = {
    "dpca": lambda: DynamicPCAMonitor(lags=2),
    "maxz": lambda: MaxZScore(),
    "averaged": lambda: WindowAveraged(PCAMonitor(), window=30),
}
KINDS = list(FACTORIES)


def related(n: int, seed: int) -> pd.DataFrame:
    """Three sensors tied together (a, a + noise, a smoothed) plus an independent one."""
    rng = np.random.default_rng(seed)
    a = np.convolve(rng.standard_normal(n + 20), np.ones(20) / 20, mode="valid")[:n] * 4
    return pd.DataFrame({"a": a + 0.05 * rng.standard_normal(n),
                         "b": a + 0.05 * rng.standard_normal(n),
                         "c": 2 * a + 0.05 * rng.standard_normal(n),
                         "d": rng.standard_normal(n)})


@pytest.fixture(scope="module")
def fitted() -> dict[str, Baseline]:
    train = related(4000, 0)
    return {k: f().fit(train) for k, f in FACTORIES.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_clone_and_fit_returns_self(kind: str) -> None:
    est = FACTORIES[kind]()
    params = est.get_params()
    assert clone(est).get_params().keys() == params.keys()
    assert est.fit(related(2000, 1)) is est
    assert est.get_params().keys() == params.keys()
    assert isinstance(est.name, str) and est.name


@pytest.mark.parametrize("kind", KINDS)
def test_fresh_healthy_data_is_quiet_and_a_broken_relation_is_not(
        kind: str, fitted: dict[str, Baseline]) -> None:
    est = fitted[kind]
    healthy = related(3000, 2)
    alarms = est.predict(healthy)
    assert alarms.mean() < 0.05
    broken = healthy.copy()
    broken.loc[1500:1800, "b"] = broken.loc[1500:1800, "a"] - 4.0  # ~4 sd of b, off a
    s = est.score_samples(broken)
    assert np.nanmean(s[1550:1800] > est.threshold_) > 0.5


@pytest.mark.parametrize("kind", KINDS)
def test_undefined_rows_are_nan_and_gaps_are_respected(kind: str,
                                                        fitted: dict[str, Baseline]) -> None:
    est = fitted[kind]
    x = related(500, 3)
    x.iloc[200] = np.nan
    s = est.score_samples(x)
    assert s.shape == (500,) and np.isnan(s[200])
    if kind == "dpca":
        assert np.isnan(s[:2]).all() and np.isnan(s[201:203]).all() and np.isfinite(s[203])
    if kind == "averaged":
        assert np.isnan(s[:29]).all() and np.isnan(s[201:230]).all() and np.isfinite(s[230])


def test_contributions_name_the_broken_sensor(fitted: dict[str, Baseline]) -> None:
    x = related(600, 4)
    x.loc[300:, "c"] += 3.0
    for kind in ("dpca", "maxz"):
        c = fitted[kind].contributions(x)  # type: ignore[attr-defined]
        assert list(c.columns) == list(x.columns)
        assert c.iloc[320:].mean().idxmax() == "c"
    pca = PCAMonitor().fit(related(4000, 0))
    c = pca_contributions(pca, x.to_numpy())
    assert int(np.argmax(c[320:].mean(axis=0))) == 2
    # the complete decomposition adds up to the combined index
    t2, q = pca.statistics(x)
    np.testing.assert_allclose(c.sum(axis=1), t2 / pca.t2_limit_ + q / pca.q_limit_)


@pytest.mark.parametrize("est, param", [
    (DynamicPCAMonitor(lags=-1), "lags"),
    (MaxZScore(calibration=1.0), "calibration"),
    (WindowAveraged(window=0), "window"),
    (WindowAveraged(monitor="pca"), "monitor"),
])
def test_bad_parameters_name_themselves(est: Baseline, param: str) -> None:
    with pytest.raises(InputError, match=param):
        est.fit(related(1000, 5))


def test_averaged_monitor_clones_its_inner_one() -> None:
    inner = PCAMonitor()
    m = WindowAveraged(inner, window=20).fit(related(2000, 6))
    assert not hasattr(inner, "threshold_") and hasattr(m.monitor_, "threshold_")
    assert "averaged over 20" in m.name
