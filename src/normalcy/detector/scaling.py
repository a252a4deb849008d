"""Per-sensor robust scaling (median / IQR), SPEC §1.1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from normalcy.exceptions import SensorsError

#: an IQR below this share of the standard deviation marks a quasi-discrete sensor
#: (a Gaussian has IQR = 1.35 std)
MIN_IQR_SHARE = 0.1


class ConstantSensors(SensorsError):
    """Sensors constant in the training data; ``sensors`` names every one of them."""


def fit_robust_scale(values: np.ndarray, sensors: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return per-sensor ``center`` (median) and ``scale`` (IQR) of the finite rows.

    A sensor whose IQR is 0, or below ``MIN_IQR_SHARE`` of its standard deviation,
    sits mostly on one value and jumps between a few (SKAB's flow rate: IQR 0.001
    L/min, steps of 1 L/min); it is scaled by its standard deviation instead, so
    its steps are not thousands of scaled units. A constant sensor is rejected.

    Examples
    --------
    >>> c, s = fit_robust_scale(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]), ["a"])
    >>> float(c[0]), float(s[0])
    (3.0, 2.0)
    """
    finite = np.isfinite(values).all(axis=1)
    ns = values.shape[1]
    center, scale, std, spread, first = (np.empty(ns) for _ in range(5))
    for j in range(ns):  # a column at a time: no copy of the whole history
        col = values[finite, j]
        center[j] = np.median(col)
        q75, q25 = np.percentile(col, [75, 25])
        scale[j], std[j], spread[j] = q75 - q25, col.std(), col.max() - col.min()
        first[j] = col[0] if col.size else np.nan
    flat = [j for j in range(len(sensors)) if not spread[j] > 0]
    if flat:
        said = ", ".join(f"{sensors[j]!r} (always {first[j]:g})" for j in flat[:10])
        more = f" and {len(flat) - 10} more" if len(flat) > 10 else ""
        raise ConstantSensors(
            (f"sensor {said} is constant in the training data; it carries no information. "
             "Drop it from the sensors.") if len(flat) == 1 else
            (f"{len(flat)} sensors are constant in the training data: {said}{more}; they "
             "carry no information. Drop them from the sensors."),
            [str(sensors[j]) for j in flat])
    for j in range(len(sensors)):
        if not scale[j] > max(1e-12 * max(1.0, abs(center[j])), MIN_IQR_SHARE * std[j]):
            scale[j] = std[j]
    return center.astype(np.float64), scale.astype(np.float64)
