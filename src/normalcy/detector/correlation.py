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
    z = vectors - vectors.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("...k,...k->...", z, z))
    scale = np.maximum(1.0, np.maximum(vectors.max(axis=-1), -vectors.min(axis=-1)))
    flat = norm <= 1e-12 * scale
    z /= np.where(flat, 1.0, norm)[..., None]  # in place: one copy of the vectors
    z[flat] = 0.0
    return z, flat


def corr_rows(za: np.ndarray, fa: np.ndarray, zb: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Row-wise correlation of two z-normalised stacks of equal shape."""
    c = np.einsum("...k,...k->...", za, zb)
    return np.where(fa & fb, 1.0, c)


#: vectors of one group compared with the kept ones at a time (one matrix product)
BLOCK = 512
#: a block's candidates are compared all pairs at once unless fewer than one in
#: ``LAZY`` can still be kept (a cap nearly reached): then each kept vector is compared
#: with the candidates as it is kept
LAZY = 8


def remove_correlated(groups: np.ndarray, vectors: np.ndarray, eta: float,
                      limit: int | None = None, kept: np.ndarray | None = None) -> np.ndarray:
    """The greedy correlation remover R_eta, run independently inside each group.

    Within a group, vectors are taken in the given (time) order and one is kept
    when its largest correlation with the vectors already kept is ``< eta``
    (signed correlation, SPEC §1.7). Returns a boolean mask of kept vectors.
    ``limit`` caps the vectors kept per group (the later ones are dropped; never
    below the number ``kept`` marks in the group).
    ``kept`` marks vectors known to be kept already (an earlier run's result, first
    in their group): they are kept without being compared among themselves again.

    Groups of at most :data:`BLOCK` vectors are settled together in rounds: each
    round keeps the first undecided vector of every group and discards the later
    ones of the group that correlate ``>= eta`` with it (as many rounds as the most
    kept in a group; fast for many small groups, as on Lorenz). A larger group is
    taken :data:`BLOCK` vectors at a time: one matrix product against the vectors
    kept so far discards most of the block, and the few left are settled among
    themselves, one kept vector per step (about vectors x kept x dimension
    multiply-adds in BLAS: wide, noisy histories keep hundreds per transition).

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
    fixed = np.zeros(n, dtype=bool) if kept is None else np.asarray(kept, dtype=bool)
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    edges = np.r_[np.flatnonzero(np.r_[True, g[1:] != g[:-1]]), n]
    if limit is not None:  # vectors kept before stay kept, however many a group holds
        limit = max(int(limit), int(np.add.reduceat(fixed[order], edges[:-1]).max()))
    small = np.diff(edges) <= BLOCK
    sel = order[np.repeat(small, np.diff(edges))]  # the small groups' vectors, by group
    if sel.size:
        keep[sel] = _rounds(groups[sel], z[sel], flat[sel], fixed[sel], eta, limit)
    for a, b in zip(edges[:-1][~small], edges[1:][~small], strict=True):
        idx = order[a:b]
        keep[idx] = _greedy(z[idx], flat[idx], fixed[idx], eta, limit)
    return keep


def _rounds(g: np.ndarray, z: np.ndarray, flat: np.ndarray, fixed: np.ndarray, eta: float,
            limit: int | None) -> np.ndarray:
    """R_eta of groups sorted by ``g`` (each in time order), all groups a round at a time."""
    n = g.size
    alive = np.ones(n, dtype=bool)
    kept = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    rounds = 0
    while idx.size and (limit is None or rounds < limit):
        rounds += 1
        gi = g[idx]
        first = np.ones(idx.size, dtype=bool)
        first[1:] = gi[1:] != gi[:-1]
        firsts = idx[first]
        kept[firsts] = True
        alive[firsts] = False
        rest = idx[~first]
        if rest.size == 0:
            break
        rep = firsts[(np.cumsum(first) - 1)[~first]]  # the group's first, for each of rest
        c = corr_rows(z[rest], flat[rest], z[rep], flat[rep])
        alive[rest[(c >= eta) & ~fixed[rest]]] = False  # kept before: kept again
        idx = np.flatnonzero(alive)
    return kept


def _greedy(z: np.ndarray, flat: np.ndarray, fixed: np.ndarray, eta: float,
            limit: int | None) -> np.ndarray:
    """R_eta of one group's z-normalised vectors in order (``fixed``: kept already)."""
    m = z.shape[0]
    keep = fixed.copy()
    k = int(fixed.sum())
    cap = m if limit is None else int(limit)
    kz, kf = z[fixed], flat[fixed]
    for a in range(0, m, BLOCK):
        if k >= cap:
            break
        sl = np.arange(a, min(m, a + BLOCK))
        sl = sl[~fixed[sl]]
        if sl.size == 0:
            continue
        zb, fb = z[sl], flat[sl]
        alive = ~_correlated(zb, fb, kz, kf, eta).any(axis=1)
        cand = sl[alive]
        if cand.size == 0:
            continue
        zc, fc = z[cand], flat[cand]
        # few left to keep (a cap): one product per kept vector, not all pairs
        c = None if (cap - k) * LAZY < cand.size else _correlated(zc, fc, zc, fc, eta)
        live = np.ones(cand.size, dtype=bool)
        new = []
        while k < cap and live.any():
            j = int(np.argmax(live))  # the first vector still undecided is kept
            new.append(j)
            k += 1
            live &= ~(c[j] if c is not None else
                      _correlated(zc[j:j + 1], fc[j:j + 1], zc, fc, eta)[0])
            live[j] = False
        keep[cand[new]] = True
        kz, kf = np.concatenate([kz, z[cand[new]]]), np.concatenate([kf, flat[cand[new]]])
    return keep


def _correlated(za: np.ndarray, fa: np.ndarray, zb: np.ndarray, fb: np.ndarray,
                eta: float) -> np.ndarray:
    """``(len(za), len(zb))``: correlation ``>= eta`` (two flat vectors: 1)."""
    c = za @ zb.T
    c[np.ix_(fa, fb)] = 1.0
    return c >= eta
