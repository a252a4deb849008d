"""Transitions and extended vectors seen from one sensor, SPEC §1.3-1.4."""

from __future__ import annotations

import numpy as np


def transition_codes(levels: np.ndarray, rows: np.ndarray, sensor: int, delta: int,
                     n_levels: int) -> np.ndarray:
    """Encoded transitions ``q[t,i] * n_levels + q[t+delta,i]`` at the given rows."""
    return levels[rows, sensor] * n_levels + levels[rows + delta, sensor]


def extended_vectors(scaled: np.ndarray, rows: np.ndarray, sensor: int, delta: int) -> np.ndarray:
    """``w_i(t)``: all sensors at ``t`` then sensor ``i`` at ``t-1 .. t-(delta-1)``.

    Shape ``(len(rows), ns + delta - 1)``.

    Examples
    --------
    >>> s = np.arange(12.0).reshape(6, 2)
    >>> extended_vectors(s, np.array([2]), 0, 3).tolist()
    [[4.0, 5.0, 2.0, 0.0]]
    """
    lags = rows[:, None] - np.arange(1, delta)[None, :]
    return np.concatenate([scaled[rows], scaled[lags, sensor]], axis=1)


#: extended-vector numbers learned at a time (32 MB): learning a chunk makes a few
#: copies of it, so this bounds a fit's memory whatever the history's length (200 000
#: rows x 20 sensors, delta 50: 450 MB above the history's own arrays with 2e7, 150 MB
#: with 4e6, in the same time)
LEARN_FLOATS = 4e6


def chunks(n: int, width: int, budget: float = 4e6) -> list[slice]:
    """Split ``range(n)`` into slices whose ``len * width`` stays within ``budget``."""
    step = max(1, int(budget // max(1, width)))
    return [slice(a, min(n, a + step)) for a in range(0, n, step)]
