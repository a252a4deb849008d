"""A pump on a pipe network, and a sister unit of other size and operating points.

A simulated plant for transfer learning (``normalcy bench transfer``), sampled
once per step ``t``. The speed set-point ``r`` is piecewise constant: levels
uniform in ``[low, high]`` (of nominal speed), each held 150 to 399 steps. The
speed ``w`` follows it with a first-order lag, a periodic load ``l`` (period 97
steps, random phase) disturbs the network, and four sensors respond:

.. math::

    w_t &= w_{t-1} + (r_t - w_{t-1}) / \\mathrm{lag} \\\\
    l_t &= 0.1 \\sin(2 \\pi t / 97 + \\varphi) \\\\
    \\mathrm{flow} &= s\\, w (1 + l) \\\\
    \\mathrm{pressure} &= 0.8\\, s\\, w^2 (1 - 0.5\\, l) \\\\
    \\mathrm{current} &= 0.2 + \\mathrm{flow} \\cdot \\mathrm{pressure}
        / \\max(w, 0.05) / s \\\\
    T_t &= T_{t-1} + 0.02 (\\mathrm{current}_t^2 - T_{t-1})

with ``s`` the unit's size and ``T`` the motor temperature; each sensor gets
Gaussian noise of 1 % of its standard deviation over the run.

Units (:class:`PumpUnit`): the source unit has ``size=1.0, lag=20, speeds 0.3-0.8``;
its sister unit (:data:`SISTER_UNIT`) is 40 % larger, reacts faster and runs at
other speeds: ``size=1.4, lag=12, speeds 0.6-1.0``, so the source's healthy data
does not cover the sister's. :func:`load_pumping` draws both, and a sister test
run with three faults, each over a tenth of it: a leak (flow -15 %), a pressure
sensor bias (+5 % of the healthy sister's pressure range) and bearing friction
(motor current +10 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SENSORS", "SISTER_UNIT", "PumpUnit", "load_pumping", "simulate_pumping"]

SENSORS = ["flow", "pressure", "current", "temperature"]
"""The recorded sensors, in column order."""


@dataclass(frozen=True)
class PumpUnit:
    """A pumping unit: its size, speed lag and range of speed set-points.

    Attributes
    ----------
    size : float
        Scales flow and pressure (1.0: the source unit).
    lag : float
        Time constant of the speed, in steps.
    low, high : float
        Range of the speed set-points, as shares of nominal speed.

    Examples
    --------
    >>> PumpUnit().size, SISTER_UNIT.size
    (1.0, 1.4)
    """

    size: float = 1.0
    lag: float = 20.0
    low: float = 0.3
    high: float = 0.8


SISTER_UNIT = PumpUnit(size=1.4, lag=12.0, low=0.6, high=1.0)
"""The sister unit: 40 % larger, faster, at higher speeds."""


def simulate_pumping(n: int, unit: PumpUnit | None = None, *,
                     seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """``n`` steps of a pumping unit (default: the source unit), columns :data:`SENSORS`.

    ``seed`` may be a generator, which is then advanced (successive runs of one
    experiment draw from one generator).

    Examples
    --------
    >>> df = simulate_pumping(500, seed=1)
    >>> df.shape, list(df.columns) == SENSORS
    ((500, 4), True)
    """
    u = PumpUnit() if unit is None else unit
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    setpoint = np.empty(n)
    i = 0
    while i < n:
        d = int(rng.integers(150, 400))
        setpoint[i : i + d] = rng.uniform(u.low, u.high)
        i += d
    speed = np.empty(n)
    speed[0] = setpoint[0]
    a = 1.0 / u.lag
    for t in range(1, n):
        speed[t] = speed[t - 1] + a * (setpoint[t] - speed[t - 1])
    load = 0.1 * np.sin(2 * np.pi * np.arange(n) / 97.0 + rng.uniform(0, 2 * np.pi))
    flow = u.size * speed * (1.0 + load)
    pressure = 0.8 * u.size * speed**2 * (1.0 - 0.5 * load)
    current = 0.2 + flow * pressure / np.maximum(speed, 0.05) / u.size
    temperature = np.empty(n)
    temperature[0] = current[0] ** 2
    for t in range(1, n):
        temperature[t] = temperature[t - 1] + 0.02 * (current[t] ** 2 - temperature[t - 1])
    values = np.c_[flow, pressure, current, temperature]
    values = values + 0.01 * values.std(axis=0) * rng.normal(size=values.shape)
    return pd.DataFrame(values, columns=SENSORS)


def load_pumping(
    seed: int = 0, *, n_source: int = 8000, n_target: int = 4000, n_test: int = 4000
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A source unit, its sister unit and a sister test run with three faults.

    Drawn in this order from one generator seeded with ``seed``: the source's
    healthy run, the sister's healthy run and the sister's test run; then the
    faults of the module docstring are written into the test run at 30 %, 55 %
    and 80 % of it, each over a tenth of its rows.

    Returns
    -------
    source, target, test : DataFrame
        ``n_source``, ``n_target`` and ``n_test`` rows, columns :data:`SENSORS`.
    labels : ndarray of int
        One per test row: 1 inside a fault.

    Examples
    --------
    >>> source, target, test, labels = load_pumping(n_source=600, n_target=300, n_test=1000)
    >>> source.shape, test.shape, int(labels.sum())
    ((600, 4), (1000, 4), 300)
    """
    rng = np.random.default_rng(seed)
    source = simulate_pumping(n_source, PumpUnit(), seed=rng)
    target = simulate_pumping(n_target, SISTER_UNIT, seed=rng)
    test = simulate_pumping(n_test, SISTER_UNIT, seed=rng)
    labels = np.zeros(n_test, dtype=np.int64)
    tenth = n_test // 10
    faults = [("flow", 0.3, lambda x: 0.85 * x),
              ("pressure", 0.55, lambda x: x + 0.05 * float(np.ptp(target["pressure"]))),
              ("current", 0.8, lambda x: 1.1 * x)]
    for column, at, change in faults:
        start = int(at * n_test)
        rows = slice(start, start + tenth)
        test.loc[test.index[rows], column] = change(test[column].to_numpy()[rows])
        labels[rows] = 1
    return source, target, test, labels
