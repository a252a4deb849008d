"""TransitionDetector behaviour beyond the shared contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, TransitionDetector, operator
from tests.conftest import smooth_signals


def test_lorenz_structure_matches_paper(lorenz) -> None:
    train, _, _ = lorenz
    det = TransitionDetector(n_levels=20, delta=20).fit(train)
    counts = {s: v.shape[0] for s, v in det.transitions_.items()}
    assert counts == {"x1": 281, "x3": 311}  # the paper's Figure 5 counts
    # the paper reports mostly single configurations, rarely more than 6
    n_conf = np.concatenate([st.n_conf for st in det.normality_])
    assert np.median(n_conf) <= 2


def test_auto_settings_on_lorenz_are_the_papers(lorenz) -> None:
    det = TransitionDetector().fit(lorenz[0])
    assert (det.n_levels_, det.delta_, det.window_) == (20, 20, 100)


def test_list_of_runs_and_gaps_never_crossed() -> None:
    X = smooth_signals(1200, 2, seed=3)
    a, b = X.iloc[:600], X.iloc[600:]
    det = TransitionDetector(n_levels=5, delta=4, window=20).fit([a, b])
    gap = X.copy()
    gap.iloc[500] = np.nan
    s = det.score_samples(gap)
    # no window covers the gap: rows after it wait for a full new window
    assert np.isnan(s[500: 500 + det.window_ + det.delta_ - 1]).all()
    assert np.isfinite(s[500 + det.window_ + det.delta_:]).any()
    # a transition never spans two runs: a list fit has no transitions that cross
    glued = TransitionDetector(n_levels=5, delta=4, window=20).fit(X)
    assert sum(st.counts.sum() for st in det.normality_) < sum(
        st.counts.sum() for st in glued.normality_)


def test_streaming_alignment_is_offline_shifted_by_delta(small_plant) -> None:
    det = TransitionDetector(n_levels=6, delta=7, window=25).fit(small_plant)
    off = det.score_samples(small_plant)
    live = det.score_samples(small_plant, alignment="streaming")
    np.testing.assert_array_equal(live[7:], off[:-7])
    assert np.isnan(live[:7]).all()


@pytest.mark.parametrize("sensors", [3, 12])
def test_score_samples_is_the_frames_score_without_its_columns(sensors) -> None:
    """The relations view scores ``score_samples`` without the per-sensor values: the
    same numbers as ``residuals()["score"]``, offline and streaming, before and after
    taught statistics (and gaps)."""
    X = smooth_signals(3000, sensors, seed=sensors)
    det = TransitionDetector(view="relations").fit(X.iloc[:2000])
    test = X.iloc[2000:].copy()
    test.iloc[300:500] = test.iloc[300:500] * 1.5 + 0.3  # a new regime
    test.iloc[620:640] = np.nan  # a gap
    assert det.relations_.dyn_ is not None
    assert np.nanmax(det.score_samples(test)[300:500]) > det.threshold_
    for taught in (False, True):
        if taught:
            operator.feedback(det, test, 300, 500, "normal")
            assert det.relations_.with_taught_ is not None
        for how in ("offline", "streaming"):
            want = det.residuals(test, alignment=how)["score"].to_numpy()
            np.testing.assert_array_equal(det.score_samples(test, alignment=how), want)


@pytest.mark.parametrize("view", ["paper", "relations", "both"])
def test_residual_columns(small_plant, view) -> None:
    det = TransitionDetector(n_levels=6, delta=5, window=25, view=view).fit(small_plant)
    r = det.residuals(small_plant)
    paper = ["r_trans", "r_bound", "r_conf"] + [
        f"{k}[{s}]" for k in ("r_trans", "r_bound", "r_conf") for s in small_plant.columns]
    relations = (["r_rel"] + [f"r_rel[{s}]" for s in small_plant.columns] + ["r_dyn"]
                 + [f"r_dyn[{s}]" for s in small_plant.columns]
                 + [c for k in ("r_stuck", "r_noisy", "r_step")
                    for c in [k, *(f"{k}[{s}]" for s in small_plant.columns)]])
    expected = ["score"] + {"paper": paper, "relations": relations,
                            "both": paper + relations}[view]
    assert list(r.columns) == expected
    assert r.index.equals(small_plant.index)
    terms = []
    if view != "relations":
        np.testing.assert_allclose(
            r["r_bound"], r[[f"r_bound[{s}]" for s in small_plant]].mean(axis=1))
        terms.append(np.fmax.reduce([r["r_trans"] * det.window_ / det.reference_["trans"],
                                     r["r_bound"] / det.reference_["bound"],
                                     r["r_conf"] / det.reference_["conf"]]))
    if view != "paper":
        ref = det.reference_
        joint = np.fmax(r["r_rel"] / ref["rel"], r["r_dyn"] / ref["dyn"]) / ref["joint"]
        step = r["r_step"] / ref["step"]  # a limit: it raises the score only above 1
        terms.append(np.fmax.reduce([joint, r["r_stuck"] / ref["stuck"],
                                     r["r_noisy"] / ref["noisy"], step.where(step > 1)]))
    np.testing.assert_allclose(r["score"], np.fmax.reduce(terms), rtol=1e-12)


def test_nothing_of_the_training_data_is_kept(small_plant) -> None:
    det = TransitionDetector(n_levels=6, delta=5, window=25).fit(small_plant)
    kept = sum(int(st.n_conf.sum()) for st in det.normality_)
    taught = sum(int(st.counts.sum()) for st in det.normality_)
    assert kept < taught / 2  # the remover keeps representatives, not the samples
    for v in vars(det).values():
        assert not (isinstance(v, (np.ndarray, pd.DataFrame)) and len(v) == len(small_plant))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"n_levels": 1}, "n_levels"), ({"delta": 0}, "delta"), ({"eta": 1.5}, "eta"),
     ({"window": "big"}, "window"), ({"bound_quantiles": (0.9, 0.1)}, "bound_quantiles"),
     ({"nu": -1.0}, "nu"), ({"calibration_folds": 1}, "calibration_folds"),
     ({"max_configurations": 0}, "max_configurations"),
     # past what a model file may declare: the fit wrote a file load refused as damaged
     # (n_levels=1500), or failed in numpy's words (10**22: "Maximum allowed size exceeded")
     ({"n_levels": 1001}, "n_levels"), ({"n_levels": 10**22}, "n_levels"),
     ({"delta": 10**22}, "delta"), ({"window": 10**8}, "window")],
)
def test_bad_parameters_name_the_parameter(kwargs, word, small_plant) -> None:
    with pytest.raises(InputError, match=rf"'{word}' parameter of TransitionDetector.*Got"):
        TransitionDetector(**kwargs).fit(small_plant)


def test_bad_input_messages(small_plant) -> None:
    det = TransitionDetector(n_levels=5, delta=4, window=20)
    with pytest.raises(InputError, match="constant"):
        det.fit(small_plant.assign(s1=3.0))
    with pytest.raises(InputError, match="infinite"):
        det.fit(small_plant.assign(s1=np.r_[np.inf, small_plant.s1.iloc[1:]]))
    with pytest.raises(InputError, match="not numeric"):
        det.fit(small_plant.assign(s1=["x"] * len(small_plant)))
    with pytest.raises(InputError, match="too short"):
        det.fit(small_plant.iloc[:40])
    with pytest.raises(InputError, match="empty"):
        det.fit(small_plant.iloc[:0])
    with pytest.raises(InputError, match="no complete row"):
        det.fit(small_plant.assign(s1=np.nan))
    with pytest.raises(InputError, match="2-D"):
        det.fit(np.zeros((3, 3, 3)))
    det.fit(small_plant)
    with pytest.raises(InputError, match=r"lacks the model's sensor column\(s\) \['s2'\]"):
        det.score_samples(small_plant.drop(columns="s2"))
    with pytest.raises(InputError, match="columns but the model has 3 sensors"):
        det.score_samples(small_plant.to_numpy()[:, :2])
    with pytest.raises(InputError, match="too short to score"):
        det.score_samples(small_plant.iloc[:20])
    with pytest.raises(InputError, match="alignment"):
        det.score_samples(small_plant, alignment="live")  # type: ignore[arg-type]
    # extra columns are ignored when scoring
    extra = small_plant.assign(other=1.0)
    np.testing.assert_array_equal(det.score_samples(extra), det.score_samples(small_plant))


def test_columns_named_by_numbers_are_the_same_sensors_as_their_strings(small_plant) -> None:
    """``pd.DataFrame(array)`` names its columns 0, 1, ...: the model names them "0",
    "1", ... and scores the same frame, or one whose columns are those strings."""
    X = pd.DataFrame(small_plant.to_numpy())
    det = TransitionDetector(n_levels=6, delta=5, window=30).fit(X)
    assert det.sensors_ == ["0", "1", "2"]
    s = det.score_samples(X)
    np.testing.assert_array_equal(s, det.score_samples(X.set_axis(["0", "1", "2"], axis=1)))
    np.testing.assert_array_equal(s, det.score_samples(X.to_numpy()))
    with pytest.raises(InputError, match="duplicate column names"):
        det.fit(X.set_axis([0, "0", 1], axis=1))


@pytest.mark.slow
def test_lorenz_acceptance(lorenz) -> None:
    """Issue acceptance: default settings, paper protocol, no oracle threshold."""
    from sklearn.metrics import f1_score, roc_auc_score

    from normalcy.metrics import windowed

    train, test, labels = lorenz
    det = TransitionDetector().fit(train)
    ws, wl = windowed(det.score_samples(test), labels, window=100)
    assert roc_auc_score(wl, ws) >= 0.98
    assert f1_score(wl, ws > det.threshold_) >= 0.90
