"""A model fitted on a GPU (``device="cuda"``), scored on a machine without one.

The error said "use device='auto' ... or device='cpu'", which reads as a constructor
argument: a user refitted instead of changing the fitted model's setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402
from normalcy.transfer import latent_codes  # noqa: E402

DATA = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 2)), columns=["a", "b"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_gpu_model_on_a_cpu_says_how_to_score_it_here() -> None:
    torch.set_num_threads(1)
    model = WindowAutoencoder(window=8, latent=2, hidden=8, epochs=1).fit(DATA)
    expected = model.score_samples(DATA)
    model.set_params(device="cuda")  # as loaded from a file written on a GPU machine
    said = r"no CUDA GPU.*fitted with device='cuda'.*model\.set_params\(device='auto'\)"
    with pytest.raises(InputError, match=said):
        model.score_samples(DATA)
    with pytest.raises(InputError, match=said):
        latent_codes(model, DATA)
    model.set_params(device="auto")  # what it says: the same model scores
    np.testing.assert_array_equal(model.score_samples(DATA), expected)
