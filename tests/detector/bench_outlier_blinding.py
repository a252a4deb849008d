"""How a few spikes in a healthy history blind the detector: 5 readings of one sensor
raised by k times its central range (p1 to p99) in the history it is fitted on, then a
bias of 1/8 of that range on the same sensor over 1000 rows of healthy data it did not
see. Printed per plant and k: the spiked history's reach (the largest |value - median|
/ (p99 - p1), what ``scaling.OUTLIER_RANGES`` bounds), the share of biased rows in
alarm, and of the other (healthy) rows. The measurement behind ``OUTLIER_RANGES``,
with ``bench_outlier_healthy.py`` (how far healthy histories reach).

Run: .venv/bin/python tests/detector/bench_outlier_blinding.py [plant,plant] [k ...]
"""

from __future__ import annotations

import sys
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from normalcy import TransitionDetector
from normalcy import datasets as ds
from normalcy.detector import scaling

SPIKES = 5
#: the sensor whose bias the clean fit catches best (quadtank h4 90 %, cstr Fj 99.6 %;
#: no buffer sensor's 1/8-range bias is caught by a clean fit, so buffer shows nothing)
CAUGHT = {"quadtank": "h4", "cstr": "Fj"}
BIAS = 1 / 8
FAULT = slice(2000, 3000)


def user_plant(n: int = 40000, ns: int = 4, seed: int = 0) -> pd.DataFrame:
    """The user report's plant (a shared slow driver, lags, sines, noise of 0.05)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    drv = pd.Series(np.cumsum(rng.normal(0, 0.05, n))).ewm(span=50).mean().to_numpy()
    cols = {f"s{s:02d}": (1 + 0.3 * s) * np.roll(drv, s % 5)
            + 0.5 * np.sin(2 * np.pi * t / (300 + 37 * s)) + rng.normal(0, 0.05, n) + 10 * s
            for s in range(ns)}
    return pd.DataFrame(cols, index=pd.date_range("2026-03-01", periods=n, freq="1s"))


def plant(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(history, unseen healthy rows, the sensor spiked and biased)."""
    if name == "user":
        x = user_plant()
        return x.iloc[:20000], x.iloc[20000:26000], "s01"
    if name == "lorenz":
        x = ds.load_lorenz()[0]
        return x.iloc[:14000], x.iloc[14000:], "x1"
    d = {"quadtank": ds.load_quadtank, "cstr": ds.load_cstr, "buffer": ds.load_buffer,
         "process": ds.load_process}[name]()
    return d.train.iloc[:14000], d.train.iloc[14000:], CAUGHT.get(name, d.sensors[0])


def one(name: str, k: float) -> str:
    warnings.simplefilter("ignore")
    train, test, s = plant(name)
    v = train[s].to_numpy()
    span = float(np.percentile(v, 99) - np.percentile(v, 1))
    spiked = train.copy()
    rows = np.random.default_rng(2).choice(len(train), SPIKES, replace=False)
    spiked.iloc[rows, spiked.columns.get_loc(s)] += k * span
    w = spiked[s].to_numpy()
    reach = np.max(np.abs(w - np.median(w))) / (np.percentile(w, 99) - np.percentile(w, 1))
    fault = test.copy()
    fault.iloc[FAULT, fault.columns.get_loc(s)] += BIAS * span
    saved, scaling.OUTLIER_RANGES = scaling.OUTLIER_RANGES, np.inf  # measure, not refuse
    try:
        det = TransitionDetector().fit(spiked)
    finally:
        scaling.OUTLIER_RANGES = saved
    alarm = det.score_samples(fault) > 1
    healthy = np.ones(len(fault), bool)
    healthy[FAULT] = False
    return (f"{name:9s} {s:6s} k={k:4g} reach={reach:6.2f} view={det.view_:9s} fault rows "
            f"in alarm {np.mean(alarm[FAULT]):.3f}  healthy {np.mean(alarm[healthy]):.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    names = ["user", "quadtank", "cstr", "process", "lorenz"]
    if args and not args[0][0].isdigit():  # a comma-separated list of plants first
        names, args = args[0].split(","), args[1:]
    ks = [float(a) for a in args] or [0, 1, 2, 3, 5, 7, 10, 20]
    jobs = [(n, k) for n in names for k in ks]
    with ProcessPoolExecutor() as pool:
        for line in pool.map(one, *zip(*jobs, strict=True)):
            print(line, flush=True)
