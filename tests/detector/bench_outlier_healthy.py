"""How far healthy histories reach: the largest |value - median| / (p99 - p1) of every
sensor of every healthy history we have (normalcy.datasets, /work/shared/data), the
measurement behind ``scaling.OUTLIER_RANGES`` (a fit refuses a value further out).

Run: .venv/bin/python tests/detector/bench_outlier_healthy.py [/work/shared/data]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from normalcy import datasets as ds


def reach(frame: pd.DataFrame) -> tuple[float, str]:
    """The largest reach of any sensor (central range > 0) and that sensor's name."""
    best, who = 0.0, ""
    for c in frame.columns:
        v = frame[c].to_numpy(np.float64)
        v = v[np.isfinite(v)]
        p1, p99 = np.percentile(v, [1, 99])
        if p99 > p1:
            r = float(np.max(np.abs(v - np.median(v))) / (p99 - p1))
            if r > best:
                best, who = r, str(c)
    return best, who


def histories(root: Path) -> list[tuple[str, pd.DataFrame]]:
    out = [(f"{n} train", f().train) for n, f in [
        ("quadtank", ds.load_quadtank), ("cstr", ds.load_cstr), ("buffer", ds.load_buffer),
        ("process", ds.load_process)]]
    out.append(("lorenz train (x1,x2,x3)", ds.load_lorenz(sensors=["x1", "x2", "x3"])[0]))
    out.append(("etc train (0.25 h)", ds.load_etc(hours=0.25)[0]))
    src, tgt, _, _ = ds.load_pumping()
    out += [("pumping source", src), ("pumping target", tgt)]
    out.append(("tanks train", ds.load_tanks()[0]))
    out.append(("walks train (20 sensors)", ds.load_walks(20, 20000, 0)[0]))
    skab = root / "skab"
    if skab.is_dir():
        out.append(("skab anomaly-free", ds.load_skab_anomaly_free(str(skab))))
        for e in ds.load_skab(str(skab)):
            out.append((f"skab {e.name} first 400", e.data.iloc[:400]))
    lor = root / "lorenz" / "df_train.csv"
    if lor.is_file():
        out.append(("shared lorenz df_train.csv", pd.read_csv(lor).select_dtypes("number")))
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    rows = [(name, *reach(f)) for name, f in histories(root)]
    for name, r, who in sorted(rows, key=lambda x: -x[1]):
        print(f"{name:34s} {r:7.2f}  ({who})")
