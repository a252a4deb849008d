"""Exact, additive sufficient statistics of one sensor's viewpoints (SPEC §6).

The viewpoint of sensor ``i`` at a transition's start ``t`` is the present plant
state (all sensors at ``t``, scaled units) followed by ``i``'s own value at
``t - lag`` for each lag; its context is ``i``'s transition code at ``t``. The
statistics (count, sum, packed sum of outer products per covariance unit) add,
subtract and merge exactly; nothing of the data is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from normalcy.detector import gaussian as gs
from normalcy.detector.extended import chunks, transition_codes
from normalcy.exceptions import InputError

GRANULARITIES = ("transition", "level", "global")


def default_lags(delta: int) -> np.ndarray:
    """Powers of two below ``delta - 1``, then ``delta - 1``.

    Examples
    --------
    >>> default_lags(20).tolist(), default_lags(5).tolist(), default_lags(1).tolist()
    ([1, 2, 4, 8, 16, 19], [1, 2, 4], [])
    """
    if delta <= 1:
        return np.zeros(0, dtype=np.int64)
    p = 2 ** np.arange(int(np.log2(max(1, delta - 1))) + 1)
    return np.unique(np.r_[p[p < delta - 1], delta - 1]).astype(np.int64)


def viewpoints(scaled: np.ndarray, rows: np.ndarray, sensor: int,
               lags: np.ndarray) -> np.ndarray:
    """``[x[t, :], x[t - lags, sensor]]`` at each row: shape ``(len(rows), ns + L)``.

    Examples
    --------
    >>> s = np.arange(12.0).reshape(6, 2)
    >>> viewpoints(s, np.array([3]), 1, np.array([1, 2])).tolist()
    [[6.0, 7.0, 5.0, 3.0]]
    """
    present = scaled[rows]
    if lags.size == 0:
        return np.ascontiguousarray(present)
    return np.concatenate([present, scaled[rows[:, None] - lags[None, :], sensor]], axis=1)


@dataclass
class RelationStats:
    """Exact, additive sufficient statistics of one sensor's viewpoints.

    ``codes (K,)`` the seen transitions (sorted), ``count (K,)``, ``total (K, d)``;
    ``groups (G,)`` the covariance units' keys (the code, the level or 0, per
    ``granularity``) and ``outer (G, d(d+1)/2)`` their packed sums of ``v vᵀ``.
    """

    codes: np.ndarray
    count: np.ndarray
    total: np.ndarray
    groups: np.ndarray
    outer: np.ndarray
    n_levels: int
    granularity: str

    @property
    def d(self) -> int:
        return int(self.total.shape[1])

    @property
    def floats(self) -> int:
        """Numbers stored (what a model file holds for this sensor)."""
        return int(self.codes.size + self.count.size + self.total.size + self.groups.size
                   + self.outer.size)

    def group_key(self, codes: np.ndarray) -> np.ndarray:
        if self.granularity == "transition":
            return codes
        if self.granularity == "level":
            return codes // self.n_levels
        return np.zeros_like(codes)

    @classmethod
    def empty(cls, d: int, n_levels: int, granularity: str) -> RelationStats:
        if granularity not in GRANULARITIES:
            raise InputError(f"granularity must be one of {GRANULARITIES}. "
                             f"Got {granularity!r} instead.")
        z = np.zeros(0, dtype=np.int64)
        return cls(z, np.zeros(0), np.zeros((0, d)), z.copy(),
                   np.zeros((0, d * (d + 1) // 2)), int(n_levels), granularity)

    @classmethod
    def of(cls, vectors: np.ndarray, codes: np.ndarray, *, n_levels: int, granularity: str,
           weight: float = 1.0) -> RelationStats:
        """Statistics of ``vectors (m, d)`` whose transitions are ``codes (m,)``."""
        out = cls.empty(vectors.shape[1], n_levels, granularity)
        if codes.size == 0:
            return out
        order = np.argsort(codes, kind="stable")
        cs, vs = codes[order], vectors[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        out.codes = cs[starts].astype(np.int64)
        out.count = np.diff(np.r_[starts, cs.size]).astype(np.float64) * weight
        out.total = np.add.reduceat(vs, starts, axis=0) * weight
        keys = out.group_key(cs)
        gstarts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        out.groups = keys[gstarts].astype(np.int64)
        iu = np.triu_indices(vs.shape[1])
        out.outer = np.stack([(vs[a:b].T @ vs[a:b])[iu] for a, b in
                              zip(gstarts, np.r_[gstarts[1:], cs.size], strict=True)]) * weight
        return out

    def _check(self, other: RelationStats) -> None:
        if (other.d, other.n_levels, other.granularity) != (self.d, self.n_levels,
                                                            self.granularity):
            raise InputError(
                "cannot combine relation statistics of different shapes: "
                f"(d, n_levels, granularity) = {(self.d, self.n_levels, self.granularity)} "
                f"and {(other.d, other.n_levels, other.granularity)}. Fit both with the same "
                "sensors, lags, quantizers and granularity.")

    def aligned(self, codes: np.ndarray, groups: np.ndarray) -> RelationStats:
        """The same statistics on supersets of the codes and groups (zeros elsewhere)."""
        if np.array_equal(codes, self.codes) and np.array_equal(groups, self.groups):
            return self
        k = np.searchsorted(codes, self.codes)
        g = np.searchsorted(groups, self.groups)
        if (k.size and not np.array_equal(codes[np.minimum(k, codes.size - 1)], self.codes)) or (
                g.size and not np.array_equal(groups[np.minimum(g, groups.size - 1)],
                                              self.groups)):
            raise ValueError("aligned() needs supersets of the statistics' codes and groups")
        count = np.zeros(codes.size)
        total = np.zeros((codes.size, self.d))
        outer = np.zeros((groups.size, self.outer.shape[1]))
        count[k], total[k], outer[g] = self.count, self.total, self.outer
        return RelationStats(codes, count, total, groups, outer, self.n_levels, self.granularity)

    def add(self, other: RelationStats, weight: float = 1.0) -> RelationStats:
        """``self + weight * other`` on the union of their transitions (a new object)."""
        self._check(other)
        codes = np.union1d(self.codes, other.codes).astype(np.int64)
        groups = np.union1d(self.groups, other.groups).astype(np.int64)
        a, b = self.aligned(codes, groups), other.aligned(codes, groups)
        return RelationStats(codes, a.count + weight * b.count, a.total + weight * b.total,
                             groups, a.outer + weight * b.outer, self.n_levels,
                             self.granularity)

    def subtract(self, other: RelationStats, weight: float = 1.0) -> RelationStats:
        """``self - weight * other``; transitions left with no count stay (see :meth:`pruned`)."""
        return self.add(other, -weight)

    def pruned(self, tol: float = 1e-9) -> RelationStats:
        """Drop transitions (and covariance units) whose count is within ``tol`` of 0."""
        keep = np.abs(self.count) > tol
        codes = self.codes[keep]
        gkeep = np.isin(self.groups, self.group_key(codes))
        return RelationStats(codes, self.count[keep], self.total[keep], self.groups[gkeep],
                             self.outer[gkeep], self.n_levels, self.granularity)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain numeric arrays for a model file (``from_arrays`` reads them back)."""
        return {f"{prefix}.codes": self.codes, f"{prefix}.count": self.count,
                f"{prefix}.total": self.total, f"{prefix}.groups": self.groups,
                f"{prefix}.outer": self.outer}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str, *, n_levels: int,
                    granularity: str) -> RelationStats:
        a = {k: np.asarray(arrays[f"{prefix}.{k}"]) for k in
             ("codes", "count", "total", "groups", "outer")}
        d = a["total"].shape[1]
        if a["outer"].shape[1] != d * (d + 1) // 2 or a["count"].size != a["codes"].size:
            raise ValueError(f"{prefix}: relation statistics arrays have inconsistent shapes")
        return cls(a["codes"].astype(np.int64), a["count"].astype(np.float64),
                   a["total"].astype(np.float64), a["groups"].astype(np.int64),
                   a["outer"].astype(np.float64), int(n_levels), granularity)

    def tree(self, ridge: float) -> gs.Tree:
        """The transition / level / global statistics the models are derived from."""
        return gs.build_tree(self.codes, self.count, self.total, self.groups, self.outer,
                             n_levels=self.n_levels, granularity=self.granularity, ridge=ridge)


def finest_granularity(levels: np.ndarray, rows: np.ndarray, n_lags: int, delta: int,
                       n_levels: int, dynamics: bool, max_floats: int) -> str:
    """The finest granularity (transition, level, global) whose statistics at ``rows``
    fit ``max_floats`` numbers (a relations view's ``granularity="auto"``)."""
    ns = levels.shape[1]
    later = rows + delta  # one sensor at a time: no (rows, ns) temporaries
    K = np.array([np.unique(levels[rows, i] * n_levels + levels[later, i]).size
                  for i in range(ns)])
    nl = np.array([np.unique(levels[rows, i]).size for i in range(ns)])
    return _granularity(K, nl, n_lags, delta, dynamics, max_floats)


def budget_granularity(n_sensors: int, n_lags: int, delta: int, n_levels: int, *,
                       dynamics: bool = True, max_floats: int = 1_000_000) -> str:
    """:func:`finest_granularity` of a history that saw every transition and level of
    every sensor: the granularity the size budget leaves a plant this wide, whatever its
    history (``"global"``, one covariance per sensor, from about 75 sensors at 4 levels).

    Examples
    --------
    >>> [budget_granularity(ns, 3, 5, 4) for ns in (6, 55, 200)]
    ['transition', 'level', 'global']
    """
    return _granularity(np.full(n_sensors, n_levels * n_levels), np.full(n_sensors, n_levels),
                        n_lags, delta, dynamics, max_floats)


def _granularity(K: np.ndarray, nl: np.ndarray, n_lags: int, delta: int, dynamics: bool,
                 max_floats: int) -> str:
    """The finest granularity for ``K`` transitions and ``nl`` levels per sensor."""
    ns = K.size
    d = ns + n_lags
    means = int(np.sum(K * (2 + d)))
    if delta >= 2 and dynamics:  # the dynamics': 2 ns components, one unit
        means += 3 + 2 * ns + ns * (2 * ns + 1)
    for gran, units in (("transition", K), ("level", nl), ("global", np.ones(ns, int))):
        if means + int(np.sum(units * (1 + d * (d + 1) // 2))) <= max_floats:
            return gran
    return "global"


def present_outer(scaled: np.ndarray, rows: np.ndarray, budget: float = 2e7) -> np.ndarray:
    """``Σ x[t] x[t]ᵀ`` over ``rows``: the present block of every sensor's outer sums."""
    ns = scaled.shape[1]
    out = np.zeros((ns, ns))
    for sl in chunks(rows.size, ns, budget=budget):
        p = scaled[rows[sl]]
        out += p.T @ p
    return out


def accumulate(scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, sensor: int, *,
               delta: int, n_levels: int, lags: np.ndarray, granularity: str,
               weight: float = 1.0, budget: float = 2e7,
               shared: np.ndarray | None = None) -> RelationStats:
    """Statistics of sensor ``sensor``'s viewpoints at ``rows``, in chunks of bounded size.

    ``rows`` must have ``rows - max(lags) >= 0`` and ``rows + delta < len(scaled)``
    within one gap-free segment (the caller's ``valid_starts``). With one covariance
    per sensor (``granularity="global"``) the present block of the outer sums is the
    same for every sensor: ``shared`` (:func:`present_outer` of ``rows``) passes it
    in, so that a loop over the sensors sums it once, not once per sensor (at 200
    sensors that was 45 % of the fit).
    """
    d = scaled.shape[1] + lags.size
    if granularity == "global":
        return _accumulate_global(scaled, levels, rows, sensor, delta=delta,
                                  n_levels=n_levels, lags=lags, weight=weight, budget=budget,
                                  shared=shared)
    out = RelationStats.empty(d, n_levels, granularity)
    for sl in chunks(rows.size, d * d, budget=budget):
        r = rows[sl]
        codes = transition_codes(levels, r, sensor, delta, n_levels)
        v = viewpoints(scaled, r, sensor, lags)
        out = out.add(RelationStats.of(v, codes, n_levels=n_levels, granularity=granularity,
                                       weight=weight))
    return out


def _accumulate_global(scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, sensor: int,
                       *, delta: int, n_levels: int, lags: np.ndarray, weight: float,
                       budget: float, shared: np.ndarray | None) -> RelationStats:
    """:func:`accumulate` with one covariance unit: counts and sums per transition by a
    sparse one-hot product, the outer sums assembled from the present block
    (``shared``), the present-lag block and the lag block."""
    ns, L = scaled.shape[1], lags.size
    out = RelationStats.empty(ns + L, n_levels, "global")
    pg, gg = np.zeros((ns, L)), np.zeros((L, L))
    codes_all, count_all, total_all = [], [], []
    for sl in chunks(rows.size, ns + L, budget=budget):
        r = rows[sl]
        present = scaled[r]
        lagged = scaled[r[:, None] - lags[None, :], sensor] if L else np.zeros((r.size, 0))
        codes, inv = np.unique(transition_codes(levels, r, sensor, delta, n_levels),
                               return_inverse=True)
        onehot = csr_matrix((np.ones(r.size), (inv, np.arange(r.size))),
                            shape=(codes.size, r.size))
        codes_all.append(codes)
        count_all.append(np.bincount(inv, minlength=codes.size).astype(np.float64))
        total_all.append(np.concatenate([onehot @ present, onehot @ lagged], axis=1))
        pg += present.T @ lagged
        gg += lagged.T @ lagged
    if not codes_all:
        return out
    codes, inv = np.unique(np.concatenate(codes_all), return_inverse=True)
    count = np.bincount(inv, weights=np.concatenate(count_all), minlength=codes.size)
    total = np.zeros((codes.size, ns + L))
    np.add.at(total, inv, np.concatenate(total_all))
    pp = present_outer(scaled, rows, budget) if shared is None else shared
    full = np.block([[pp, pg], [pg.T, gg]])
    out.codes, out.count, out.total = codes.astype(np.int64), count * weight, total * weight
    out.groups = np.zeros(1, dtype=np.int64)
    out.outer = gs.pack(full)[None] * weight
    return out


def moved(stats: RelationStats, scale: np.ndarray, shift: np.ndarray,
          level_map: np.ndarray) -> RelationStats:
    """The statistics of the same viewpoints on another unit: each component mapped by
    ``v -> scale * v + shift`` (exact for sums and outer products), each transition
    ``(a, b)`` renamed ``(level_map[a], level_map[b])``; transitions (and covariance
    units) that land on one code are summed. Used to carry a relations view across
    units (:class:`normalcy.transfer.TransitionTransfer`)."""
    nq, d = stats.n_levels, stats.d
    old_codes = stats.codes
    codes = level_map[old_codes // nq] * nq + level_map[old_codes % nq]
    total = stats.total * scale + stats.count[:, None] * shift
    # per old covariance unit: its count and total, to move the outer products exactly
    keys = stats.group_key(old_codes)
    g = np.searchsorted(stats.groups, keys)
    n_g = np.bincount(g, weights=stats.count, minlength=stats.groups.size)
    t_g = np.zeros((stats.groups.size, d))
    np.add.at(t_g, g, stats.total)
    S = gs.unpack(stats.outer, d)
    Dt = t_g * scale
    S = (S * np.outer(scale, scale)[None] + Dt[:, :, None] * shift[None, None, :]
         + shift[None, :, None] * Dt[:, None, :] + n_g[:, None, None] * np.outer(shift, shift))
    new_keys = {"transition": level_map[stats.groups // nq] * nq + level_map[stats.groups % nq],
                "level": level_map[np.clip(stats.groups, 0, nq - 1)],
                "global": np.zeros_like(stats.groups)}[stats.granularity]
    groups, gi = np.unique(new_keys, return_inverse=True)
    outer = np.zeros((groups.size, d, d))
    np.add.at(outer, gi, S)
    ucodes, ci = np.unique(codes, return_inverse=True)
    count = np.bincount(ci, weights=stats.count, minlength=ucodes.size)
    tot = np.zeros((ucodes.size, d))
    np.add.at(tot, ci, total)
    return RelationStats(ucodes.astype(np.int64), count, tot, groups.astype(np.int64),
                         gs.pack(outer), nq, stats.granularity)


def plus(a: RelationStats | None, b: RelationStats | None) -> RelationStats | None:
    """``a + b``; None stands for no statistics."""
    if a is None or b is None:
        return b if a is None else a
    return a.add(b)


def plus_each(a: list[RelationStats] | None, b: list[RelationStats] | None
              ) -> list[RelationStats] | None:
    """Per sensor ``a + b``; None stands for no statistics."""
    if a is None or b is None:
        return b if a is None else a
    return [x.add(y) for x, y in zip(a, b, strict=True)]


def held_out_kappa(total: RelationStats, parts: list[RelationStats], grid: np.ndarray,
                   n_present: int, ridge: float) -> tuple[float, float]:
    """``(kappa_level, kappa_transition)`` (pseudo-samples) maximising the likelihood
    of each of ``parts`` given ``total`` without it; ``grid`` in multiples of the
    viewpoint's dimension (:func:`normalcy.detector.gaussian.choose_kappa`)."""
    pairs = [(total.subtract(p).tree(ridge), p.aligned(total.codes, total.groups).tree(ridge))
             for p in parts]
    k1, k2, _ = gs.choose_kappa(pairs, np.asarray(grid, dtype=np.float64) * total.d, n_present)
    return k1, k2


def taught_lookup(taught: list[RelationStats], n_levels: int) -> np.ndarray:
    """``(ns, n_levels²)`` booleans: the transitions each sensor was taught (a count
    above 0), looked up by transition code."""
    out = np.zeros((len(taught), n_levels * n_levels), dtype=bool)
    for i, st in enumerate(taught):
        out[i, st.codes[st.count > 0]] = True
    return out
