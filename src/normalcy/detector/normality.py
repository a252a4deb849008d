"""Normality parameters of one sensor's viewpoint: NP-1, NP-2, NP-3 (SPEC §1.5).

A :class:`SensorNormality` holds, for each transition seen on the sensor, the
bounds of the extended vectors and the configurations kept by the correlation
remover. It is updated in place of being refitted: a batch of new healthy
vectors (``update``) widens bounds, adds transitions and re-applies R_eta to the
union of the kept and the new configurations - the same operation serves the
initial fit (chunk by chunk), ``partial_fit``, false-alarm feedback and merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from normalcy.detector.correlation import remove_correlated, znormalise


@dataclass
class SensorNormality:
    """What the detector keeps about one sensor's viewpoint.

    Attributes
    ----------
    codes : (n,) int64, sorted encoded transitions seen (NP-1).
    lo, hi : (n, nse) float64, component-wise bounds per transition (NP-2).
    conf : (n, vmax, nse) float64, kept configurations, NaN-padded (NP-3).
    n_conf : (n,) int64, how many configurations each transition keeps.
    counts : (n,) int64, how many healthy samples taught each transition.
    """

    codes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    conf: np.ndarray
    n_conf: np.ndarray
    counts: np.ndarray

    @classmethod
    def empty(cls, nse: int) -> SensorNormality:
        return cls(
            codes=np.zeros(0, np.int64),
            lo=np.zeros((0, nse)),
            hi=np.zeros((0, nse)),
            conf=np.zeros((0, 1, nse)),
            n_conf=np.zeros(0, np.int64),
            counts=np.zeros(0, np.int64),
        )

    @property
    def nse(self) -> int:
        return int(self.lo.shape[1])

    def lookup(self, n_codes: int) -> np.ndarray:
        """Table ``code -> position`` (-1 for unseen), of length ``n_codes``."""
        table = np.full(n_codes, -1, dtype=np.int64)
        table[self.codes] = np.arange(self.codes.size)
        return table

    def zconf(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """z-normalised configurations, their flat flags and the padding mask."""
        vmax = self.conf.shape[1]
        pad = np.arange(vmax)[None, :] >= self.n_conf[:, None]
        z, flat = znormalise(np.where(pad[..., None], 0.0, self.conf))
        z[pad] = 0.0
        flat = flat & ~pad
        return z, flat, pad

    def configurations(self, position: int) -> np.ndarray:
        """The kept configurations of the transition at ``position``."""
        return self.conf[position, : self.n_conf[position]]


def pad_configurations(groups: np.ndarray, vectors: np.ndarray,
                       n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Pack vectors (sorted stably by group) into a NaN-padded (n_groups, vmax, nse)."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    n_conf = np.bincount(g, minlength=n_groups).astype(np.int64)
    vmax = max(1, int(n_conf.max(initial=0)))
    starts = np.concatenate([[0], np.cumsum(n_conf)[:-1]])
    rank = np.arange(g.size) - starts[g]
    out = np.full((n_groups, vmax, vectors.shape[1]), np.nan)
    out[g, rank] = vectors[order]
    return out, n_conf


def update(
    state: SensorNormality,
    codes: np.ndarray,
    vectors: np.ndarray,
    eta: float,
    *,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    max_configurations: int | None = None,
) -> SensorNormality:
    """Teach ``state`` the healthy samples ``(codes, vectors)`` (in time order).

    Unseen transitions join NP-1 (eq. 14); bounds widen to include the vectors
    (eq. 17) - or, when ``bounds`` gives per-sample ``(lo, hi)`` boxes, to include
    those boxes; configurations become ``R_eta(V ∪ new)`` (eqs. 20-21), at most
    ``max_configurations`` per transition (kept ones are never dropped).
    """
    if codes.size == 0:
        return state
    new_codes = np.union1d(state.codes, codes)
    n = new_codes.size
    nse = state.nse
    old_pos = np.searchsorted(new_codes, state.codes)
    pos = np.searchsorted(new_codes, codes)

    lo = np.full((n, nse), np.inf)
    hi = np.full((n, nse), -np.inf)
    lo[old_pos] = state.lo
    hi[old_pos] = state.hi
    b_lo, b_hi = (vectors, vectors) if bounds is None else bounds
    order = np.argsort(pos, kind="stable")
    ps = pos[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    groups = ps[starts]
    lo[groups] = np.minimum(lo[groups], np.minimum.reduceat(b_lo[order], starts, axis=0))
    hi[groups] = np.maximum(hi[groups], np.maximum.reduceat(b_hi[order], starts, axis=0))

    counts = np.zeros(n, np.int64)
    counts[old_pos] = state.counts
    counts += np.bincount(pos, minlength=n)

    # R_eta over (kept configurations first, then the new vectors in time order)
    vmax = state.conf.shape[1]
    have = np.arange(vmax)[None, :] < state.n_conf[:, None]
    old_groups = np.broadcast_to(old_pos[:, None], have.shape)[have]
    old_vecs = state.conf[have]
    all_groups = np.concatenate([old_groups, pos])
    all_vecs = np.concatenate([old_vecs, vectors])
    limit = None
    if max_configurations is not None:
        limit = max(int(max_configurations), int(state.n_conf.max(initial=0)))
    keep = remove_correlated(all_groups, all_vecs, eta, limit)
    conf, n_conf = pad_configurations(all_groups[keep], all_vecs[keep], n)
    return SensorNormality(new_codes, lo, hi, conf, n_conf, counts)


def merge(a: SensorNormality, b: SensorNormality, eta: float) -> SensorNormality:
    """Union of transitions, min/max of bounds, R_eta(V_a ∪ V_b) (SPEC §2)."""
    vmax = b.conf.shape[1]
    have = np.arange(vmax)[None, :] < b.n_conf[:, None]
    codes = np.broadcast_to(b.codes[:, None], have.shape)[have]
    vecs = b.conf[have]
    # every transition of b contributes its box; configurations are re-filtered
    lo_rows = np.broadcast_to(b.lo[:, None, :], (*have.shape, b.nse))[have]
    hi_rows = np.broadcast_to(b.hi[:, None, :], (*have.shape, b.nse))[have]
    out = update(a, codes, vecs, eta, bounds=(lo_rows, hi_rows))
    # counts: b's counts replace the per-configuration increments made by update
    pos_b = np.searchsorted(out.codes, b.codes)
    counts = out.counts.copy()
    counts[pos_b] += b.counts - b.n_conf
    out.counts = counts
    return out
