"""The plant's dynamics in the relations view: exact statistics, the conditional residual
of the present given the previous state, and its place in the score, the model file,
feedback and merge."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from normalcy import ModelFileError, TransitionDetector, load, merge, operator, save
from normalcy.alarms import AlarmPolicy
from normalcy.cli.common import view_said
from normalcy.detector import dynamics, learning, scoring
from normalcy.detector.extended import extended_vectors
from normalcy.detector.relation_stats import RelationStats
from normalcy.detector.relations import RelationsView
from normalcy.exceptions import InputError
from normalcy.io.model_file import read_model_file, write_model_file
from tests.conftest import smooth_signals


def lead_lag(n: int, seed: int) -> np.ndarray:
    """Sensor 1 follows sensor 0 one sample late; sensor 2 is slow noise."""
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.normal(size=n + 1)) * 0.1 + np.sin(np.arange(n + 1) / 15.0)
    b = a[:-1] + 0.01 * rng.normal(size=n)
    c = np.convolve(rng.normal(size=n + 50), np.ones(50) / 50.0, mode="valid")[:n]
    return np.c_[a[1:], b, c]


def test_statistics_are_those_of_the_vectors_in_any_chunks() -> None:
    x = np.random.default_rng(0).normal(size=(900, 4))
    rows = np.arange(1, 900)
    want = RelationStats.of(np.c_[x[rows], x[rows - 1]], np.zeros(rows.size, np.int64),
                            n_levels=5, granularity="global", weight=2.0)
    for budget in (2e7, 500.0):
        got = dynamics.stats(dynamics.vectors(x, rows), n_levels=5, weight=2.0,
                             budget=budget)
        np.testing.assert_allclose(got.outer, want.outer, rtol=1e-12)
        np.testing.assert_allclose(got.total, want.total, rtol=1e-12)
        assert got.count.sum() == 2.0 * rows.size
    np.testing.assert_allclose(dynamics.of_rows(x, rows, n_levels=5).outer,
                               RelationStats.of(np.c_[x[rows], x[rows - 1]],
                                                np.zeros(rows.size, np.int64), n_levels=5,
                                                granularity="global").outer, rtol=1e-12)


def test_an_operators_payload_gives_the_same_vectors_as_the_data() -> None:
    """A "normal" verdict keeps extended vectors per sensor, not the data: the dynamics
    vectors are rebuilt from them exactly."""
    x = np.random.default_rng(1).normal(size=(300, 3))
    rows = np.arange(10, 290)
    payload = [extended_vectors(x, rows, i, 5) for i in range(3)]
    np.testing.assert_array_equal(dynamics.from_viewpoints(payload), dynamics.vectors(x, rows))


def test_residual_is_the_conditional_mahalanobis_distance_of_the_present() -> None:
    x = lead_lag(3000, 2)
    rows = np.arange(1, 3000)
    st = dynamics.of_rows(x, rows, n_levels=4)
    got = dynamics.score(dynamics.tables(st, 0.0), x, rows[:50])
    v = np.c_[x[rows], x[rows - 1]]
    mu, S = v.mean(axis=0), np.cov(v.T, bias=True)
    B = S[:3, 3:] @ np.linalg.inv(S[3:, 3:])
    C = S[:3, :3] - B @ S[3:, :3]
    r = (v[:50, :3] - mu[:3]) - (v[:50, 3:] - mu[3:]) @ B.T
    want = np.einsum("ij,jk,ik->i", r, np.linalg.inv(C), r) / 3
    np.testing.assert_allclose(got, want, rtol=1e-4)  # the variance floor of the tables


def test_a_broken_lead_lag_relation_raises_r_dyn_and_the_score() -> None:
    X = lead_lag(6000, 3)
    det = TransitionDetector(view="relations").fit(X[:4000])
    assert det.relations_.dyn_ is not None and det.reference_["dyn"] > 0
    test = X[4000:].copy()
    test[1000:1400, 1] = test[1000:1400, 0]  # follows now without its lag
    res = det.residuals(test)
    healthy, broken = res.iloc[200:900], res.iloc[1100:1400]
    assert broken["r_dyn"].min() > 3 * healthy["r_dyn"].max()
    assert (broken["score"] > det.threshold_).mean() > 0.9
    # a 99 % level of autocorrelated held-out windows: one excursion of a window's
    # length is 5 % of these 700 rows
    assert (healthy["score"] > det.threshold_).mean() < 0.1
    ref = det.reference_
    assert 1.0 <= ref["joint"] < 1.5  # the two terms are rarely high together
    want = np.fmax(res["r_rel"] / ref["rel"], res["r_dyn"] / ref["dyn"]) / ref["joint"]
    step = (res["r_step"] / ref["step"]).to_numpy()  # a step raises it (detector/steps.py)
    want = np.where(np.isnan(want), np.nan, np.fmax(want, np.where(step > 1, step, np.nan)))
    np.testing.assert_array_equal(res["score"], want)
    # the follower jumps to its leader, further than healthy rows ever moved it, and on
    assert (step[1000:1400] > 1).mean() > 0.9 and (step[200:900] <= 1).all()


@pytest.fixture(scope="module")
def fitted():
    X = smooth_signals(4000, 3, seed=41)
    train, test = X.iloc[:2400].reset_index(drop=True), X.iloc[2400:].reset_index(drop=True)
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=40, view="relations"),
                       train)
    return det, train, test


def test_feedback_teaches_the_dynamics_and_undo_removes_it(fitted) -> None:
    det, _, test = copy.deepcopy(fitted[0]), fitted[1], fitted[2]
    moved = test.copy()
    moved.iloc[300:700] = moved.iloc[300:700] * 1.8 + 0.5  # a regime never seen
    before = det.residuals(moved)
    operator.feedback(det, moved, 300, 700, "normal", by="ana")
    view = det.relations_
    assert view.dyn_taught_ is not None and view.dyn_taught_.count.sum() > 0
    after = det.residuals(moved)
    assert after["r_dyn"].iloc[340:700].max() < before["r_dyn"].iloc[340:700].max()
    ok = before["r_dyn"].notna()
    assert (after["r_dyn"][ok] <= before["r_dyn"][ok] + 1e-12).all()  # raises nothing
    # each sensor's innovations come from the model that explains the row's dynamics
    per = [f"r_dyn[{s}]" for s in det.sensors_]
    assert (after[per].iloc[340:700].max() < before[per].iloc[340:700].max()).all()
    operator.undo(det)
    back = det.residuals(moved)
    np.testing.assert_array_equal(back["r_dyn"], before["r_dyn"])
    np.testing.assert_array_equal(back[per].to_numpy(), before[per].to_numpy())


def test_the_model_file_keeps_the_dynamics_and_refuses_crafted_ones(fitted,
                                                                     tmp_path) -> None:
    det, _, test = copy.deepcopy(fitted[0]), fitted[1], fitted[2]
    operator.feedback(det, test, 300, 700, "normal")
    path = tmp_path / "m.normalcy"
    save(det, path)
    np.testing.assert_array_equal(load(path).score_samples(test), det.score_samples(test))
    header, arrays = read_model_file(path)
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "library_version")}
    assert header["relations"]["dyn"] is True
    for key, bad in (("relations.dyn.outer", lambda a: a[:, :-1]),
                     ("relations.dyn.total", lambda a: a * np.nan),
                     ("relations.dyn.count", lambda a: -a)):
        edited = dict(arrays)
        edited[key] = bad(arrays[key])
        write_model_file(tmp_path / "bad", header, edited)
        with pytest.raises(ModelFileError):
            load(tmp_path / "bad")


def test_merge_adds_the_dynamics_and_refuses_a_model_without_them(fitted) -> None:
    a, train, test = fitted
    b = operator.fit_like(a, test)
    m = merge(a, b)
    np.testing.assert_allclose(m.relations_.dyn_.outer,
                               a.relations_.dyn_.outer + b.relations_.dyn_.outer, rtol=1e-12)
    older = copy.deepcopy(b)
    older.relations_.dyn_ = None
    with pytest.raises(InputError, match="dynamics"):
        a.relations_.merge(older.relations_)


def test_auto_leaves_the_dynamics_out_where_only_they_do_not_travel(monkeypatch) -> None:
    """view="auto": the self-check's later windows in alarm with the dynamics term
    (more than 5 %) and without it (none): the relations view without the term."""
    def term(e, e_dyn, window, reference):  # as if only the dynamics term did not travel
        out = scoring.term_of(e, e_dyn, window, {"rel": reference["rel"]}) * 0.0
        return out + (2.0 if "dyn" in reference else 0.5)

    monkeypatch.setattr(learning, "term_of", term)
    X = smooth_signals(4000, 3, seed=43)
    det = TransitionDetector().fit(X)
    assert det.view_ == "relations" and det.view_check_ == 0.0
    assert det.relations_.dyn_ is None and det.relations_.dynamics is False
    assert "dynamics term it put more than 5 %" in view_said(det)
    assert "rel" in det.reference_ and "dyn" not in det.reference_
    monkeypatch.undo()
    kept = TransitionDetector().fit(X)  # it travels here: kept
    assert kept.view_ == "relations" and kept.relations_.dyn_ is not None
    assert "dynamics" not in view_said(kept)
    like = TransitionDetector().fit(X.iloc[:3000], like=det)  # fit(like=...) keeps it out
    assert like.relations_.dyn_ is None
    merge(det, like)
    with pytest.raises(InputError, match="dynamics"):
        merge(det, kept)


def test_a_model_file_without_the_term_refuses_dynamics_arrays(fitted, tmp_path) -> None:
    det = fitted[0]
    path = tmp_path / "m.normalcy"
    save(det, path)
    header, arrays = read_model_file(path)
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "library_version")}
    for params in ({"dynamics": False}, {"dynamics": "yes"}):
        edited = copy.deepcopy(header)
        edited["relations"]["params"].update(params)
        write_model_file(tmp_path / "bad", edited, arrays)
        with pytest.raises(ModelFileError):
            load(tmp_path / "bad")
    with pytest.raises(InputError, match="dynamics"):
        RelationsView(dynamics="yes").fit(np.zeros((50, 2)), np.zeros((50, 2), int),
                                          np.arange(10, 40), delta=3, n_levels=2)


def test_an_alarm_of_the_dynamics_term_is_explained_in_units() -> None:
    """A relation broken in time only (the follower loses its lag): the explanation
    says the plant moved unlike its dynamics and names the follower, in its units."""
    X = lead_lag(6000, 3) * np.array([1.0, 20.0, 1.0])
    det = TransitionDetector(view="relations").fit(X[:4000])
    test = X[4000:].copy()
    test[1000:1400, 1] = test[1000:1400, 0] * 20.0
    ex = operator.explain(det, test, 1100, 1400, top=10)
    dyn = ex.records[ex.records["type"] == "dyn"]
    assert len(dyn) == 1 and dyn["sensor"].iloc[0] == det.sensors_[1]
    text = dyn["text"].iloc[0]
    assert text.startswith("the plant moved unlike its learned dynamics")
    moved = float(text.split(f"`{det.sensors_[1]}` by ±")[1].split()[0])
    usual = float(text.split("(usually ±")[1].split(")")[0])
    assert moved > 5 * usual  # in the follower's units (x20)
    quiet = operator.explain(det, test, 200, 800, top=10)
    assert (quiet.records["type"] != "dyn").all()  # a healthy range: no such finding


def test_an_episode_the_dynamics_term_drives_is_of_kind_dyn() -> None:
    """The alarm policy names the dominant term: ``dyn`` for a relation broken in time
    only, and the sensor that left the plant's dynamics by its own innovation
    (``r_dyn[s]``: the follower, whose value the leader's past no longer predicts)."""
    X = lead_lag(6000, 3)
    det = TransitionDetector(view="relations").fit(X[:4000])
    test = X[4000:].copy()
    test[1000:1400, 1] = test[1000:1400, 0]
    res = det.residuals(test)
    # it jumps further than healthy rows moved it (detector/steps.py): the step names the
    # follower, and types the episode only where its sum leads, as every term
    jumps = AlarmPolicy(merge_gap=det.window_).episodes(res, det)
    first = jumps[(jumps["start"] < 1400) & (jumps["end"] > 1000)].iloc[0]
    rows = slice(int(first["start"]), int(first["end"]) + 1)
    sums = {k: (res[f"r_{k}"].iloc[rows] / det.reference_[k]).sum()
            for k in ("rel", "dyn", "step")}
    assert first["kind"] == max(sums, key=sums.get)
    assert first["sensors"].split(",")[0] == det.sensors_[1]
    # without those columns, the terms that lead it
    res = res.drop(columns=[c for c in res.columns if c.startswith("r_step")])
    eps = AlarmPolicy(merge_gap=det.window_).episodes(res, det)
    broken = eps[(eps["start"] < 1400) & (eps["end"] > 1000)]
    assert len(broken) >= 1
    ref = det.reference_
    top = broken.iloc[0]
    rows = slice(int(top["start"]), int(top["end"]) + 1)
    dyn_led = (res["r_dyn"].iloc[rows] / ref["dyn"]).sum() > (
        res["r_rel"].iloc[rows] / ref["rel"]).sum()
    assert (top["kind"] == "dyn") == bool(dyn_led) and dyn_led
    assert top["sensors"].split(",")[0] == det.sensors_[1]
    per = res[[f"r_dyn[{s}]" for s in det.sensors_]].iloc[rows].mean()
    assert per.idxmax() == f"r_dyn[{det.sensors_[1]}]"
    healthy = res[[f"r_dyn[{s}]" for s in det.sensors_]].iloc[200:800].mean()
    assert per.max() > 3 * healthy.max()
