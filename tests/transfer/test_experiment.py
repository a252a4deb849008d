"""The scratch-versus-transfer experiment, in a tiny quick run."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy.exceptions import InputError  # noqa: E402
from normalcy.transfer.experiment import (  # noqa: E402
    METHODS,
    run_transfer_experiment,
    sister_units,
    summarise_transfer,
)

TINY = {"window": 16, "latent": 4, "hidden": 16, "epochs": 2, "max_windows": 400}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_sister_units_differ_in_operating_point() -> None:
    pair = sister_units(seed=1, n_source=2000, n_target=1000, n_test=1000)
    assert list(pair.source.columns) == list(pair.target.columns) == list(pair.test.columns)
    assert pair.labels.shape == (1000,) and set(np.unique(pair.labels)) == {0, 1}
    assert pair.target["flow"].mean() > 1.5 * pair.source["flow"].mean()


def test_quick_run_has_one_row_per_method_fraction_and_seed() -> None:
    pair = sister_units(seed=0, n_source=1200, n_target=600, n_test=800)
    results = run_transfer_experiment(
        [pair], fractions=(0.05, 0.2, 1.0), seeds=(3, 4), quick=True, network=TINY
    )
    assert len(results) == len(METHODS) * 2  # quick: one seed, smallest and largest fraction
    assert set(results["fraction"]) == {0.05, 1.0}
    assert set(results["seed"]) == {3}
    assert set(results["method"]) == set(METHODS)
    assert results["target_rows"].min() == 2 * TINY["window"]  # at least two windows' worth
    assert results[["roc_auc", "f1", "false_alarm_rate"]].stack().between(0, 1).all()
    summary = summarise_transfer(results)
    assert (summary.xs("scratch", level="method")["auc_vs_scratch"] == 0).all()
    assert not summary.xs("scratch", level="method")["negative_transfer"].any()
    worse = summary["auc_vs_scratch"] < 0
    np.testing.assert_array_equal(summary["negative_transfer"], worse)


def test_bad_experiment_arguments_are_refused() -> None:
    pair = sister_units(seed=0, n_source=300, n_target=200, n_test=300)
    with pytest.raises(InputError, match="unknown method"):
        run_transfer_experiment([pair], methods=("scratch", "magic"))
    with pytest.raises(InputError, match=r"fractions must be in \(0, 1\]"):
        run_transfer_experiment([pair], fractions=(0.0, 0.5))
