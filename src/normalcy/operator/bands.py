"""Where each sensor normally reads, row by row, in its units: the band a trend draws
around the readings (``normalcy explain --plot``, the service's alarm trend).

A model whose score reads the relations view (SPEC §6) draws **what the other sensors
predict** at each row, as the explanation says it
(:meth:`~normalcy.detector.naming.PlantModel.said_by_plant`): the reading minus its
residual against the plant's relations (one Gaussian over every context) where the
other sensors predict most of the sensor, else its conditional residual given the
other sensors at this operating point (the static residual of
:class:`~normalcy.detector.scoring.RelationSamples`), with :data:`BAND_SPREADS` of its
usual spread either side: a biased or drifting sensor leaves its band while the plant
around it does not move. (The operating point's models alone drew the jacketed CSTR's
temperature with a prediction that jumped by 3 K from one row to the next as the
contexts changed, not what its sentence said.) A model with the paper's residuals only
draws the **learned bounds** of the transition the sensor makes at that row (SPEC
§1.6): NaN where the transition was never seen in training. Either is NaN where no
transition starts (the last ``delta`` rows, gaps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from normalcy.detector.extended import transition_codes
from normalcy.detector.normality import keeps_bounds
from normalcy.detector.parts import Prepared
from normalcy.exceptions import InputError
from normalcy.operator.versions import check_detector

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector

#: the expected band reaches this many usual spreads either side of the prediction
#: (about 95 % of healthy readings inside, for a Gaussian residual)
BAND_SPREADS = 2.0

#: how each kind of band is said beside a trend
BAND_WORDS = {
    "expected": f"what the other sensors predict, ±{BAND_SPREADS:g} usual spreads",
    "bounds": "the learned normal bounds, where the transition was seen in training",
}


@dataclass
class Band:
    """``lo``, ``hi`` and (for ``kind="expected"``) ``expected``, each ``(T, ns)`` in the
    sensors' units (columns in the model's sensor order); ``kind``: "expected" or
    "bounds" (:data:`BAND_WORDS`)."""

    kind: str
    lo: np.ndarray
    hi: np.ndarray
    expected: np.ndarray | None = None

    def of(self, det: TransitionDetector, sensor: str) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of one sensor."""
        if sensor not in det.sensors_:
            raise InputError(f"the model has no sensor {sensor!r}; its sensors are "
                             f"{list(det.sensors_)}.")
        k = list(det.sensors_).index(sensor)
        return self.lo[:, k], self.hi[:, k]


def band_kind(det: TransitionDetector) -> str:
    """The band :func:`normal_band` draws for ``det``."""
    relations = getattr(det, "relations_", None) is not None and det.view_ != "paper"
    return "expected" if relations or not keeps_bounds(det.normality_) else "bounds"


def normal_band(det: TransitionDetector, X: Any) -> Band:
    """The band of every sensor at each row of ``X`` (anything ``det.prepare`` takes, or
    its output).

    Examples
    --------
    >>> import pandas as pd
    >>> from normalcy import TransitionDetector
    >>> t = np.arange(3000) * 0.05
    >>> X = pd.DataFrame({"a": np.sin(t), "b": np.sin(t) + 0.01 * np.cos(7 * t)})
    >>> det = TransitionDetector(view="relations").fit(X)
    >>> band = normal_band(det, X)
    >>> band.kind, bool(np.nanmean((band.lo <= X.values) & (X.values <= band.hi)) > 0.9)
    ('expected', True)
    """
    check_detector(det, "operator.normal_band")
    prep = X if isinstance(X, Prepared) else det.prepare(X, what="trend rows")
    T, ns = prep.scaled.shape
    lo, hi = np.full((T, ns), np.nan), np.full((T, ns), np.nan)
    scale, center = np.asarray(det.scale_), np.asarray(det.center_)
    if band_kind(det) == "expected":
        rs = det.relation_samples(prep)
        values = prep.series.values
        off, spread = rs.static, rs.static_spread
        plant = getattr(det.relations_, "plant_", None)
        if plant is not None:  # as the words say it: the plant's relations where they
            by = plant.said_by_plant()  # predict most of the sensor (one smooth model)
            off = np.where(by, rs.plant, off)
            spread = np.where(by, rs.plant_spread, spread)
        expected = values - off * scale
        half = BAND_SPREADS * spread * scale
        return Band("expected", expected - half, expected + half, expected)
    rows = prep.rows
    if rows.size:
        tables = det.scoring_tables()
        for k in range(ns):
            pos = tables[k].lookup[transition_codes(prep.levels, rows, k, det.delta_,
                                                    det.n_levels_)]
            ok = pos >= 0
            lo[rows[ok], k] = tables[k].lo[pos[ok], k] * scale[k] + center[k]
            hi[rows[ok], k] = tables[k].hi[pos[ok], k] * scale[k] + center[k]
    return Band("bounds", lo, hi)
