"""Per-sensor robust scaling (median / IQR), SPEC §1.1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from normalcy.exceptions import InputError, SensorsError

#: an IQR below this share of the standard deviation marks a quasi-discrete sensor
#: (a Gaussian has IQR = 1.35 std)
MIN_IQR_SHARE = 0.1


#: a training value this many times its sensor's central range (1st to 99th
#: percentile) away from the sensor's median is refused as a wrong reading: a typo, a
#: historian's fill value (-9999 on a 0-100 range), epoch milliseconds, a glitch. A
#: few such values blind the fit: their steps and their misfit to the other sensors
#: inflate the references of the step, dynamics and relation terms, and a fault that
#: the same history without them catches goes unseen. Five spikes of k central ranges
#: in one sensor's history (of 14 000-20 000 rows), then a bias of 1/8 of its range on
#: 1000 unseen rows; the share of those rows in alarm
#: (``tests/detector/bench_outlier_blinding.py``). The history's *reach*, the largest
#: |value - median| / (p99 - p1) this limit bounds, is k plus 0.2 (the report's plant),
#: 0.4 (CSTR), 0.7 (quadruple tank), 0.1 (55-sensor process), 0.3 (Lorenz):
#:
#: ============  =====  =====  =====  =====  =====  =====  =====  =====
#: k ->          0      1      2      3      3.5    4      5      10
#: ============  =====  =====  =====  =====  =====  =====  =====  =====
#: report plant  1.00   0.98   0.99   0.98   0.98   0.98   0.97   0.52
#: cstr Fj       1.00   0.99   0.97   0.94   0.92   0.34   0.07   0.00
#: quadtank h4   0.90   0.42   0.41   0.40   0.40   0.37   0.09   0.02
#: process FA    1.00   0.00   0.24   0.22   0.22   0.21   0.21   0.21
#: Lorenz x1     1.00   0.19   0.05   0.04   0.04   0.04   0.04   0.00
#: ============  =====  =====  =====  =====  =====  =====  =====  =====
#:
#: Healthy histories reach at most 2.40 (quadtank v2; process 1.87, SKAB's
#: anomaly-free file and the first 400 rows of each SKAB experiment, which its bench
#: fits on, 1.19; every other data set of :mod:`normalcy.datasets` and
#: ``/work/shared/data`` under 1.2), ``tests/detector/bench_outlier_healthy.py``.
#: 3.5 lies between: 1.46 times the largest healthy reach, under the reach where the
#: CSTR loses its fault (4.4: k = 4) and the others collapse (quadruple tank 5.7, the
#: report's plant 10.2). Spikes of one range still blind the process and Lorenz models
#: (their dynamics and relation references are not robust to them): no limit on values
#: tells those from healthy readings. The limit was 100 ranges: 20-range spikes passed.
OUTLIER_RANGES = 3.5
#: ...unless at least this many of a sensor's training rows lie there: a stretch the
#: plant really spent there (a shutdown's zero flow, under 1 % of a long history, is
#: 4 central ranges from a flow of 100 +- 5), which the relations view learns as a level
#: of its own with as many rows as it asks per dimension of a viewpoint
#: (``learning.AUTO_ROWS_PER_DIMENSION``, 50), not a glitch too rare to learn from
REGIME_ROWS = 50
#: past this many central ranges a value is refused however many rows hold it: a
#: historian's fill value (-9999 on a 0-100 range), epoch milliseconds, a unit mix-up
FILL_RANGES = 100.0


class ConstantSensors(SensorsError):
    """Sensors constant in the training data; ``sensors`` names every one of them."""


class CounterSensors(SensorsError):
    """Sensors that only rise (or only fall) over the whole training data: a counter, a
    totaliser, a clock; ``sensors`` names every one of them."""


#: the fewest training rows in which a sensor that never turns back is read as a counter:
#: a smooth move of a noise-free signal rises through a few hundred (the ETC plate's angle
#: through all 200 rows of a transfer target, ``normalcy bench transfer`` at 1 %)
COUNTER_ROWS = 1000


class ImplausibleValues(InputError):
    """Training values far outside their sensor's range."""


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
    center, scale, std, low, high, first = (np.empty(ns) for _ in range(6))
    central = np.empty((ns, 2))  # the 1st and 99th percentiles
    ways: list[str | None] = []  # "rises" / "falls" for a sensor that never turns back
    for j in range(ns):  # a column at a time: no copy of the whole history
        col = values[finite, j]
        _refuse_tiny_spread(col, str(sensors[j]))
        ways.append(one_way(col))
        center[j] = np.median(col)
        p1, q25, q75, p99 = np.percentile(col, [1, 25, 75, 99])
        scale[j], std[j], central[j] = q75 - q25, col.std(), (p1, p99)
        low[j], high[j] = (col.min(), col.max()) if col.size else (np.nan, np.nan)
        first[j] = col[0] if col.size else np.nan
    spread = high - low
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
    _refuse_counters(ways, values[finite.argmax()], values[len(finite) - 1 - finite[::-1].argmax()],
                     sensors)
    _refuse_outliers(values, finite, center, central, low, high, sensors)
    for j in range(len(sensors)):
        if not scale[j] > max(1e-12 * max(1.0, abs(center[j])), MIN_IQR_SHARE * std[j]):
            scale[j] = std[j]
    return center.astype(np.float64), scale.astype(np.float64)


def _refuse_tiny_spread(col: np.ndarray, sensor: str) -> None:
    """SensorsError for a sensor whose readings spread less than ``1 / tables.LARGEST``
    (``1e-300``: its variance vanishes and scaling it divided by zero), said with the size
    and the fix, before numpy warns of it (readings beyond ``LARGEST`` are refused with
    the data, :mod:`normalcy.data.validation`)."""
    from normalcy.data.tables import LARGEST

    width = float(np.max(col) - np.min(col)) if col.size else 0.0
    if 0.0 < width < 1.0 / LARGEST:
        raise SensorsError(f"sensor {sensor!r} varies by only {width:.3g} over the training "
                           "data, below what the model can compute with (its squares "
                           "vanish): give it in other units (scaled up), or drop it from the "
                           "sensors.", [sensor])


def one_way(col: np.ndarray) -> str | None:
    """``"rises"`` or ``"falls"`` where the finite training readings ``col`` (at least
    :data:`COUNTER_ROWS`, not all equal) never once turn back - a running-hours counter, a
    flow totaliser, a clock read as a number - else None. Noise makes a process value turn
    back within a few samples, however it drifts.

    Examples
    --------
    >>> one_way(np.arange(1200.0) // 3), one_way(np.sin(np.arange(1200.0)))
    ('rises', None)
    """
    if len(col) < COUNTER_ROWS:
        return None
    step = np.diff(col)
    if not step.any():
        return None
    return "rises" if (step >= 0).all() else "falls" if (step <= 0).all() else None


def _refuse_counters(ways: list[str | None], first: np.ndarray, last: np.ndarray,
                     sensors: Sequence[str]) -> None:
    """Raise :class:`CounterSensors` for the sensors :func:`one_way` found never turning
    back (``first``, ``last``: the finite rows' first and last readings). Their next
    readings lie beyond every value the model learns, so every fresh row would be in
    alarm (six smooth signals and a totaliser: 60 % of a fresh healthy day's rows)."""
    said = [(j, f"{sensors[j]!r} only {way} over the whole training data "
                f"({first[j] + 0.0:g} to {last[j] + 0.0:g})")
            for j, way in enumerate(ways) if way is not None]
    if not said:
        return
    what = ("; ".join(w for _, w in said[:10]) + ("" if len(said) <= 10 else
                                                 f"; and {len(said) - 10} more"))
    one = len(said) == 1
    raise CounterSensors(
        (f"sensor {what}: a counter, a totaliser or a clock read as a number. Its next "
         "readings lie beyond every value the model learns" if one else
         f"{len(said)} sensors never turn back: {what}; counters, totalisers or clocks read "
         "as numbers. Their next readings lie beyond every value the model learns")
        + ", so every fresh row would be in alarm. "
        + ("Drop it from the sensors, or give its change per sample (a rate) as a sensor "
           "instead; if it is a process value that only moved one way in this history, fit "
           "on one where it also turns back." if one else
           "Drop them from the sensors, or give their changes per sample (rates) as sensors "
           "instead; a process value that only moved one way in this history needs one "
           "where it also turns back."),
        [str(sensors[j]) for j, _ in said])


def _refuse_outliers(values: np.ndarray, finite: np.ndarray, center: np.ndarray,
                     central: np.ndarray, low: np.ndarray, high: np.ndarray,
                     sensors: Sequence[str]) -> None:
    """Raise :class:`ImplausibleValues` for training values more than
    :data:`OUTLIER_RANGES` central ranges (``central (ns, 2)``: the 1st and 99th
    percentiles) from their sensor's median in fewer than :data:`REGIME_ROWS` rows, or
    more than :data:`FILL_RANGES` in any number; ``low``, ``high``: each sensor's extremes,
    so that only a sensor with such a value is read again. A sensor whose central range
    is 0 - a quasi-discrete one - is not judged.

    Examples
    --------
    >>> x = np.c_[np.linspace(50.0, 70.0, 500)]
    >>> x[300, 0] = 1e6
    >>> fit_robust_scale(x, ["TI102"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    normalcy.detector.scaling.ImplausibleValues: sensor 'TI102' reads 1e+06 at row 300, where ...
    """
    width = central[:, 1] - central[:, 0]
    limit = OUTLIER_RANGES * width
    suspect = (width > 0) & ((high - center > limit) | (center - low > limit))
    said: list[str] = []
    fix: tuple[str, float, float] = ("", 0.0, 0.0)  # a sensor, its median and its limit
    rows = np.flatnonzero(finite)
    for j in map(int, np.flatnonzero(suspect)):
        col = values[rows, j]
        off = np.abs(col - center[j])
        far = np.flatnonzero(off > limit[j])
        if far.size >= REGIME_ROWS:  # a region the plant spent time in: only fill values
            limit[j] = FILL_RANGES * width[j]
            far = np.flatnonzero(off > limit[j])
            if far.size == 0:
                continue
        at = ", ".join(f"{col[k]:.6g} at row {int(rows[k])}" for k in far[:3])
        more = f" and {far.size - 3} more" if far.size > 3 else ""
        fix = fix if said else (str(sensors[j]), float(center[j]), float(limit[j]))
        said.append(f"sensor {sensors[j]!r} reads {at}{more}, where 98 % of its healthy "
                    f"readings lie within {central[j, 0]:.6g} to {central[j, 1]:.6g}")
    if said:
        raise ImplausibleValues(
            "; ".join(said) + f" (more than {OUTLIER_RANGES:g} times that range from the "
            f"median in fewer than {REGIME_ROWS} rows, or more than {FILL_RANGES:g} times "
            "it; rows counted from 0 over the training rows). These look like wrong "
            "readings (a glitch, a typo, a historian's fill value, a unit mix-up), and a "
            "few of them would blind the model to faults: correct them or leave the cells "
            f"empty (a gap), e.g. X.loc[(X[{fix[0]!r}] - {fix[1]:.6g}).abs() > "
            f"{fix[2]:.6g}, {fix[0]!r}] = np.nan. If they are real, they are too rare to "
            "learn from: leave them out of the healthy history.")
