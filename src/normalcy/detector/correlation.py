"""Pearson correlation of vectors' components and the correlation remover R_eta.

SPEC §1.6-1.7. Correlations are dot products of z-normalised vectors (centred,
unit norm). A vector with zero spread has correlation 1 with another zero-spread
vector and 0 with anything else.
"""

from __future__ import annotations

import numpy as np


def znormalise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre each row and scale it to unit norm; return ``(z, flat)``.

    ``flat`` marks rows with zero spread (their ``z`` is all zeros).

    Examples
    --------
    >>> z, flat = znormalise(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    >>> flat.tolist(), bool(np.isclose((z[0] ** 2).sum(), 1.0))
    ([False, True], True)
    """
    c = vectors - vectors.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("...k,...k->...", c, c))
    scale = np.maximum(1.0, np.abs(vectors).max(axis=-1))
    flat = norm <= 1e-12 * scale
    z = c / np.where(flat, 1.0, norm)[..., None]
    z[flat] = 0.0
    return z, flat


def corr_rows(za: np.ndarray, fa: np.ndarray, zb: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Row-wise correlation of two z-normalised stacks of equal shape."""
    c = np.einsum("...k,...k->...", za, zb)
    return np.where(fa & fb, 1.0, c)


def remove_correlated(groups: np.ndarray, vectors: np.ndarray, eta: float,
                      limit: int | None = None) -> np.ndarray:
    """The greedy correlation remover R_eta, run independently inside each group.

    Within a group, vectors are taken in the given (time) order and one is kept
    when its largest correlation with the vectors already kept is ``< eta``
    (signed correlation, SPEC §1.7). Returns a boolean mask of kept vectors.

    Vectorised over groups: each round keeps the first undecided vector of every
    group and discards all later vectors of the group that correlate ``>= eta``
    with it, so the number of rounds is the largest number kept in a group.
    ``limit`` caps the vectors kept per group (the later ones are dropped).

    Examples
    --------
    >>> v = np.array([[0, 1, 2.0], [0, 1, 2.1], [2, 1, 0.0], [0, 1, 2.0]])
    >>> remove_correlated(np.array([0, 0, 0, 1]), v, 0.95).tolist()
    [True, False, True, True]
    """
    n = len(groups)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    z, flat = znormalise(vectors)
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    z, flat = z[order], flat[order]
    alive = np.ones(n, dtype=bool)
    kept_sorted = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    rounds = 0
    while idx.size:
        if limit is not None and rounds >= limit:
            break
        rounds += 1
        gi = g[idx]
        first = np.ones(idx.size, dtype=bool)
        first[1:] = gi[1:] != gi[:-1]
        firsts = idx[first]
        kept_sorted[firsts] = True
        alive[firsts] = False
        rest = idx[~first]
        if rest.size == 0:
            break
        # position (in idx) of the group's first for every remaining vector
        group_first = np.cumsum(first) - 1
        rep = firsts[group_first[~first]]
        c = corr_rows(z[rest], flat[rest], z[rep], flat[rep])
        alive[rest[c >= eta]] = False
        idx = np.flatnonzero(alive)
    keep[order] = kept_sorted
    return keep
