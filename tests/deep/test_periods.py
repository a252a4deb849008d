"""A window counts rows: a window detector keeps its training data's sampling period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import load  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402
from normalcy.io.model_file import read_model_file, write_model_file  # noqa: E402

SMALL = {"window": 16, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}


def timed(n: int, period: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = np.c_[np.sin(t / 9), np.cos(t / 13)] + 0.05 * rng.normal(size=(n, 2))
    index = pd.date_range("2026-01-01", periods=n, freq=period)
    return pd.DataFrame(values, columns=["a", "b"], index=index)


def test_data_at_another_period_is_refused_and_the_period_is_saved(tmp_path) -> None:
    """A model of 1 s data scored 2 s data without a word: each window then spanned
    twice the seconds it was trained on."""
    model = WindowAutoencoder(**SMALL).fit(timed(600, "1s"))
    assert model.sample_period_ == 1.0
    assert np.isfinite(model.score_samples(timed(200, "1s", 1))).any()
    with pytest.raises(InputError, match=r"sampled every 2 s.*every 1 s"):
        model.score_samples(timed(200, "2s", 1))
    model.save(tmp_path / "ae.normalcy")
    back = load(tmp_path / "ae.normalcy")
    assert back.sample_period_ == 1.0
    with pytest.raises(InputError, match="sampled every 2 s"):
        back.predict(timed(200, "2s", 1))
    header, arrays = read_model_file(tmp_path / "ae.normalcy")  # a file from before
    header.pop("sample_period")
    write_model_file(tmp_path / "old.normalcy", header, arrays)
    old = load(tmp_path / "old.normalcy")
    assert old.sample_period_ is None and np.isfinite(old.score_samples(timed(200, "2s"))).any()
    plain = WindowAutoencoder(**SMALL).fit(timed(600, "1s").to_numpy())
    assert plain.sample_period_ is None
