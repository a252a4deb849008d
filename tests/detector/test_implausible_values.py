"""A wrong reading in the healthy history (a typo, a historian's fill value, epoch
milliseconds) is refused by the fit, in words; real excursions are not
(:func:`normalcy.detector.scaling.fit_robust_scale`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, TransitionDetector
from normalcy.detector.scaling import fit_robust_scale
from tests.conftest import smooth_signals


@pytest.mark.parametrize("value", [1e6, -9999.0])
def test_a_wrong_reading_in_the_history_is_refused(value) -> None:
    X = smooth_signals(3000, 3, seed=4) * [1.0, 5.0, 20.0] + [0.0, 50.0, 400.0]
    X.iloc[1234, 1] = value
    with pytest.raises(InputError, match=r"sensor 's1' reads .* at row 1234, where 98 % of "
                                         r"its healthy readings lie within .*leave the cells "
                                         r"empty \(a gap\)"):
        TransitionDetector().fit(X)
    X.iloc[1234, 1] = np.nan  # blanked: a gap, and the fit goes on
    assert TransitionDetector().fit(X).sensors_ == ["s0", "s1", "s2"]


def test_a_real_start_up_and_a_quasi_discrete_sensor_are_kept() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    level = 50.0 + rng.normal(0.0, 0.5, n)
    level[:100] = np.linspace(0.0, 50.0, 100)  # a start-up from empty: 2.5 % of the rows
    burst = np.zeros(n)
    burst[rng.choice(n, 20, replace=False)] = 500.0  # mostly 0: its central range is 0
    X = pd.DataFrame({"level": level, "flow": 5.0 + rng.normal(0.0, 0.1, n),
                      "burst": burst + rng.normal(0.0, 1e-3, n) * (burst > 0)})
    assert TransitionDetector().fit(X).sensors_ == ["level", "flow", "burst"]


def _walks(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n, 3)), axis=0) * [1.0, 0.2, 3.0] + [0.0, 40.0, -5.0]
    return pd.DataFrame(x, columns=["a", "b", "c"])


def _levels(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = np.repeat(rng.uniform(10.0, 12.0, size=(n // 200 + 1, 2)), 200, axis=0)[:n]
    return pd.DataFrame(base + 0.05 * rng.normal(size=base.shape), columns=["T", "P"])


SHAPES = {"smooth": lambda n: smooth_signals(n, 3, seed=5) * [2.0, 1.0, 0.5] + 60.0,
          "walks": lambda n: _walks(n, 6), "levels": lambda n: _levels(n, 7)}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("ranges", [5.0, 20.0, 50.0])
def test_a_few_glitches_that_would_blind_the_fit_are_refused_with_the_fix(shape, ranges) -> None:
    """Five readings of one sensor a few ranges out blinded the model (``OUTLIER_RANGES``'s
    table: 20-range spikes left 0-6 % of a bias's rows in alarm where a clean fit had
    90-100 %) and passed in silence under the old limit of 100 ranges."""
    X = SHAPES[shape](4000)
    col = X.columns[1]
    v = X[col].to_numpy()
    span = np.percentile(v, 99) - np.percentile(v, 1)
    rows = [311, 1500, 1501, 2890, 3777]
    X.iloc[rows, 1] += ranges * span
    with pytest.raises(InputError) as e:
        TransitionDetector().fit(X)
    said = str(e.value)
    assert f"sensor {col!r} reads {X[col].iloc[311]:.6g} at row 311, " in said
    assert "at row 1500, " in said and "and 2 more" in said and "blind the model" in said
    fix = re.search(r"e\.g\. (X\.loc\[.*\] = np\.nan)\.", said)
    assert fix is not None, said
    exec(fix.group(1), {"X": X, "np": np})  # the fix as said: exactly those cells blanked
    assert np.flatnonzero(X[col].isna()).tolist() == rows
    assert TransitionDetector().fit(X).sensors_ == list(X.columns)


def test_the_healthy_histories_we_have_are_not_refused() -> None:
    """The data sets' healthy histories reach at most 2.4 central ranges from the median
    (``tests/detector/bench_outlier_healthy.py``; SKAB when the shared folder is there)."""
    from normalcy import datasets as ds

    histories = [f().train for f in (ds.load_quadtank, ds.load_cstr, ds.load_buffer,
                                     ds.load_process)]
    histories.append(ds.load_lorenz(sensors=["x1", "x2", "x3"])[0])
    skab = Path(__file__).resolve().parents[3] / "shared" / "data" / "skab"
    if skab.is_dir():
        histories.append(ds.load_skab_anomaly_free(str(skab)))
        histories += [e.data.iloc[:400] for e in ds.load_skab(str(skab))]
    for X in histories:
        center, scale = fit_robust_scale(X.to_numpy(np.float64), list(X.columns))
        assert np.isfinite(center).all() and (scale > 0).all()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_stretch_the_plant_spent_far_out_is_kept_and_a_fill_value_is_not(shape) -> None:
    """A shutdown's zero flow, under 1 % of a long history, lies several central ranges
    from the running flow: the plant spent rows there (at least ``REGIME_ROWS``), so it
    is learned, not refused. A fill value written over as many rows is still refused
    (past ``FILL_RANGES``)."""
    from normalcy.detector.scaling import FILL_RANGES, OUTLIER_RANGES, REGIME_ROWS

    X = SHAPES[shape](12000)
    col = X.columns[0]
    v = X[col].to_numpy()
    span = np.percentile(v, 99) - np.percentile(v, 1)
    stop = slice(6000, 6000 + REGIME_ROWS + 30)  # 80 rows, 0.7 % of the history
    down = X.copy()
    down.iloc[stop, 0] = np.median(v) - 2 * OUTLIER_RANGES * span  # far out, a while
    assert TransitionDetector().fit(down).sensors_ == list(X.columns)
    fill = X.copy()
    fill.iloc[stop, 0] = np.median(v) - 2 * FILL_RANGES * span  # a fill value, as long
    with pytest.raises(InputError, match=rf"sensor {col!r} reads .* at row 6000, .*and 77 "
                                         r"more"):
        TransitionDetector().fit(fill)
