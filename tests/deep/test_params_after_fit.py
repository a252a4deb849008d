"""Parameters set after fit change nothing until the next fit (scikit-learn's rule).

Before, ``model.set_params(window=20)`` on a model fitted with ``window=10`` made
scoring fail with torch's "mat1 and mat2 shapes cannot be multiplied (281x40 and
20x8)", and the file it then saved did not load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import load  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.transfer import AdversarialTransfer, latent_codes  # noqa: E402

DATA = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 2)), columns=["a", "b"])
SMALL = {"window": 10, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}


def test_a_window_set_after_fit_waits_for_the_next_fit(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    model = WindowAutoencoder(**SMALL).fit(DATA)
    scores, codes = model.score_samples(DATA), latent_codes(model, DATA)
    model.set_params(window=20, latent=3, architecture="cnn")
    np.testing.assert_array_equal(model.score_samples(DATA), scores)
    np.testing.assert_array_equal(latent_codes(model, DATA), codes)
    assert model.window_ == 10
    model.save(tmp_path / "m.normalcy")
    again = load(tmp_path / "m.normalcy")
    np.testing.assert_array_equal(again.score_samples(DATA), scores)
    assert again.get_params()["window"] == 20  # kept for the next fit
    assert again.fit(DATA).window_ == 20


def test_a_discriminator_loads_after_its_sizes_were_set_anew(tmp_path: Path) -> None:
    model = AdversarialTransfer(**SMALL).fit(DATA, DATA.iloc[:80])
    model.set_params(hidden=16)
    model.save(tmp_path / "m.normalcy")
    assert load(tmp_path / "m.normalcy").discriminator_ is not None
