"""A model fitted with ``view="relations"`` keeps none of the paper view's tables - the
bounds and configurations it never scores with - only its seen transitions and their
counts (issue 14: they were 6.8 of the 10.8 MiB model file at 50 sensors and 20 000
rows). Its relations view is the one a ``view="both"`` model of the same data has;
whatever needs the paper tables says to refit with ``view="paper"`` or ``"both"``;
the operator loop never brings them back."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, ModelFileError, TransitionDetector, load, merge, operator, save
from normalcy.io.model_file import read_model_file
from normalcy.transfer import TransitionTransfer
from tests.conftest import rewrite_model_file as rewrite
from tests.conftest import smooth_signals

KW = {"n_levels": 6, "delta": 5, "window": 40}
REFIT = "view='paper' or view='both'"


@pytest.fixture(scope="module")
def pair() -> tuple[TransitionDetector, TransitionDetector, pd.DataFrame, pd.DataFrame]:
    X = smooth_signals(5000, 6, seed=14)
    train, test = X.iloc[:3000].reset_index(drop=True), X.iloc[3000:].reset_index(drop=True)
    test.iloc[1200:1400, 2] += 0.4
    rel = TransitionDetector(**KW, view="relations").fit(train)
    both = TransitionDetector(**KW, view="both").fit(train)
    return rel, both, train, test


def no_paper_tables(det: TransitionDetector) -> bool:
    return not any(st.has_bounds or st.lo.size or st.hi.size or st.conf.size
                   for st in det.normality_)


def test_it_holds_no_paper_tables_and_its_file_is_smaller(pair, tmp_path: Path) -> None:
    rel, both, _, _ = pair
    assert no_paper_tables(rel)
    for a, b in zip(rel.normality_, both.normality_, strict=True):  # NP-1 is kept
        assert b.has_bounds and b.n_conf.sum() > 0
        np.testing.assert_array_equal(a.codes, b.codes)
        np.testing.assert_array_equal(a.counts, b.counts)
        assert a.nse == b.nse
    sizes = {}
    for name, det in (("relations", rel), ("both", both)):
        save(det, tmp_path / name)
        sizes[name] = os.path.getsize(tmp_path / name)
    _, arrays = read_model_file(tmp_path / "relations")
    assert not [k for k in arrays if k.endswith((".lo", ".hi"))]
    assert all(arrays[f"s{i}.conf"].shape[0] == 0 for i in range(len(rel.sensors_)))
    assert sizes["relations"] < sizes["both"]
    assert no_paper_tables(load(tmp_path / "relations"))


def test_its_relations_view_is_that_of_the_both_model(pair) -> None:
    rel, both, _, test = pair
    r, b = rel.residuals(test), both.residuals(test)
    cols = [c for c in r.columns
            if c.startswith(("r_rel", "r_dyn", "r_stuck", "r_noisy", "r_step"))]
    assert cols == [c for c in r.columns if c != "score"] and "r_dyn" in cols
    pd.testing.assert_frame_equal(r[cols], b[cols])
    ref = rel.reference_
    for k in ("rel", "dyn", "joint", "stuck", "noisy", "step"):
        assert ref[k] == both.reference_[k]
    want = np.fmax(r["r_rel"] / ref["rel"], r["r_dyn"] / ref["dyn"]) / ref["joint"]
    step = r["r_step"] / ref["step"]  # a limit: it raises the score only above 1
    want = np.fmax.reduce([want, r["r_stuck"] / ref["stuck"], r["r_noisy"] / ref["noisy"],
                           step.where(step > 1)])
    assert np.nanmax(r["r_stuck"]) == 0 and np.nanmax(r["r_noisy"]) < ref["noisy"]
    np.testing.assert_array_equal(r["score"], want)


def test_what_needs_the_paper_tables_says_to_refit(pair) -> None:
    rel, both, _, test = pair
    with pytest.raises(InputError, match=REFIT):
        rel.contributions(test)
    with pytest.raises(InputError, match=REFIT):
        _ = rel.bounds_
    assert all(c.shape[0] == 0 for v in rel.configurations_.values() for c in v)
    for view in ("paper", "both"):  # a view parameter changed after the fit takes effect
        switched = copy.deepcopy(rel).set_params(view=view)  # at the next fit only
        np.testing.assert_array_equal(switched.score_samples(test), rel.score_samples(test))
        assert switched.view_ == "relations"
    with pytest.raises(InputError, match="fitted with view='relations'"):
        merge(both, rel)
    merged = merge(rel, both)  # into a relations-only model: transitions and counts add
    assert no_paper_tables(merged)
    for m, a in zip(merged.normality_, rel.normality_, strict=True):
        np.testing.assert_array_equal(m.codes, a.codes)
        np.testing.assert_array_equal(m.counts, 2 * a.counts)


def test_the_operator_loop_never_brings_them_back(pair, tmp_path: Path) -> None:
    rel, _, train, test = pair
    det = operator.fit(TransitionDetector(**KW, view="relations"), train, by="ana")
    scores = {1: det.score_samples(test)}
    v = operator.feedback(det, test, 300, 500, "normal", by="ana")
    scores[v] = det.score_samples(test)
    v = operator.feedback(det, test, 1200, 1400, "fault", fault="bias", by="ana")
    scores[v] = det.score_samples(test)
    v = operator.partial_fit(det, test.iloc[:800], by="ana")
    scores[v] = det.score_samples(test)
    assert no_paper_tables(det)
    assert all(not any(st.has_bounds for st in cp.normality)
               for cp in det.history_.checkpoints.values())
    save(det, tmp_path / "m")
    back = load(tmp_path / "m")
    assert no_paper_tables(back)
    np.testing.assert_array_equal(back.score_samples(test), scores[v])
    for version in sorted(scores)[:-1]:  # replayed from the file: bit-identical
        operator.revert(back, version)
        np.testing.assert_array_equal(back.score_samples(test), scores[version])
        assert no_paper_tables(back)
    merged = merge(det, operator.fit_like(det, test.iloc[800:2000]))
    assert no_paper_tables(merged)
    assert np.isfinite(merged.score_samples(test)).any()
    moved = TransitionTransfer(detector=TransitionDetector(**KW, view="relations")).fit(
        train, 2.0 * test.iloc[:1000] + 1.0)
    assert no_paper_tables(moved.detector_) and moved.reference_origin_ == "target"
    assert np.isfinite(moved.score_samples(2.0 * test + 1.0)).any()



def test_a_file_without_the_tables_its_view_needs_is_refused(pair, tmp_path: Path) -> None:
    rel, both, _, _ = pair
    save(both, tmp_path / "both")

    def drop_bounds(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        del a["s0.lo"], a["s0.hi"]  # and its configurations: a relations-only sensor
        a["s0.n_conf"] = np.zeros_like(a["s0.n_conf"])
        a["s0.conf"] = a["s0.conf"][:0]

    def drop_hi(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        del a["s0.hi"]

    with pytest.raises(ModelFileError, match="needs the paper view's bounds"):
        load(rewrite(tmp_path / "both", tmp_path / "no_bounds", drop_bounds))
    with pytest.raises(ModelFileError, match="damaged"):
        load(rewrite(tmp_path / "both", tmp_path / "no_hi", drop_hi))
    save(rel, tmp_path / "rel")

    def configurations_without_bounds(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        n = a["s0.codes"].size
        a["s0.n_conf"] = np.ones(n, np.int64)
        a["s0.conf"] = np.zeros((n, a["s0.conf"].shape[1]))

    with pytest.raises(ModelFileError, match="without bounds"):
        load(rewrite(tmp_path / "rel", tmp_path / "conf", configurations_without_bounds))
