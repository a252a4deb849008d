"""Per-sensor equal-frequency quantizers with open outer bins, SPEC §1.2."""

from __future__ import annotations

import numpy as np


def fit_edges(scaled: np.ndarray, n_levels: int) -> np.ndarray:
    """Inner bin edges, shape ``(ns, n_levels - 1)``, from training quantiles.

    Repeated edges (a sensor with few distinct values) collapse: the spare slots are
    padded with ``+inf`` so that sensor simply has fewer levels.

    Examples
    --------
    >>> fit_edges(np.arange(10.0)[:, None], 2).tolist()
    [[4.5]]
    """
    finite = np.isfinite(scaled).all(axis=1)
    probs = np.arange(1, n_levels) / n_levels
    edges = np.full((scaled.shape[1], n_levels - 1), np.inf)
    for i in range(scaled.shape[1]):  # a column at a time: no copy of the whole history
        u = np.unique(np.quantile(scaled[finite, i], probs))
        edges[i, : u.size] = u
    return edges


def quantize(scaled: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Levels in ``0 .. n_levels-1`` (int64); NaN maps to -1.

    A value equal to an edge goes to the upper bin; values beyond the training range
    fall in the outer (open) bins.

    Examples
    --------
    >>> quantize(np.array([[-5.0], [0.0], [4.5], [99.0]]), np.array([[4.5]])).ravel().tolist()
    [0, 0, 1, 1]
    """
    out = np.empty(scaled.shape, dtype=np.int64)
    for i in range(scaled.shape[1]):
        out[:, i] = np.searchsorted(edges[i], scaled[:, i], side="right")
    out[np.isnan(scaled)] = -1
    return out


def n_bins(edges: np.ndarray) -> np.ndarray:
    """Number of levels each sensor actually has (repeated edges collapse)."""
    return np.isfinite(edges).sum(axis=1) + 1
