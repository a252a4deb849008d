"""A generated fleet of sister units: pumps of slightly different sizes, one table.

Each unit is a pump on a pipe network (the plant of ``normalcy.transfer``'s
``sister_units``, vectorised): its speed follows random set-points through a
first-order lag; flow, pressure, motor current and winding temperature respond;
``n_sensors > 4`` adds mixed, lagged readings of those (the same mix on every unit
and for every seed: :func:`mix_weights`). Units differ by size
(+4 % per unit) and lag. ``faulty`` units get bearing friction (motor current
+10 %, the temperature follows) over a tenth of their rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from normalcy.exceptions import InputError

BASE_SENSORS = ("flow", "pressure", "current", "temperature")


def _lag(x: np.ndarray, a: float) -> np.ndarray:
    """``y[t] = y[t-1] + a (x[t] - y[t-1])``, ``y[0] = x[0]``."""
    y, _ = lfilter([a], [1.0, a - 1.0], x, zi=[(1.0 - a) * x[0]])
    return np.asarray(y)


def mix_weights(k: int) -> np.ndarray:
    """The weights of ``mix{4 + k}`` on flow, pressure, current and temperature: the same
    for every unit and every seed (a seed draws set-points and noise, not what a sensor
    measures: data of another seed is new data of the same sensors)."""
    return np.random.default_rng([20260101, k]).normal(size=4)


def _unit(n: int, n_sensors: int, rng: np.random.Generator, size: float, lag: float,
          fault: tuple[int, int] | None) -> np.ndarray:
    steps = rng.integers(150, 400, size=n // 150 + 2)
    levels = rng.uniform(0.4, 0.9, size=steps.size)
    setpoint = np.repeat(levels, steps)[:n]
    speed = _lag(setpoint, 1.0 / lag)
    load = 0.1 * np.sin(2 * np.pi * np.arange(n) / 97.0 + rng.uniform(0, 2 * np.pi))
    flow = size * speed * (1.0 + load)
    pressure = 0.8 * size * speed**2 * (1.0 - 0.5 * load)
    current = 0.2 + flow * pressure / np.maximum(speed, 0.05) / size
    if fault is not None:
        current[fault[0]:fault[1]] *= 1.1
    temperature = _lag(current**2, 0.02)
    cols = [flow, pressure, current, temperature]
    base = np.c_[flow, pressure, current, temperature]
    for k in range(n_sensors - 4):
        cols.append(_lag(base @ mix_weights(k), 1.0 / (5.0 + 5.0 * (k % 4))))
    values = np.c_[tuple(cols[:n_sensors])]
    return values + 0.01 * values.std(axis=0) * rng.normal(size=values.shape)


def sister_fleet(n_units: int = 4, n_rows: int = 20_000, n_sensors: int = 4, *, seed: int = 0,
                 faulty: int = 0, start: str = "2026-01-01") -> pd.DataFrame:
    """A long table of ``n_units`` sister units sampled every second.

    Parameters
    ----------
    n_units, n_rows, n_sensors : int
        Units, rows per unit, sensors per unit (at least 1; the first four are
        ``flow``, ``pressure``, ``current``, ``temperature``, then ``mix4`` ...).
    seed : int
        Random seed; another seed gives other set-points (new data for a scoring).
    faulty : int
        How many units (the last ones) carry bearing friction over a tenth of their rows.
    start : str
        Time of the first row.

    Returns
    -------
    DataFrame with columns ``time``, ``unit`` (``pump01`` ...) and the sensors, unit after
    unit.

    Examples
    --------
    >>> df = sister_fleet(n_units=3, n_rows=1000, faulty=1)
    >>> df.shape, list(df["unit"].unique())
    ((3000, 6), ['pump01', 'pump02', 'pump03'])
    """
    if n_units < 1 or n_rows < 1 or n_sensors < 1 or not 0 <= faulty <= n_units:
        raise InputError("sister_fleet needs n_units, n_rows, n_sensors >= 1 and "
                         f"0 <= faulty <= n_units. Got {n_units}, {n_rows}, {n_sensors}, "
                         f"{faulty} instead.")
    rng = np.random.default_rng(seed)
    names = [*BASE_SENSORS, *(f"mix{k}" for k in range(4, max(4, n_sensors)))][:n_sensors]
    time = pd.date_range(start, periods=n_rows, freq="s")
    frames = []
    for u in range(n_units):
        fault = None
        if u >= n_units - faulty:
            at = int(rng.integers(n_rows // 5, n_rows - n_rows // 10))
            fault = (at, at + n_rows // 10)
        values = _unit(n_rows, n_sensors, rng, size=1.0 + 0.04 * u, lag=15.0 + 2.0 * (u % 3),
                       fault=fault)
        df = pd.DataFrame(values, columns=names)
        df.insert(0, "unit", f"pump{u + 1:02d}")
        df.insert(0, "time", time)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
