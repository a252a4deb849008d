"""Distributed scoring equals one-process scoring: scores, alarms, every residual column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")

from normalcy import TransitionDetector  # noqa: E402
from normalcy.distributed.overlap import Context, plan, score_context  # noqa: E402
from normalcy.distributed.scoring import score_frame  # noqa: E402
from tests.conftest import smooth_signals  # noqa: E402


@pytest.fixture(scope="module")
def model() -> TransitionDetector:
    return TransitionDetector(n_levels=6, delta=8, window=40).fit(smooth_signals(3000, 3, seed=4))


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    """Fresh data with an anomaly, gaps (one row, a stretch shorter than a score needs)
    and a run label that changes twice."""
    X = smooth_signals(2600, 3, seed=5)
    X.iloc[700:900, 1] += 1.5
    X.iloc[1200] = np.nan
    X.iloc[1500:1510, 0] = np.nan
    X.iloc[1530:1560] = np.nan  # leaves a 20-row stretch between gaps: no score
    X["run"] = np.repeat([0, 1, 2], [1000, 900, 700])
    X.index = pd.RangeIndex(100, 100 + len(X))
    return X


def _local(det: TransitionDetector, X: pd.DataFrame, alignment: str, runs: bool) -> pd.DataFrame:
    sensors = list(det.sensors_)
    if not runs:
        return det.residuals(X[sensors], alignment=alignment)
    return det.residuals([g[sensors] for _, g in X.groupby("run", sort=False)],
                         alignment=alignment)


def _same(got: pd.DataFrame, want: pd.DataFrame, threshold: float) -> None:
    assert list(got.columns) == list(want.columns)
    g, w = got.to_numpy(dtype=float), want.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(g), np.isnan(w))
    np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    alarm = np.nan_to_num(g[:, 0], nan=-np.inf) > threshold
    assert np.array_equal(alarm, np.nan_to_num(w[:, 0], nan=-np.inf) > threshold)


@pytest.mark.parametrize("alignment", ["offline", "streaming"])
@pytest.mark.parametrize("runs", [False, True])
@pytest.mark.parametrize("npartitions", [3, 130])  # 130: 20 rows, below the window
def test_equals_one_process(model: Any, series: pd.DataFrame, alignment: str, runs: bool,
                            npartitions: int) -> None:
    want = _local(model, series, alignment, runs)
    data = dd.from_pandas(series, npartitions=npartitions, sort=False)
    got = score_frame(model, data, alignment=alignment,
                      run_column="run" if runs else None).compute(scheduler="sync")
    assert got.index.equals(series.index)
    _same(got, want, model.threshold_)
    assert np.isfinite(want["score"]).sum() > 2000  # most rows scored, some not
    assert np.isnan(want["score"]).sum() > 100


@pytest.mark.parametrize("alignment", ["offline", "streaming"])
@pytest.mark.parametrize("block_rows", [17, 301])  # 17: blocks shorter than the context
def test_blocks_inside_a_partition(model: Any, series: pd.DataFrame, alignment: str,
                                   block_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A partition scored a block of rows at a time equals the whole series in one go."""
    import normalcy.distributed.overlap as overlap

    monkeypatch.setattr(overlap, "BLOCK_ROWS", block_rows)
    want = _local(model, series, alignment, True)
    data = dd.from_pandas(series, npartitions=2, sort=False)
    got = score_frame(model, data, alignment=alignment,
                      run_column="run").compute(scheduler="sync")
    assert got.index.equals(series.index)
    _same(got, want, model.threshold_)


def test_on_the_cluster(model: Any, series: pd.DataFrame, client: Any) -> None:
    """Tasks on 2 worker processes, partitions of uneven length."""
    pieces = [series.iloc[a:b] for a, b in zip([0, 5, 50, 51, 900, 1700],
                                               [5, 50, 51, 900, 1700, len(series)], strict=True)]
    data = dd.from_delayed([__import__("dask").delayed(p) for p in pieces], meta=series.iloc[:0])
    got = client.compute(score_frame(model, data, run_column="run")).result()
    _same(got, _local(model, series, "offline", True), model.threshold_)


@pytest.mark.parametrize("alignment", ["offline", "streaming"])
def test_overlap_is_exactly_enough(model: Any, series: pd.DataFrame, alignment: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """One borrowed row fewer on either side changes a score: the context is minimal."""
    import normalcy.distributed.scoring as scoring

    want = _local(model, series, alignment, False)
    full = score_context(model, alignment)
    data = dd.from_pandas(series, npartitions=13, sort=False)
    for short in (Context(full.before - 1, full.after), Context(full.before, full.after - 1)):
        if short.after < 0:
            continue
        monkeypatch.setattr(scoring, "score_context", lambda *a, s=short: s)
        got = score_frame(model, data, alignment=alignment).compute(scheduler="sync")
        assert not np.array_equal(np.isnan(got["score"]), np.isnan(want["score"]))


def test_plan_covers_short_partitions() -> None:
    """Partition 2 (row 3) borrows rows 0-2 from two partitions and 2 rows of the next."""
    pieces, a, b = plan([2, 1, 1, 6], Context(3, 2))[2]
    assert [(p.part, p.start, p.stop) for p in pieces] == [(0, 0, 2), (1, 0, 1), (2, 0, 1),
                                                           (3, 0, 2)]
    assert (a, b) == (3, 4)
    pieces, a, b = plan([2, 1, 1, 6], Context(2, 0))[3]
    assert [(p.part, p.start, p.stop) for p in pieces] == [(1, 0, 1), (2, 0, 1), (3, 0, 6)]
    assert (a, b) == (2, 8)


def test_missing_sensor_is_a_clear_error(model: Any, series: pd.DataFrame) -> None:
    from normalcy.exceptions import InputError

    with pytest.raises(InputError, match="lacks column"):
        score_frame(model, dd.from_pandas(series.drop(columns="s1"), npartitions=2))


@pytest.fixture(scope="module")
def timed_model() -> TransitionDetector:
    X = smooth_signals(3000, 3, seed=4)
    X.index = pd.date_range("2026-01-01", periods=len(X), freq="s")
    return TransitionDetector(n_levels=6, delta=8, window=40).fit(X)


def _timed(n: int, seed: int, every: str = "s") -> pd.DataFrame:
    X = smooth_signals(n, 3, seed=seed)
    X.index = pd.date_range("2026-01-02", periods=n, freq=every)
    return X


def test_a_time_index_is_cut_at_its_gaps_on_the_cluster(timed_model: Any, client: Any) -> None:
    """A 2000 s outage, then a restart at another level: residuals cuts the runs there,
    and so does score_frame (row for row, on a real LocalCluster)."""
    X = _timed(6000, 5)
    X = pd.concat([X.iloc[:2500], X.iloc[4500:].assign(s1=lambda d: d.s1 + 0.8)])
    want = timed_model.residuals(X)
    got = score_frame(timed_model, dd.from_pandas(X, npartitions=7)).compute()
    assert (got.index == X.index).all()
    _same(got, want, timed_model.threshold_)
    assert want["score"].iloc[2500:2500 + 46].isna().all()  # a new run: no window yet


@pytest.mark.parametrize("how, needle", [
    ("slow", "sampled every 2 s"),
    ("repeated", "does not increase"),
    ("back", "does not increase"),
])
def test_a_time_index_is_refused_as_residuals_refuses_it(timed_model: Any, client: Any,
                                                         how: str, needle: str) -> None:
    from normalcy.exceptions import InputError

    X = _timed(1500, 6, every="2s" if how == "slow" else "s")
    if how == "repeated":
        X.index = X.index[:700].append(X.index[699:1499])
    if how == "back":
        X = pd.concat([X.iloc[:800], X.iloc[700:750]])
    with pytest.raises(InputError, match=needle):
        timed_model.residuals(X)
    with pytest.raises(InputError, match=needle):
        score_frame(timed_model, dd.from_pandas(X, npartitions=5))
