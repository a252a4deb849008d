"""WindowAutoencoder: training, determinism, window bookkeeping, its own bad input.

The shared contract (clone, fit/score/predict, the file, columns, gaps) runs in
tests/test_contract.py.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")


from normalcy.data.validation import as_series  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.deep.windows import cut_windows, thin_ends, window_ends  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402

ARCHITECTURES = ["mlp", "cnn", "lstm"]
SENSORS = ["flow", "pressure", "temperature"]
WINDOW = 16
SMALL = {"window": WINDOW, "latent": 4, "hidden": 16, "epochs": 6, "batch_size": 64,
         "max_windows": 800}



def plant(n: int, seed: int) -> pd.DataFrame:
    """Healthy data of a small plant: three coupled periodic sensors with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi)
    flow = np.sin(2 * np.pi * t / 40 + phase)
    pressure = 0.8 * np.sin(2 * np.pi * t / 40 + phase + 0.7) + 0.3 * np.cos(2 * np.pi * t / 13)
    temperature = 0.5 * flow + 0.2 * np.sin(2 * np.pi * t / 90)
    values = np.c_[flow, pressure, temperature] + 0.05 * rng.normal(size=(n, 3))
    return pd.DataFrame(values, columns=SENSORS)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return plant(2000, seed=0)


@pytest.fixture(scope="module", params=ARCHITECTURES)
def fitted(request: pytest.FixtureRequest, train: pd.DataFrame) -> WindowAutoencoder:
    return WindowAutoencoder(architecture=request.param, **SMALL).fit(train)


def test_fit_returns_self_and_learns_state(train: pd.DataFrame) -> None:
    model = WindowAutoencoder(**SMALL)
    assert model.fit(train) is model
    assert model.sensors_ == SENSORS
    assert model.n_features_in_ == 3
    assert model.threshold_ > 0
    assert 1 <= model.n_epochs_ <= SMALL["epochs"]
    assert model.best_epoch_ < model.n_epochs_
    assert "validation_loss" in model.history_[0]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_same_random_state_same_scores(architecture: str, train: pd.DataFrame) -> None:
    test = plant(300, seed=5)
    a = WindowAutoencoder(architecture=architecture, **SMALL).fit(train).score_samples(test)
    b = WindowAutoencoder(architecture=architecture, **SMALL).fit(train).score_samples(test)
    np.testing.assert_array_equal(a, b)
    c = WindowAutoencoder(architecture=architecture, random_state=1, **SMALL)
    assert not np.array_equal(c.fit(train).score_samples(test), a, equal_nan=True)


def test_scores_belong_to_the_last_sample_of_each_window(fitted: WindowAutoencoder) -> None:
    test = plant(200, seed=7)
    test.iloc[100] = np.nan  # a gap
    scores = fitted.score_samples(test)
    assert scores.shape == (200,)
    assert np.isnan(scores[: WINDOW - 1]).all()
    assert np.isfinite(scores[WINDOW - 1 : 100]).all()
    assert np.isnan(scores[100 : 100 + WINDOW]).all()  # no window crosses the gap
    assert np.isfinite(scores[100 + WINDOW :]).all()
    np.testing.assert_array_equal(fitted.decision_function(test), scores)


def test_runs_are_not_joined(fitted: WindowAutoencoder) -> None:
    runs = [plant(100, seed=8), plant(100, seed=9)]
    scores = fitted.score_samples(runs)
    assert np.isnan(scores[100 : 100 + WINDOW - 1]).all()
    assert np.isfinite(scores[100 + WINDOW - 1 :]).all()


def test_threshold_is_margin_times_validation_quantile(fitted: WindowAutoencoder) -> None:
    expected = fitted.threshold_margin * np.quantile(
        fitted.validation_scores_, fitted.threshold_quantile
    )
    assert fitted.threshold_ == pytest.approx(expected)


def test_without_validation_trains_every_epoch(train: pd.DataFrame) -> None:
    model = WindowAutoencoder(validation_fraction=0.0, **SMALL).fit(train.to_numpy())
    assert model.n_epochs_ == SMALL["epochs"]
    assert model.sensors_ == ["s0", "s1", "s2"]
    assert np.isfinite(model.threshold_)


def test_progress_bar(train: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    WindowAutoencoder(progress=True, **{**SMALL, "epochs": 2}).fit(train)
    assert "WindowAutoencoder" in capsys.readouterr().err


def test_data_too_short_for_the_window_is_refused(fitted: WindowAutoencoder) -> None:
    with pytest.raises(InputError, match="too short for the window.*smaller 'window'"):
        WindowAutoencoder(**SMALL).fit(plant(WINDOW, seed=1))
    gappy = plant(200, seed=1)
    gappy.iloc[::10] = np.nan  # stretches of 9 rows only
    with pytest.raises(InputError, match="longest gap-free stretch has 9 rows"):
        fitted.score_samples(gappy)


@pytest.mark.parametrize(
    ("name", "value"),
    [("architecture", "gru"), ("window", 1), ("epochs", 0), ("lr", -1.0),
     ("validation_fraction", 1.0), ("random_state", -1), ("device", "gpu7")],
)
def test_bad_parameters_name_themselves(name: str, value: object, train: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=f"{name}.*Got {value!r} instead"):
        WindowAutoencoder(**{**SMALL, name: value}).fit(train)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu_says_what_to_do(train: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="no CUDA GPU.*device='auto'"):
        WindowAutoencoder(device="cuda", **SMALL).fit(train)


def test_importing_normalcy_does_not_import_torch() -> None:
    code = "import sys, normalcy; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 40), min_size=1, max_size=4),
    gaps=st.sets(st.integers(0, 159), max_size=20),
    window=st.integers(2, 12),
    stride=st.integers(1, 4),
    cap=st.integers(2, 50),
)
def test_windows_never_cross_gaps_or_runs(
    lengths: list[int], gaps: set[int], window: int, stride: int, cap: int
) -> None:
    runs = [np.arange(n * 2, dtype=float).reshape(n, 2) + 1000 * i for i, n in
            enumerate(lengths)]
    values = np.concatenate(runs)
    for g in gaps:
        if g < len(values):
            values[g] = np.nan
    split = np.cumsum(lengths)[:-1]
    try:
        series = as_series([v for v in np.split(values, split)])
    except InputError:
        return  # every row is a gap
    ends = thin_ends(window_ends(series, window), stride, cap)
    assert len(ends) <= cap
    windows = cut_windows(series.values, ends, window)
    assert windows.shape == (len(ends), window, 2)
    assert np.isfinite(windows).all()
    run_of_row = np.repeat(np.arange(len(lengths)), lengths)
    for e in ends:  # one run, consecutive rows
        assert run_of_row[e - window + 1] == run_of_row[e]
        assert not np.isnan(values[e - window + 1 : e + 1]).any()
