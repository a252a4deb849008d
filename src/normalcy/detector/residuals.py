"""Per-sample contributions and windowed residuals, SPEC §1.8-1.9.

For each sensor ``i`` and instant ``t`` (the transition's start):

- ``e_trans = 1`` when the transition ``c[t, i]`` was never seen, else 0;
- ``e_bound = mean_j dist(w_i(t)_j, [lo_j, hi_j])`` with
  ``dist(x, [a, b]) = ((max(0, a-x) + max(0, x-b)) / (b - a + eps)) ** nu``;
- ``e_conf = 1 - max_v corr(w_i(t), v)`` over the kept configurations.

The last two are 0 for an unseen transition. Residuals are means over a window
of ``N`` contributions ending at ``t``; a window that reaches outside a gap-free
segment has no value (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from normalcy.detector.correlation import znormalise
from normalcy.detector.extended import chunks, extended_vectors, transition_codes
from normalcy.detector.normality import SensorNormality


@dataclass
class ScoringTables:
    """Lookup tables of one sensor, prepared once per model version."""

    lookup: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    zconf: np.ndarray
    flat: np.ndarray
    pad: np.ndarray
    n_conf: np.ndarray

    @classmethod
    def of(cls, state: SensorNormality, n_codes: int) -> ScoringTables:
        """The tables of ``state``; :class:`InputError` for a state without the paper
        view's tables (a model fitted with ``view="relations"``)."""
        lo, hi = state.bounds()
        z, flat, pad = state.zconf()
        return cls(state.lookup(n_codes), lo, hi, z, flat, pad, state.n_conf)


def best_correlation(tables: ScoringTables, positions: np.ndarray, zw: np.ndarray,
                     fw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest correlation of each vector with its transition's configurations.

    ``positions`` (all seen) index the transitions, ``zw``/``fw`` are the vectors
    z-normalised. Returns ``(best, which)``, ``which`` the index of the best
    configuration (a transition without configurations gives ``best = 1``,
    ``which = -1``). Samples are grouped by transition, so each group costs one
    matrix product with that transition's actual configurations (not the padded
    maximum over transitions).
    """
    best = np.empty(positions.size)
    which = np.empty(positions.size, dtype=np.int64)
    order = np.argsort(positions, kind="stable")
    ps = positions[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]]) if ps.size else ps
    for a, b in zip(starts, np.r_[starts[1:], ps.size], strict=True):
        k = int(ps[a])
        idx = order[a:b]
        n = int(tables.n_conf[k])
        if n == 0:  # a transition without configurations (bounds only): nothing to miss
            best[idx], which[idx] = 1.0, -1
            continue
        c = zw[idx] @ tables.zconf[k, :n].T
        flat = tables.flat[k, :n]
        if flat.any():
            c = np.where(flat[None, :] & fw[idx, None], 1.0, c)
        which[idx] = c.argmax(axis=1)
        best[idx] = c[np.arange(idx.size), which[idx]]
    return best, which


def bound_distance(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, eps: float,
                   nu: float) -> np.ndarray:
    """Component-wise ``dist(w_j, [lo_j, hi_j])`` (same shapes in, same shape out)."""
    d = (np.maximum(0.0, lo - w) + np.maximum(0.0, w - hi)) / (hi - lo + eps)
    return d if nu == 1.0 else d**nu


def contributions(
    tables: ScoringTables,
    scaled: np.ndarray,
    levels: np.ndarray,
    rows: np.ndarray,
    sensor: int,
    *,
    delta: int,
    n_levels: int,
    nu: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(e_trans, e_bound, e_conf, position)`` at ``rows`` seen from ``sensor``.

    ``position`` is the seen transition's index in the sensor's tables (-1 unseen).
    """
    m = rows.size
    e_trans = np.zeros(m)
    e_bound = np.zeros(m)
    e_conf = np.zeros(m)
    pos = tables.lookup[transition_codes(levels, rows, sensor, delta, n_levels)]
    nse = scaled.shape[1] + delta - 1
    for sl in chunks(m, nse, budget=CHUNK_FLOATS):
        r = rows[sl]
        k = pos[sl]
        seen = k >= 0
        e_trans[sl] = (~seen).astype(np.float64)
        if not seen.any():
            continue
        w = extended_vectors(scaled, r[seen], sensor, delta)
        ks = k[seen]
        d = bound_distance(w, tables.lo[ks], tables.hi[ks], eps, nu)
        eb = np.zeros(r.size)
        eb[seen] = d.mean(axis=1)
        e_bound[sl] = eb
        zw, fw = znormalise(w)
        ec = np.zeros(r.size)
        ec[seen] = 1.0 - best_correlation(tables, ks, zw, fw)[0]
        e_conf[sl] = ec
    return e_trans, e_bound, e_conf, pos


#: extended-vector numbers scored at a time (3 MB: about 10 000 rows at 40 components).
#: Cache-sized blocks score a long series 1.4 times faster than blocks of 2e7 numbers
#: (20 sensors, 100 000 rows: 37 800 against 27 000 rows/s); rows are independent, so
#: only the last bits of a correlation (BLAS's summation order) depend on the block.
CHUNK_FLOATS = 4e5


def window_mean(contrib: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at every row; NaN unless all are defined.

    Works along axis 0 of a (T,) or (T, k) array, with cumulative sums, a few
    columns at a time (:data:`CHUNK_FLOATS` ``* 10`` numbers): the temporaries of a
    long history stay small (4 million rows x 80 columns had taken 5 GB of them).
    Columns are independent, so the chunking changes no bit of the result.

    Examples
    --------
    >>> window_mean(np.array([1.0, 2.0, np.nan, 4.0, 6.0, 8.0]), 2).tolist()
    [nan, 1.5, nan, nan, 5.0, 7.0]
    """
    flat = contrib.reshape(contrib.shape[0], -1)
    out = np.full(flat.shape, np.nan)
    T = flat.shape[0]
    if T >= window:
        for sl in chunks(flat.shape[1], T, budget=10 * CHUNK_FLOATS):
            valid = ~np.isnan(flat[:, sl])
            cs = np.zeros((T + 1, valid.shape[1]))
            np.cumsum(np.where(valid, flat[:, sl], 0.0), axis=0, out=cs[1:])
            cn = np.zeros((T + 1, valid.shape[1]), dtype=np.int64)
            np.cumsum(valid, axis=0, out=cn[1:])
            del valid
            s = cs[window:] - cs[:-window]
            del cs
            full = (cn[window:] - cn[:-window]) == window
            del cn
            s /= window
            np.copyto(out[window - 1:, sl], s, where=full)
    return out.reshape(contrib.shape)


def abnormal_pairs(e: dict[str, np.ndarray], eta: float) -> np.ndarray:
    """1.0 where the normal model finds a sample abnormal, 0 not, NaN undefined.

    Abnormal: an unseen transition, a bound distance above 0, or a configuration
    residual above ``1 - eta`` (no training sample has one). Same shape as the
    contributions in ``e``.
    """
    ab = ((e["e_trans"] > 0) | (e["e_bound"] > 0)
          | (e["e_conf"] > 1.0 - eta + 1e-12)).astype(np.float64)
    ab[np.isnan(e["e_conf"])] = np.nan
    return ab
