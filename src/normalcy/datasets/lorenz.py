"""The Lorenz-attractor benchmark of Alamir & Dion (paper §4.1, SPEC §4).

The Lorenz system

.. math::

    \\dot x_1 = \\sigma (x_2 - x_1), \\quad
    \\dot x_2 = x_1 (\\rho - x_3) - x_2, \\quad
    \\dot x_3 = x_1 x_2 - \\beta x_3

with the nominal parameters ``sigma = 12``, ``rho = 28``, ``beta = 8/3``
(:data:`SIGMA`, :data:`RHO`, :data:`BETA`), sampled every ``dt = 0.01``
(:data:`DT`); the sensors are ``x1`` and ``x3`` (:data:`SENSORS`).

The healthy training file (20 001 samples, dt 0.01, MIT licence, see
``files/LORENZ_LICENSE``) ships with the package. The test features were never
published; :func:`load_lorenz` rebuilds them: block 1 is the training data
itself, blocks 2-6 are classical RK4 simulations (dt 0.01) with the labelled
parameters (:data:`BLOCKS`: nominal, sigma x0.667, nominal, rho x0.9286, beta
x1.25) from fresh small initial states, :data:`BLOCK` samples each.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

SIGMA, RHO, BETA = 12.0, 28.0, 8.0 / 3.0
DT = 0.01
BLOCK = 20001
#: (sigma, rho, beta) multipliers of the six test blocks, and their labels
BLOCKS = [
    ((1.0, 1.0, 1.0), 0),
    ((1.0, 1.0, 1.0), 0),
    ((0.667, 1.0, 1.0), 1),
    ((1.0, 1.0, 1.0), 0),
    ((1.0, 0.9286, 1.0), 1),
    ((1.0, 1.0, 1.25), 1),
]
SENSORS = ["x1", "x3"]


def _f(x: np.ndarray, s: float, r: float, b: float) -> np.ndarray:
    return np.array([s * (x[1] - x[0]), x[0] * (r - x[2]) - x[1], x[0] * x[1] - b * x[2]])


def rk4_step(x: np.ndarray, s: float, r: float, b: float, dt: float = DT) -> np.ndarray:
    """One classical Runge-Kutta 4 step of the Lorenz system."""
    k1 = _f(x, s, r, b)
    k2 = _f(x + dt / 2 * k1, s, r, b)
    k3 = _f(x + dt / 2 * k2, s, r, b)
    k4 = _f(x + dt * k3, s, r, b)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def simulate(n: int, x0: np.ndarray, sigma: float = SIGMA, rho: float = RHO,
             beta: float = BETA) -> np.ndarray:
    """``n`` samples (dt 0.01) of the Lorenz system from ``x0``, shape (n, 3).

    The loop runs over time steps on a 3-vector: 20 000 steps take a fraction of a
    second; it is a data generator, not a scoring path.
    """
    out = np.empty((n, 3))
    x = np.asarray(x0, dtype=np.float64)
    for k in range(n):
        out[k] = x
        x = rk4_step(x, sigma, rho, beta)
    return out


def load_lorenz_train() -> pd.DataFrame:
    """The paper's healthy training series: columns x1, x2, x3 (20 001 rows)."""
    with resources.files("normalcy.datasets").joinpath("files/lorenz_train.csv").open() as f:
        df = pd.read_csv(f, index_col=0)
    df.index.name = None
    return df


def load_lorenz(*, seed: int = 0,
                sensors: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Training data, the rebuilt test series and its labels.

    Parameters
    ----------
    seed : seeds the small initial states of test blocks 2-6.
    sensors : columns to return (default: the benchmark's ``x1``, ``x3``).

    Returns
    -------
    train : DataFrame (20 001 rows), test : DataFrame (6 x 20 001 rows),
    labels : int array (1 = anomalous), one per test row.

    Examples
    --------
    >>> train, test, labels = load_lorenz()
    >>> train.shape, test.shape, int(labels.sum())
    ((20001, 2), (120006, 2), 60003)
    """
    cols = SENSORS if sensors is None else list(sensors)
    train = load_lorenz_train()
    rng = np.random.default_rng(seed)
    blocks, labels = [train[["x1", "x2", "x3"]].to_numpy()], [np.zeros(BLOCK, np.int64)]
    for (ms, mr, mb), label in BLOCKS[1:]:
        x0 = rng.normal(scale=0.2, size=3)
        blocks.append(simulate(BLOCK, x0, SIGMA * ms, RHO * mr, BETA * mb))
        labels.append(np.full(BLOCK, label, np.int64))
    test = pd.DataFrame(np.concatenate(blocks), columns=["x1", "x2", "x3"])
    return train[cols].reset_index(drop=True), test[cols], np.concatenate(labels)
