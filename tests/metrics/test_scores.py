"""Metrics: ranking, own-alarm scores, events, the window protocol, NaN policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score, roc_auc_score

from normalcy.exceptions import InputError
from normalcy.metrics import (
    AlarmF1,
    AlarmPrecision,
    AlarmRecall,
    MaxSmoothed,
    Metric,
    OracleF1,
    PartialRocAUC,
    RocAUC,
    Windowed,
    alarm_report,
    best_f1,
    detection_delays,
    episodes,
    false_alarms_per_hour,
    max_smooth,
    partial_roc_auc,
    roc_auc,
    windowed,
)

NAN = float("nan")


@pytest.fixture
def ranked() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    s = rng.normal(size=500) + 1.2 * y
    return y, s


# ------------------------------------------------------------------- ranking


def test_roc_auc_is_sklearns(ranked: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = ranked
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_partial_auc_standardisation_ends() -> None:
    y = np.r_[np.zeros(50), np.ones(50)]
    assert partial_roc_auc(y, np.r_[np.zeros(50), np.ones(50)]) == pytest.approx(1.0)
    # constant scores: the ROC is the diagonal, standardised to random = 0.5
    assert partial_roc_auc(y, np.ones(100)) == pytest.approx(0.5)
    assert roc_auc(y, np.ones(100)) == pytest.approx(0.5)


def test_partial_auc_matches_mcclish_by_hand() -> None:
    # 4 negatives, 2 positives; one negative outranks one positive
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.95])
    # ROC: (0, .5) -> (.25, .5) -> (.25, 1) -> (1, 1); area up to FPR 0.2 is 0.2 * 0.5
    area, fpr = 0.2 * 0.5, 0.2
    expected = 0.5 * (1 + (area - fpr**2 / 2) / (fpr - fpr**2 / 2))
    assert partial_roc_auc(y, s, max_fpr=fpr) == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), min_size=2, max_size=40))
def test_best_f1_is_the_best_threshold(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([int(a) for a, _ in pairs])
    s = np.array([float(b) for _, b in pairs])
    if y.min() == y.max():
        return
    brute = max(f1_score(y, (s >= t).astype(int)) for t in np.unique(s))
    f1, threshold = best_f1(y, s)
    assert f1 == pytest.approx(brute)
    assert f1_score(y, (s >= threshold).astype(int)) == pytest.approx(f1)


def test_nan_policy(ranked: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = ranked
    s = s.copy()
    s[:40] = NAN
    low = np.where(np.isnan(s), np.nanmin(s) - 10, s)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, low))
    assert roc_auc(y, s, nan_policy="drop") == pytest.approx(roc_auc_score(y[40:], s[40:]))
    with pytest.raises(InputError, match="NaN"):
        roc_auc(y, s, nan_policy="raise")
    with pytest.raises(InputError, match="nan_policy"):
        roc_auc(y, s, nan_policy="zero")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="every value"):
        roc_auc(y, np.full(y.size, NAN))


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "both normal"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "only 0"),
        ([0, 1, 1], [0.1, 0.2], "one score per sample"),
        ([0, 1, 1], [0.1, float("inf"), 0.3], "infinite"),
        ([[0, 1], [1, 0]], [0.1, 0.2, 0.3, 0.4], "1-D"),
    ],
)
def test_ranking_input_errors(y: list, s: list, match: str) -> None:
    with pytest.raises(InputError, match=match):
        roc_auc(y, s)


def test_partial_auc_rejects_bad_fpr() -> None:
    with pytest.raises(InputError, match="max_fpr"):
        partial_roc_auc([0, 1], [0.1, 0.2], max_fpr=0.0)


# -------------------------------------------------------------------- alarms


def test_alarm_report_by_hand() -> None:
    y = [0, 0, 0, 1, 1, 1, 1, 0]
    a = [0, 1, 0, 1, 1, 0, 0, 0]
    r = alarm_report(y, a)  # TP 2, FP 1, FN 2, TN 3
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(4 / 7)
    assert r["false_alarm_rate"] == pytest.approx(0.25)
    assert r["missed_alarm_rate"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(f1_score(y, a))


def test_alarm_report_with_no_alarm_is_zero_not_nan() -> None:
    r = alarm_report([0, 1, 1], [0, 0, 0])
    assert (r["precision"], r["recall"], r["f1"]) == (0.0, 0.0, 0.0)


def test_alarms_must_be_binary() -> None:
    with pytest.raises(InputError, match="alarms"):
        alarm_report([0, 1], [0.0, NAN])
    with pytest.raises(InputError, match="one 0/1 alarm"):
        alarm_report([0, 1], [0, 1, 1])


# -------------------------------------------------------------------- events


def test_episodes() -> None:
    assert episodes([1, 1, 0, 1]).tolist() == [[0, 2], [3, 4]]
    assert episodes([0, 0]).shape == (0, 2)


def test_detection_delays() -> None:
    y = [0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1]
    a = [1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    d = detection_delays(y, a, sampling_period=0.02)
    assert d["start"].tolist() == [1, 6, 9]
    assert d["detected"].tolist() == [True, False, True]
    np.testing.assert_allclose(d["delay_samples"], [0.0, NAN, 1.0])
    np.testing.assert_allclose(d["delay_s"], [0.0, NAN, 0.02])


def test_detection_delays_without_episodes_is_empty() -> None:
    d = detection_delays([0, 0, 0], [1, 0, 0])
    assert len(d) == 0 and "delay_s" in d.columns


def test_false_alarms_per_hour_counts_episodes_on_healthy_samples() -> None:
    # 1 sample = 1 minute; 6 healthy minutes = 0.1 h
    y = [0, 0, 0, 0, 0, 0, 1, 1]
    a = [1, 1, 0, 1, 0, 0, 1, 1]  # two false alarm episodes, one true alarm
    assert false_alarms_per_hour(y, a, sampling_period=60.0) == pytest.approx(20.0)
    # an alarm episode that starts inside a fault is not a false alarm
    assert false_alarms_per_hour([0, 1, 1, 0], [0, 1, 1, 1], sampling_period=60.0) == 0.0


def test_false_alarms_per_hour_errors() -> None:
    with pytest.raises(InputError, match="healthy"):
        false_alarms_per_hour([1, 1], [0, 1], sampling_period=1.0)
    with pytest.raises(InputError, match="sampling_period"):
        false_alarms_per_hour([0, 1], [0, 1], sampling_period=-1.0)


# ------------------------------------------------------------------- windows


def test_windowed_protocol() -> None:
    s = [0.1, NAN, 0.3, NAN, NAN, NAN, 2.0, 0.5, NAN, 7.0]
    y = [0, 0, 1, 1, 1, 1, 0, 0, 1, 1]
    ws, wy = windowed(s, y, window=3)
    # windows [0.1, nan, 0.3] -> 0.3 (last label 1); all-NaN window dropped;
    # [2.0, 0.5, nan] -> 2.0 (last label 1); the trailing partial window is dropped
    assert ws.tolist() == [0.3, 2.0]
    assert wy.tolist() == [1, 1]


def test_windowed_errors() -> None:
    with pytest.raises(InputError, match="fewer than one window"):
        windowed([0.1, 0.2], [0, 1], window=3)
    with pytest.raises(InputError, match="window"):
        windowed([0.1, 0.2], [0, 1], window=0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.floats(-5, 5), st.just(NAN)), min_size=1, max_size=60),
    st.integers(1, 8),
)
def test_max_smooth_is_a_trailing_nan_ignoring_max(values: list[float], length: int) -> None:
    got = max_smooth(values, length)
    for t in range(len(values)):
        stretch = [v for v in values[max(0, t - length + 1): t + 1] if not np.isnan(v)]
        if stretch:
            assert got[t] == max(stretch)
        else:
            assert np.isnan(got[t])


# ------------------------------------------------------------------- objects


def test_metric_objects_have_names_and_agree_with_functions(
    ranked: tuple[np.ndarray, np.ndarray],
) -> None:
    y, s = ranked
    alarms = (s > 1.0).astype(int)
    cases: list[tuple[Metric, float]] = [
        (RocAUC(), roc_auc(y, s)),
        (PartialRocAUC(max_fpr=0.1), partial_roc_auc(y, s, max_fpr=0.1)),
        (OracleF1(), best_f1(y, s)[0]),
        (AlarmF1(), alarm_report(y, alarms)["f1"]),
        (AlarmPrecision(), alarm_report(y, alarms)["precision"]),
        (AlarmRecall(), alarm_report(y, alarms)["recall"]),
    ]
    names = set()
    for metric, expected in cases:
        score = s if not metric.name.endswith("alarm rule)") else alarms
        assert metric(y, score) == pytest.approx(expected)
        assert isinstance(metric.name, str) and metric.name
        names.add(metric.name)
    assert len(names) == len(cases)
    assert "oracle" in OracleF1().name and "own alarm" in AlarmF1().name


def test_windowed_and_smoothed_metrics_compose(ranked: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = ranked
    ws, wy = windowed(s, y, window=10)
    assert Windowed(RocAUC(), window=10)(y, s) == pytest.approx(roc_auc(wy, ws))
    sm = MaxSmoothed(RocAUC(), length=5)
    assert sm(y, s) == pytest.approx(roc_auc(y, max_smooth(s, 5)))
    assert "5" in sm.name and "10" in Windowed(RocAUC(), window=10).name
