"""What is particular to the baselines (the shared contract: tests/test_contract.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

from normalcy.baselines import Baseline, PCAMonitor, ReconstructionBaseline, WindowBaseline
from normalcy.baselines.pca import q_limit, t2_limit
from normalcy.exceptions import InputError

ANOMALY = slice(1000, 1200)


def plant(n: int, seed: int) -> pd.DataFrame:
    """Three sensors driven by two smooth latent processes (AR(1), 10-sample memory)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n + 200, 2))
    latent = np.zeros_like(e)
    for t in range(1, len(e)):
        latent[t] = 0.9 * latent[t - 1] + e[t]
    latent = latent[200:] * np.sqrt(1 - 0.81)
    mix = np.array([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]])
    x = latent @ mix.T + 0.1 * rng.standard_normal((n, 3))
    return pd.DataFrame(x, columns=["a", "b", "c"])


# small settings: the contract, not the paper's sizes (those are the defaults)
FACTORIES: dict[str, Callable[[], Baseline]] = {
    "lassolars": lambda: ReconstructionBaseline(regressor="lassolars", past=19, others=20),
    "randomforest": lambda: ReconstructionBaseline(regressor="randomforest", past=19,
                                                   others=20, n_estimators=20),
    "lof": lambda: WindowBaseline(detector="lof", window=20),
    "iforest": lambda: WindowBaseline(detector="iforest", window=20, stride=3),
    "autoencoder": lambda: WindowBaseline(detector="autoencoder", window=20,
                                          detector_params={"epoch_num": 5}),
    "pca": lambda: PCAMonitor(),
}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    train = plant(3000, 0)
    fresh = plant(2000, 1)
    bad = fresh.copy()
    bad.loc[ANOMALY.start: ANOMALY.stop - 1, "a"] += 4.0 * train["a"].std()
    return {"train": train, "fresh": fresh, "bad": bad}


@pytest.fixture(scope="module")
def fitted(data: dict[str, pd.DataFrame]) -> dict[str, Baseline]:
    return {k: make().fit(data["train"]) for k, make in FACTORIES.items()}


KINDS = list(FACTORIES)


# ------------------------------------------------------------------ calibration


@pytest.mark.parametrize("kind", KINDS)
def test_label_free_threshold_is_quiet_on_fresh_healthy_data(
    kind: str, fitted: dict[str, Baseline], data: dict[str, pd.DataFrame]
) -> None:
    # thresholds aim at 1 % (99th percentile / 99 % limits); allow 5x for the
    # estimation error of a quantile on autocorrelated held-out data
    alarms = fitted[kind].predict(data["fresh"])
    assert set(np.unique(alarms)) <= {0, 1}
    assert alarms.mean() <= 0.05
    assert fitted[kind].predict(data["bad"])[ANOMALY].mean() > 0.5


@pytest.mark.parametrize(
    ("est", "param"),
    [
        (ReconstructionBaseline(regressor="svm"), "regressor"),
        (ReconstructionBaseline(others=0), "others"),
        (ReconstructionBaseline(calibration=1.0), "calibration"),
        (WindowBaseline(detector="knn"), "detector"),
        (WindowBaseline(window=0), "window"),
        (WindowBaseline(threshold_quantile=1.5), "threshold_quantile"),
        (PCAMonitor(n_components=7), "n_components"),
        (PCAMonitor(confidence=1.0), "confidence"),
    ],
)
def test_bad_parameter_is_named(est: Baseline, param: str,
                                data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match=f"'{param}' parameter of {type(est).__name__}"):
        est.fit(data["train"])


def test_training_data_too_short_says_so(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="too short"):
        WindowBaseline(window=100).fit(data["train"].iloc[:150])


def test_constant_sensor_is_rejected(data: dict[str, pd.DataFrame]) -> None:
    frame = data["train"].assign(b=1.0)
    with pytest.raises(InputError, match="constant"):
        ReconstructionBaseline(past=5, others=5).fit(frame)


def test_heavy_dependencies_are_not_imported_with_the_package() -> None:
    code = ("import sys, normalcy.baselines; "
            "print(sorted(m for m in ('pyod', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------- particular


def test_reconstruction_needs_inputs_for_a_lone_sensor(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="past"):
        ReconstructionBaseline(past=0, others=5).fit(data["train"][["a"]])
    m = ReconstructionBaseline(past=5, others=5).fit(data["train"][["a"]])
    assert np.isfinite(m.score_samples(data["fresh"][["a"]])[10:]).all()


def test_reconstruction_error_scale_is_held_out(fitted: dict[str, Baseline]) -> None:
    m = fitted["randomforest"]
    assert isinstance(m, ReconstructionBaseline)
    assert m.error_scale_.shape == (3,) and (m.error_scale_ > 0).all()
    assert len(m.models_) == 3


def test_window_stride_holds_the_last_computed_score(data: dict[str, pd.DataFrame],
                                                     fitted: dict[str, Baseline]) -> None:
    strided = fitted["iforest"]
    every = clone(strided).set_params(stride=1).fit(data["train"])
    a = strided.score_samples(data["fresh"])
    b = every.score_samples(data["fresh"])
    first = 19  # first full window
    rows = np.arange(first, len(a))
    computed = rows[(rows - first) % 3 == 0]
    np.testing.assert_allclose(a[computed], b[computed])
    np.testing.assert_allclose(a[rows], b[rows - (rows - first) % 3])


def test_pca_limits_against_the_distributions() -> None:
    # T² of a new Gaussian observation: exact F-based law; Q: Monte Carlo
    rng = np.random.default_rng(0)
    k, n = 3, 500
    assert t2_limit(k, n, 0.99) == pytest.approx(
        k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(0.99, k, n - k))
    lam = np.array([0.6, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1, 0.05])
    q = (rng.standard_normal((400_000, lam.size)) ** 2 * lam).sum(axis=1)
    assert q_limit(lam, 0.99) == pytest.approx(np.quantile(q, 0.99), rel=0.05)


def test_pca_alarm_rate_on_gaussian_data_is_near_nominal() -> None:
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.8, 0.2, 0.0], [0.8, 1.0, 0.1, 0.0],
                    [0.2, 0.1, 1.0, 0.5], [0.0, 0.0, 0.5, 1.0]])
    train = rng.multivariate_normal(np.zeros(4), cov, 5000)
    fresh = rng.multivariate_normal(np.zeros(4), cov, 20000)
    m = PCAMonitor(variance=0.8).fit(train)
    assert 1 <= m.n_components_ <= 3
    rate = m.predict(fresh).mean()
    # two 1 % limits: between 1 % and 2 % expected; 3 binomial sd either side
    assert 0.01 - 3 * np.sqrt(0.01 * 0.99 / 20000) < rate < 0.02 + 3 * np.sqrt(
        0.02 * 0.98 / 20000)
    t2, q = m.statistics(fresh)
    np.testing.assert_allclose(m.score_samples(fresh),
                               np.maximum(t2 / m.t2_limit_, q / m.q_limit_))


def test_pca_single_sensor_uses_t2_only() -> None:
    x = np.random.default_rng(2).standard_normal((500, 1))
    m = PCAMonitor().fit(x)
    assert m.n_components_ == 1 and np.isnan(m.q_limit_)
    assert m.score_samples(np.array([[0.0], [10.0]])).tolist()[1] > 1.0
