"""The latent measures check what they are given.

Before, ``domain="src"`` (for "source") silently standardised with the target's
statistics (another answer, no word), ``max_windows=0`` gave no codes and a NaN
discrepancy, ``max_windows=-1`` a raw numpy ValueError, ``n_neighbors=0`` an error
naming scikit-learn's KNeighborsClassifier, and a fitted TransitionDetector was said
"not fitted yet".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import TransitionDetector  # noqa: E402
from normalcy.exceptions import InputError, ParameterError  # noqa: E402
from normalcy.transfer import (  # noqa: E402
    ParameterTransfer,
    latent_codes,
    latent_discrepancy,
    latent_domain_accuracy,
)

DATA = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 2)), columns=["a", "b"])


@pytest.fixture(scope="module")
def model() -> ParameterTransfer:
    torch.set_num_threads(1)
    small = {"window": 8, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}
    return ParameterTransfer(scaling="per_domain", **small).fit(DATA * 3 + 1, DATA)


@pytest.mark.parametrize(("call", "said"), [
    (lambda m: latent_codes(m, DATA, domain="src"),
     r"'domain' parameter of latent_codes must be a str among .*Got 'src' instead"),
    (lambda m: latent_codes(m, DATA, max_windows=-1),
     r"'max_windows' parameter of latent_codes must be an int in the range \[2, inf\)"),
    (lambda m: latent_discrepancy(m, DATA, DATA, max_windows=0),
     r"'max_windows' parameter of latent_discrepancy .*Got 0 instead"),
    (lambda m: latent_domain_accuracy(m, DATA, DATA, n_neighbors=0),
     r"'n_neighbors' parameter of latent_domain_accuracy .*Got 0 instead"),
])
def test_measure_parameters_name_themselves(model: ParameterTransfer, call, said) -> None:
    with pytest.raises(ParameterError, match=said):
        call(model)


def test_a_detector_without_latent_codes_is_named() -> None:
    rng = np.random.default_rng(1)
    det = TransitionDetector(n_levels=4, delta=2, window=10).fit(
        np.cumsum(rng.normal(size=(400, 2)), axis=0))
    with pytest.raises(InputError, match=r"latent codes of a window detector.*got a "
                                         r"TransitionDetector"):
        latent_codes(det, DATA)


def test_the_domains_still_differ_where_scaled_apart(model: ParameterTransfer) -> None:
    source, target = (latent_codes(model, DATA, domain=d) for d in ("source", "target"))
    assert source.shape == target.shape and not np.allclose(source, target)
