"""The scratch-versus-transfer experiment, in a tiny quick run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy.bench.transfer_experiment import (  # noqa: E402
    METHODS,
    TransferPair,
    default_skab_root,
    etc_units,
    run_transfer_experiment,
    sister_units,
    skab_pairs,
    summarise_transfer,
)
from normalcy.exceptions import InputError  # noqa: E402

TINY = {"window": 16, "latent": 4, "hidden": 16, "epochs": 2, "max_windows": 400}



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
    done = results[results["skipped"] == ""]
    assert done[["roc_auc", "f1", "false_alarm_rate"]].to_numpy().min() >= 0
    assert done[["roc_auc", "f1", "false_alarm_rate"]].to_numpy().max() <= 1
    # 32 target rows cannot hold a transition detector: skipped with the reason, not a crash
    skipped = results[results["skipped"] != ""]
    assert set(skipped["method"]) <= {"td_scratch", "td_partial_fit", "td_transfer"}
    assert (skipped["target_rows"] == 32).all() and skipped["roc_auc"].isna().all()
    assert skipped["skipped"].str.contains("too short").all()
    assert set(done[done["fraction"] == 1.0]["method"]) == set(METHODS)
    # the source-only models never see target data: one result for every fraction
    for m in ("source_only", "td_source_only"):
        assert results[results["method"] == m]["roc_auc"].nunique() == 1
    summary = summarise_transfer(results)
    for scratch in ("scratch", "td_scratch"):
        fitted = summary.xs(scratch, level="method").dropna(subset=["roc_auc_mean"])
        assert (fitted["auc_vs_scratch"] == 0).all()
        assert not fitted["negative_transfer"].any()
    worse = summary["auc_vs_scratch"] < 0  # one seed: no std, any loss is negative transfer
    np.testing.assert_array_equal(summary["negative_transfer"], worse)


def test_pairs_given_as_functions_are_drawn_for_each_seed() -> None:
    drawn: list[int] = []

    def pair(seed: int) -> TransferPair:
        drawn.append(seed)
        return sister_units(seed=seed, n_source=600, n_target=300, n_test=400)

    results = run_transfer_experiment([pair], fractions=(1.0,), seeds=(0, 1), network=TINY,
                                      methods=("scratch", "td_source_only"))
    assert drawn == [0, 1]
    assert len(results) == 4 and (results["skipped"] == "").all()
    td = results[results["method"] == "td_source_only"]["roc_auc"]
    assert td.nunique() == 2  # other data, other deterministic detector


def test_negative_transfer_is_a_loss_beyond_the_methods_own_spread() -> None:
    rows = []
    for seed, (scratch, steady, noisy, td_scratch, td) in enumerate(
            [(0.80, 0.70, 0.95, 0.60, 0.55), (0.80, 0.72, 0.55, 0.60, 0.56)]):
        for method, auc in (("scratch", scratch), ("parameter", steady), ("mapping", noisy),
                            ("td_scratch", td_scratch), ("td_transfer", td)):
            rows.append({"pair": "p", "method": method, "fraction": 0.1, "seed": seed,
                         "target_rows": 100, "roc_auc": auc, "f1": 0.5,
                         "false_alarm_rate": 0.1, "skipped": ""})
    summary = summarise_transfer(pd.DataFrame(rows)).xs(("p", 0.1))
    assert summary.loc["parameter", "negative_transfer"]  # 0.09 below, std 0.014
    assert not summary.loc["mapping", "negative_transfer"]  # 0.05 below, std 0.28
    # TD variants are compared with the TD trained from scratch, not with the autoencoder
    assert summary.loc["td_transfer", "auc_vs_scratch"] == pytest.approx(-0.045)
    assert summary.loc["td_transfer", "negative_transfer"]


def test_bad_experiment_arguments_are_refused() -> None:
    pair = sister_units(seed=0, n_source=300, n_target=200, n_test=300)
    with pytest.raises(InputError, match="unknown method"):
        run_transfer_experiment([pair], methods=("scratch", "magic"))
    with pytest.raises(InputError, match=r"fractions must be in \(0, 1\]"):
        run_transfer_experiment([pair], fractions=(0.0, 0.5))


def test_etc_target_unit_has_other_set_points_and_labelled_faults() -> None:
    pair = etc_units(seed=0, source_s=40, target_s=20, test_s=10)
    assert pair.labels.tolist() == [0] * 500 + [1] * 1500  # healthy run, then K_b, K_t, L_a
    assert pair.target["theta"].mean() > pair.source["theta"].mean() + 0.2  # [-0.4, 1.2] rad


def test_skab_pairs_train_on_the_rows_before_the_first_anomaly() -> None:
    root = default_skab_root()
    if root is None:
        pytest.skip("no SKAB folder (set NORMALCY_SKAB)")
    (pair,) = skab_pairs(root, ["valve1/1"], max_target_rows=300)
    assert pair.name == "skab" and len(pair.target) == 300
    assert len(pair.test) == len(pair.labels) and pair.labels[:100].sum() == 0
    assert pair.labels.sum() > 0 and list(pair.source.columns) == list(pair.target.columns)
    with pytest.raises(InputError, match="not in"):
        skab_pairs(root, ["valve9/0"])
