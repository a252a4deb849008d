"""Normality parameters of one sensor's viewpoint: NP-1, NP-2, NP-3 (SPEC §1.5).

A :class:`SensorNormality` holds, for each transition seen on the sensor, the
bounds of the extended vectors and the configurations kept by the correlation
remover. It is updated in place of being refitted: a batch of new healthy
vectors (``update``) widens bounds, adds transitions and re-applies R_eta to the
union of the kept and the new configurations - the same operation serves the
initial fit (chunk by chunk), ``partial_fit``, false-alarm feedback and merge.

A model whose score is the relations view alone (``view="relations"``, SPEC §6)
keeps no bounds and no configurations - the paper view's tables, which it never
scores with and which would be most of its size (6.8 of 10.8 MiB at 50 sensors
and 20 000 rows): only its seen transitions and their counts (:meth:`without_bounds`,
:func:`count`). Asking such a state for bounds raises an :class:`InputError` that
says to refit with ``view="paper"`` or ``"both"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from normalcy.detector.correlation import remove_correlated, znormalise
from normalcy.exceptions import InputError

#: why a state without the paper view's tables cannot give them
NO_PAPER_TABLES = (
    "this model was fitted with view='relations': it keeps the relations view's statistics "
    "and its seen transitions, but not the paper view's bounds and configurations, which "
    "the paper's residuals (contributions, bounds_, view='paper' or 'both') need. Refit it "
    "with view='paper' or view='both'.")


@dataclass
class SensorNormality:
    """What the detector keeps about one sensor's viewpoint.

    Attributes
    ----------
    codes : (n,) int64, sorted encoded transitions seen (NP-1).
    lo, hi : (n, nse) float64, component-wise bounds per transition (NP-2); (n, 0)
        in a state without the paper view's tables (:attr:`has_bounds`).
    conf : (n, vmax, nse) float64, kept configurations, NaN-padded (NP-3); (n, 0, nse)
        without the paper view's tables.
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
    def empty(cls, nse: int, *, bounds: bool = True) -> SensorNormality:
        """No transition seen; ``bounds=False``: a state without the paper's tables."""
        if not bounds:
            return cls.transitions_only(np.zeros(0, np.int64), np.zeros(0, np.int64), nse)
        return cls(
            codes=np.zeros(0, np.int64),
            lo=np.zeros((0, nse)),
            hi=np.zeros((0, nse)),
            conf=np.zeros((0, 1, nse)),
            n_conf=np.zeros(0, np.int64),
            counts=np.zeros(0, np.int64),
        )

    @classmethod
    def transitions_only(cls, codes: np.ndarray, counts: np.ndarray,
                         nse: int) -> SensorNormality:
        """Seen transitions and their counts, without the paper view's tables."""
        n = codes.size
        return cls(codes=codes, lo=np.zeros((n, 0)), hi=np.zeros((n, 0)),
                   conf=np.zeros((n, 0, nse)), n_conf=np.zeros(n, np.int64), counts=counts)

    def without_bounds(self) -> SensorNormality:
        """The same seen transitions and counts, without bounds and configurations."""
        return SensorNormality.transitions_only(self.codes, self.counts, self.nse)

    @property
    def nse(self) -> int:
        return int(self.conf.shape[2])

    @property
    def has_bounds(self) -> bool:
        """Whether the paper view's tables (bounds, configurations) are kept."""
        return int(self.lo.shape[1]) > 0

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)``; :class:`InputError` for a state without them."""
        if not self.has_bounds:
            raise InputError(NO_PAPER_TABLES)
        return self.lo, self.hi

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

    def kept(self) -> tuple[np.ndarray, np.ndarray]:
        """Every kept configuration, unpadded: ``(transition position, vector)``."""
        have = np.arange(self.conf.shape[1])[None, :] < self.n_conf[:, None]
        positions = np.broadcast_to(np.arange(self.codes.size)[:, None], have.shape)[have]
        return positions, self.conf[have]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain arrays for a model file; configurations stored ragged (kept ones only);
        no ``lo`` and ``hi`` for a state without bounds."""
        fields = ("codes", "lo", "hi", "n_conf", "counts") if self.has_bounds else (
            "codes", "n_conf", "counts")
        out = {f"{prefix}.{f}": getattr(self, f) for f in fields}
        out[f"{prefix}.conf"] = self.kept()[1]
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> SensorNormality:
        """Inverse of :meth:`to_arrays`; raises ``ValueError`` on inconsistent shapes.

        Without ``lo`` and ``hi`` (a state without bounds) ``conf`` must be empty."""
        n_conf = arrays[f"{prefix}.n_conf"].astype(np.int64)
        codes = arrays[f"{prefix}.codes"]
        flat, counts = arrays[f"{prefix}.conf"], arrays[f"{prefix}.counts"]
        if f"{prefix}.lo" not in arrays and f"{prefix}.hi" not in arrays:
            if (flat.ndim != 2 or flat.shape[0] != 0 or flat.shape[1] < 1 or n_conf.ndim != 1
                    or n_conf.any() or codes.shape != n_conf.shape
                    or counts.shape != codes.shape):
                raise ValueError(f"{prefix}: normality arrays without bounds must hold "
                                 "codes and counts of one shape and no configurations")
            return cls.transitions_only(codes, counts, int(flat.shape[1]))
        lo, hi = arrays[f"{prefix}.lo"], arrays[f"{prefix}.hi"]
        if (flat.ndim != 2 or lo.ndim != 2 or n_conf.ndim != 1 or (n_conf < 0).any()
                or flat.shape[0] != int(n_conf.sum()) or codes.shape != n_conf.shape
                or counts.shape != codes.shape
                or lo.shape != hi.shape or lo.shape[:1] != codes.shape
                or flat.shape[1] != lo.shape[1]):
            raise ValueError(f"{prefix}: normality arrays of inconsistent shapes")
        conf, _ = pad_configurations(np.repeat(np.arange(n_conf.size), n_conf), flat,
                                     n_conf.size)
        return cls(codes, lo, hi, conf, n_conf, counts)


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
    weights: np.ndarray | None = None,
) -> SensorNormality:
    """Teach ``state`` the healthy samples ``(codes, vectors)`` (in time order).

    Unseen transitions join NP-1 (eq. 14); bounds widen to include the vectors
    (eq. 17) - or, when ``bounds`` gives per-sample ``(lo, hi)`` boxes, to include
    those boxes; configurations become ``R_eta(V ∪ new)`` (eqs. 20-21), at most
    ``max_configurations`` per transition (kept ones are never dropped; 0 on a state
    without configurations keeps none: transitions and bounds only).
    ``weights`` says how many healthy samples each vector stands for (default 1);
    it only feeds ``counts``.
    """
    if codes.size == 0:
        return state
    if not state.has_bounds:
        return count(state, codes, weights)
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
    counts += np.bincount(pos, weights=weights, minlength=n).astype(np.int64)

    if max_configurations == 0 and state.n_conf.max(initial=0) == 0:  # bounds only
        return SensorNormality(new_codes, lo, hi, np.full((n, 1, nse), np.nan),
                               np.zeros(n, np.int64), counts)
    # R_eta over (kept configurations first, then the new vectors in time order)
    old_kept, old_vecs = state.kept()
    old_groups = old_pos[old_kept]
    all_groups = np.concatenate([old_groups, pos])
    all_vecs = np.concatenate([old_vecs, vectors])
    keep = remove_correlated(all_groups, all_vecs, eta, max_configurations,
                             kept=np.arange(all_groups.size) < old_groups.size)
    conf, n_conf = pad_configurations(all_groups[keep], all_vecs[keep], n)
    return SensorNormality(new_codes, lo, hi, conf, n_conf, counts)


def keeps_bounds(normality: Sequence[SensorNormality]) -> bool:
    """Whether every sensor keeps the paper view's tables (not so for a model fitted
    with ``view="relations"``)."""
    return all(st.has_bounds for st in normality)


def count(state: SensorNormality, codes: np.ndarray,
          weights: np.ndarray | None = None) -> SensorNormality:
    """``state`` having seen the transitions ``codes`` (each standing for ``weights``
    samples, default 1), without the paper view's tables: the update of a state that
    keeps only its seen transitions (NP-1) and their counts."""
    if codes.size == 0:
        return state
    new_codes = np.union1d(state.codes, codes)
    counts = np.zeros(new_codes.size, np.int64)
    counts[np.searchsorted(new_codes, state.codes)] = state.counts
    counts += np.bincount(np.searchsorted(new_codes, codes), weights=weights,
                          minlength=new_codes.size).astype(np.int64)
    return SensorNormality.transitions_only(new_codes, counts, state.nse)


def merge(a: SensorNormality, b: SensorNormality, eta: float) -> SensorNormality:
    """Union of transitions, min/max of bounds, R_eta(V_a ∪ V_b) (SPEC §2); the union
    of transitions and summed counts when either state keeps no bounds."""
    if not (a.has_bounds and b.has_bounds):
        return count(a.without_bounds(), b.codes, b.counts)
    positions, vecs = b.kept()
    # every kept configuration of b brings its transition's box; the first one of
    # each transition also brings the transition's sample count
    first = np.r_[True, positions[1:] != positions[:-1]]
    weights = np.where(first, b.counts[positions], 0)
    bare = np.flatnonzero(b.n_conf == 0)  # transitions known by their bounds only
    if bare.size == 0:
        return update(a, b.codes[positions], vecs, eta,
                      bounds=(b.lo[positions], b.hi[positions]), weights=weights)
    positions = np.r_[positions, bare]
    vecs = np.concatenate([vecs, (b.lo[bare] + b.hi[bare]) / 2])  # a box's centre
    weights = np.r_[weights, b.counts[bare]]
    bounds_only = a.n_conf.max(initial=0) == 0 and b.n_conf.max(initial=0) == 0
    return update(a, b.codes[positions], vecs, eta, bounds=(b.lo[positions], b.hi[positions]),
                  weights=weights, max_configurations=0 if bounds_only else None)
