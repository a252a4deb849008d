"""Sensor faults written into a healthy test period: is the faulty sensor named first?

The plants' own sensor faults are few (6 or 7 per plant) and half of them sit inside
a control loop, where the controller moves the process until the biased reading is
back at its set-point. This case asks the plain question many more times: a
measurement fault on a sensor, the process untouched. Into each plant's fault-free
test period (:func:`write_faults`) go, one after another with healthy gaps, a bias of
one healthy standard deviation and then a drift to two, on each of up to 8 sensors
(drawn with the run's seed; every sensor of a plant with fewer). The models fitted on
the plant's history score it; an episode counts for a method where the method's own
alarm rule fires in it, and it is named right where the faulty sensor has the largest
mean contribution over its alarm rows (as the plant's own sensor faults,
:func:`normalcy.bench.plants_metrics.localised`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.datasets import FaultEpisode

__all__ = ["LENGTH", "MAX_SENSORS", "write_faults", "written_case"]

#: rows of each written fault and of the healthy gap before it
LENGTH = 600
#: sensors that get a bias and a drift (all of a plant with fewer)
MAX_SENSORS = 8


def write_faults(test: pd.DataFrame, train: pd.DataFrame, seed: int,
                 ) -> tuple[pd.DataFrame, tuple[FaultEpisode, ...]]:
    """``test`` with biases, then drifts, written into up to :data:`MAX_SENSORS` sensors,
    each :data:`LENGTH` rows after a healthy gap as long; the amplitude's sign drawn.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame(rng.normal(size=(500, 2)), columns=["a", "b"])
    >>> test = pd.DataFrame(np.zeros((6000, 2)), columns=["a", "b"])
    >>> out, eps = write_faults(test, train, seed=1)
    >>> [(e.kind, e.sensor, e.start) for e in eps]
    [('bias', 'a', 600), ('bias', 'b', 1800), ('drift', 'a', 3000), ('drift', 'b', 4200)]
    >>> bool(np.allclose(out["a"].iloc[600:1200].abs(), train["a"].std()))
    True
    """
    rng = np.random.default_rng(seed)
    cols = list(train.columns)
    pick = cols if len(cols) <= MAX_SENSORS else sorted(
        rng.choice(cols, MAX_SENSORS, replace=False).tolist(), key=cols.index)
    sd = train.std()
    out = test.copy()
    episodes = []
    pos = LENGTH
    for kind, shape in (("bias", np.ones(LENGTH)), ("drift", np.linspace(0.0, 2.0, LENGTH))):
        for c in pick:
            if pos + 2 * LENGTH > len(out):
                break
            amp = float(sd[c]) * float(rng.choice([-1.0, 1.0]))
            out[c] = out[c].to_numpy(dtype=float).copy()
            out.loc[out.index[pos:pos + LENGTH], c] += amp * shape
            what = "a bias of" if kind == "bias" else "a drift to"
            episodes.append(FaultEpisode(pos, pos + LENGTH, kind, str(c), False,
                                         f"{what} {amp * shape[-1]:+.3g} written into {c}"))
            pos += 2 * LENGTH
    return out, tuple(episodes)


def written_case(models: dict[str, list[Any]], loader: Any, n_train: int,
                 seed: int) -> pd.DataFrame:
    """Score the written-in faults with each fitted model that has per-sensor
    contributions: per method, the episodes named first, those alarmed, and all."""
    from normalcy.bench.plants_metrics import (
        detector_contributions,
        localised,
        sensor_contributions,
    )

    d = loader(n_train=n_train, seed=seed, faults=False)
    test, episodes = write_faults(d.test, d.train, seed)
    rows = []
    for name, fitted in models.items():
        model = fitted[0]
        contrib = (detector_contributions(model.residuals(test), model)
                   if hasattr(model, "residuals") else sensor_contributions(model, test))
        if contrib is None:
            continue
        s = np.asarray(model.score_samples(test), dtype=float)
        alarms = np.nan_to_num(s, nan=-np.inf) > float(model.threshold_)
        hits, n, named = localised(contrib, alarms, episodes)
        alarmed = sum(x is not None for x in named)
        rows.append({"method": name, "named first / alarmed / written":
                     f"{hits} / {alarmed} / {n}", "_hits": hits, "_alarmed": alarmed})
    return pd.DataFrame(rows)
