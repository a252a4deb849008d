"""Smooth walks: healthy, cross-correlated, mean-reverting signals with sensor noise.

The "smooth walks" of the travel check (``../shared/hooks/travel_check.py``,
its ``walks``), the same numbers for the same arguments. With ``N`` the number
of sensors, ``T = 2 n_rows`` and ``e_t ~ N(0, I_N)`` (drawn first, for
``t = 0 .. T + 499``):

.. math::

    x_0 &= 0, \\qquad x_t = 0.97\\, x_{t-1} + 0.1\\, e_t \\\\
    c_t &= \\textstyle\\sum_{k \\le t} x_k, \\qquad
    z_t = (c_t - c_{t-10}) / 10 \\quad (t \\ge 10,
          \\text{ the mean of } x_{t-9} \\dots x_t) \\\\
    y_t &= z_{t+500}\\, M + 0.02\\, \\varepsilon_t, \\qquad
    M = I_N + 0.3\\, G / \\sqrt{N}

with ``G`` (``N x N``) and then ``eps_t`` standard normal, drawn in that order
from the same generator. The first 500 samples are dropped (burn-in), so each
sensor is an AR(1) of time constant ~33 samples smoothed over 10 samples,
mixed across sensors by ``M``, plus white noise. The first ``n_rows`` samples
are the training frame, the next ``n_rows`` the test frame: both healthy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

__all__ = ["load_walks"]

BURN_IN = 500
SMOOTHING = 10


def _walks(n_sensors: int, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the equations above, shape ``(n, n_sensors)``. The loop runs
    over time steps on one vector: a data generator, not a scoring path."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n + BURN_IN, n_sensors))
    e = rng.normal(size=x.shape)
    for t in range(1, len(x)):
        x[t] = 0.97 * x[t - 1] + 0.1 * e[t]
    x = np.cumsum(x, 0)
    x[SMOOTHING:] = (x[SMOOTHING:] - x[:-SMOOTHING]) / SMOOTHING
    mix = (np.eye(n_sensors)
           + 0.3 * rng.normal(size=(n_sensors, n_sensors)) / np.sqrt(n_sensors))
    y = x[BURN_IN:] @ mix
    out: np.ndarray = y + 0.02 * rng.normal(size=y.shape)
    return out


def load_walks(n_sensors: int, n_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test frames of smooth walks (sensors ``s0`` .. ``s{N-1}``).

    Parameters
    ----------
    n_sensors : int
        Number of sensors (columns), at least 1.
    n_rows : int
        Rows of each frame, at least 1; ``2 n_rows`` samples are generated.
    seed : int
        Seed of :func:`numpy.random.default_rng` (the travel check uses
        ``seed = n_sensors``).

    Returns
    -------
    train, test : DataFrame
        The first and the second ``n_rows`` samples (index ``0 .. n_rows - 1``).

    Examples
    --------
    >>> train, test = load_walks(3, 1000, seed=3)
    >>> train.shape, test.shape, list(train.columns)
    ((1000, 3), (1000, 3), ['s0', 's1', 's2'])
    """
    for name, v in (("n_sensors", n_sensors), ("n_rows", n_rows)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InputError(f"load_walks: {name} must be an int >= 1. Got {v!r} instead.")
    y = _walks(int(n_sensors), 2 * int(n_rows), seed)
    cols = [f"s{i}" for i in range(n_sensors)]
    return (pd.DataFrame(y[:n_rows], columns=cols),
            pd.DataFrame(y[n_rows:], columns=cols))
