"""The relations view (SPEC §6): context-conditioned Gaussian statistics per sensor viewpoint.

The viewpoint of sensor ``i`` at a transition's start ``t`` is the present plant
state (all sensors at ``t``, scaled units) followed by ``i``'s own value at
``t - lag`` for each lag. Its context is ``i``'s transition code at ``t``
(``q[t,i] * n_levels + q[t+Δ,i]``), ``i``'s level (``code // n_levels``) and the
sensor as a whole.

:class:`RelationStats` holds the exact, additive sufficient statistics of one
sensor's viewpoints per seen transition (count, sum, packed sum of outer
products per covariance unit); :class:`RelationsView` accumulates them for every
sensor in bounded-memory chunks, chooses per sensor the shrinkage weights
``κ`` (level towards global, transition towards level) by held-out likelihood
on contiguous folds, and scores the conditional residuals
(:mod:`normalcy.detector.gaussian`). Nothing of the data is kept. Outer
products are kept per transition (the SPEC's model, ``1 + d + d(d+1)/2`` floats
per seen transition), per level or once per sensor (``granularity``).

Statistics an operator teaches ("normal" feedback, :meth:`RelationsView.add_examples`)
are kept apart (``taught_``): a row is scored by the healthy model, the healthy plus
taught one and the taught one alone (:mod:`normalcy.detector.relation_taught`), and keeps
the smallest residual. Teaching lowers scores near the range and raises none (adding it
to the pools moved the level and global models that every context is shrunk towards: on
ETC 2 % of the training regime's rows went into alarm, ``docs/benchmarks.md``)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from normalcy.detector import dynamics, relation_files, steps
from normalcy.detector import gaussian as gs
from normalcy.detector.extended import chunks
from normalcy.detector.naming import PlantModel
from normalcy.detector.readings import Readings
from normalcy.detector.relation_stats import (
    GRANULARITIES,
    RelationStats,
    accumulate,
    default_lags,
    finest_granularity,
    held_out_kappa,
    plus,
    plus_each,
    present_outer,
    taught_lookup,
    viewpoints,
)
from normalcy.detector.relation_taught import smallest, spliced, taught_views
from normalcy.exceptions import InputError

__all__ = ["GRANULARITIES", "KAPPA_GRID", "RelationStats", "RelationsView", "accumulate",
           "default_lags", "viewpoints"]

#: shrinkage weights tried, in multiples of the viewpoint's dimension ``d``
KAPPA_GRID = (1 / 256, 1 / 32, 0.25, 2.0, 16.0, float("inf"))


class RelationsView:
    """The relations view of every sensor: statistics, shrinkage, conditional residuals.

    Works on scaled values and quantized levels (the detector's scaler and
    quantizers) at given transition starts ``rows`` (the detector's
    ``valid_starts(delta - 1, delta)``); a kernel for ``TransitionDetector``.

    Parameters
    ----------
    lags : sequence of int or None, default=None
        The sensor's own lags in its viewpoint; None: :func:`default_lags`.
    granularity : {"auto", "transition", "level", "global"}, default="auto"
        Where covariances are estimated (means are always per transition);
        "auto": the finest whose statistics hold at most ``max_floats`` numbers.
    max_floats : int, default=1_000_000
        Size budget of "auto" (8 MB in float64).
    kappa_grid : sequence of float, default=KAPPA_GRID
        Shrinkage weights tried, in multiples of the viewpoint's dimension
        (``inf``: the parent's model only).
    folds : int, default=3
        Contiguous folds of the held-out likelihood that chooses ``κ`` per sensor.
    ridge : float, default=1e-8
        Added to every covariance, as a share of the sensor's global variances.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the per-viewpoint scoring tables (statistics and the summed
        residual stay float64).
    dynamics : bool, default=True
        Model the plant's dynamics too (:mod:`normalcy.detector.dynamics`; needs
        ``delta >= 2``). ``view="auto"`` turns it off where it does not travel
        within the history (:func:`normalcy.detector.learning.choose_view`).

    Attributes
    ----------
    granularity_ : str, the granularity in force. lags_ : ndarray.
    stats_ : list of RelationStats, per sensor. kappa_ : ndarray (ns, 2), the
    chosen level and transition weights (pseudo-samples). taught_ : list of
    RelationStats or None, the statistics taught by "normal" feedback (weights
    applied), per sensor; None before any. taught_blocks_ : the same in blocks (per
    block, per sensor) whose sum it is. kappa_taught_ : ndarray (ns, 2) or None, the
    weights of the healthy-plus-taught model (None: ``kappa_``). readings_ :
    :class:`~normalcy.detector.readings.Readings` or None, what the history allows
    the raw readings (stuck, noisy terms). plant_ :
    :class:`~normalcy.detector.naming.PlantModel`, the plant's relations that name the
    sensors of an alarm (derived from ``stats_``).

    Examples
    --------
    >>> from normalcy.detector.quantizer import fit_edges, quantize
    >>> rng = np.random.default_rng(0)
    >>> x = np.cumsum(rng.normal(size=(3000, 3)), axis=0) * 0.05
    >>> x[:, 2] = x[:, 0] - x[:, 1] + 0.01 * rng.normal(size=3000)
    >>> edges = fit_edges(x, 4)
    >>> rows = np.arange(8, 2990)
    >>> view = RelationsView().fit(x, quantize(x, edges), rows, delta=8, n_levels=4)
    >>> bad = x.copy(); bad[2000:, 2] += 0.3
    >>> r = view.score(bad, quantize(bad, edges), rows).residual
    >>> bool(r[rows < 2000].mean() < 3 < r[rows > 2010].mean())
    True
    """

    def __init__(self, *, lags: Any = None, granularity: str = "auto",
                 max_floats: int = 1_000_000, kappa_grid: Any = KAPPA_GRID, folds: int = 3,
                 ridge: float = 1e-8, dtype: str = "float64", dynamics: bool = True) -> None:
        self.lags = lags
        self.granularity = granularity
        self.max_floats = max_floats
        self.kappa_grid = kappa_grid
        self.folds = folds
        self.ridge = ridge
        self.dtype = dtype
        self.dynamics = dynamics

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("lags", "granularity", "max_floats",
                                              "kappa_grid", "folds", "ridge", "dtype",
                                              "dynamics")}

    def _check(self, delta: int) -> np.ndarray:
        lags = default_lags(delta) if self.lags is None else np.asarray(self.lags, np.int64)
        grid = np.asarray(self.kappa_grid, dtype=np.float64)
        mf, folds = self.max_floats, self.folds
        for ok, name, expected in (
            (lags.ndim == 1 and np.all(lags >= 1) and np.all(lags < max(delta, 2))
             and np.unique(lags).size == lags.size, "lags",
             f"None or distinct ints in [1, {max(delta - 1, 1)}] (delta - 1)"),
            (self.granularity in ("auto", *GRANULARITIES), "granularity",
             f"one of {('auto', *GRANULARITIES)}"),
            (isinstance(mf, int) and mf >= 1, "max_floats", "an int >= 1"),
            (grid.ndim == 1 and grid.size > 0 and np.all(grid > 0), "kappa_grid",
             "a non-empty sequence of floats > 0 (inf allowed)"),
            (isinstance(folds, int) and folds >= 2, "folds", "an int >= 2"),
            (self.ridge >= 0, "ridge", "a float >= 0"),
            (self.dtype in ("float64", "float32"), "dtype", "'float64' or 'float32'"),
            (isinstance(self.dynamics, bool), "dynamics", "True or False"),
        ):
            if not ok:
                raise InputError(f"The {name!r} parameter of RelationsView must be {expected}. "
                                 f"Got {getattr(self, name)!r} instead.")
        return np.sort(lags)

    def fit(self, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, *, delta: int,
            n_levels: int, window: int | None = None) -> RelationsView:
        """Accumulate the statistics at ``rows``, choose ``κ`` per sensor, derive the
        models; with the detector's ``window``, also the readings' limits (``readings_``)."""
        ns = scaled.shape[1]
        self.lags_ = self._check(delta)
        self.delta_, self.n_levels_ = int(delta), int(n_levels)
        rows = np.sort(self._rows(scaled, rows))
        if rows.size < 2 * self.folds:
            raise InputError(f"RelationsView needs at least {2 * self.folds} transition starts "
                             f"(2 per fold); got {rows.size}. Give more healthy rows.")
        self.granularity_ = (str(self.granularity) if self.granularity != "auto" else
                             finest_granularity(levels, rows, self.lags_.size, self.delta_,
                                                self.n_levels_, self.dynamics, self.max_floats))
        grid = np.asarray(self.kappa_grid, dtype=np.float64)
        blocks = [b for b in np.array_split(rows, self.folds) if b.size]
        shared = [self._shared(scaled, b) for b in blocks]
        self.stats_: list[RelationStats] = []
        self.kappa_ = np.zeros((ns, 2))
        self.kappa_taught_: np.ndarray | None = None
        self.set_taught(None)
        for i in range(ns):
            parts = [self._accumulate(scaled, levels, b, i, shared=sh)
                     for b, sh in zip(blocks, shared, strict=True)]
            total = parts[0]
            for part in parts[1:]:
                total = total.add(part)
            self.kappa_[i] = held_out_kappa(total, parts, grid, ns, self.ridge)
            self.stats_.append(total)
        self.dyn_: RelationStats | None = (
            dynamics.of_rows(scaled, rows, n_levels=n_levels)
            if delta >= 2 and self.dynamics else None)
        self.dyn_taught_: RelationStats | None = None
        self.readings_ = None if window is None else Readings.of(scaled, rows, window)
        self.steps_: steps.Steps | None = None  # set with the reference levels (calibration)
        self._derive()
        return self

    def _rows(self, scaled: np.ndarray, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        lag = max(int(self.lags_.max()) if self.lags_.size else 0,
                  dynamics.LAG if self.delta_ >= 2 else 0)
        if rows.size and (rows.min() < lag or rows.max() + self.delta_ >= len(scaled)):
            raise InputError(
                f"rows must leave {lag} rows before (the largest lag) and {self.delta_} after "
                f"(delta) inside the {len(scaled)} rows given; got rows {rows.min()} to "
                f"{rows.max()}. Pass the detector's valid transition starts.")
        return rows

    def _accumulate(self, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, i: int,
                    weight: float = 1.0, shared: np.ndarray | None = None) -> RelationStats:
        return accumulate(scaled, levels, rows, i, delta=self.delta_, n_levels=self.n_levels_,
                          lags=self.lags_, granularity=self.granularity_, weight=weight,
                          shared=shared)

    def _shared(self, scaled: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """The present block every sensor's outer sums share (one covariance per sensor)."""
        return present_outer(scaled, rows) if self.granularity_ == "global" else None

    def _derive_taught(self) -> None:
        """``with_taught_``: the view of the healthy plus taught statistics (None
        without taught ones), its taught transitions modelled with ``kappa_taught_``
        and every other context with ``kappa_`` (heavier weights where nothing was
        taught broaden the history's own models: ETC's fault AUC in ``normalcy bench
        feedback`` fell by 0.025 after three verdicts, 0.010 this way);
        ``taught_only_``: the taught statistics alone (:mod:`relation_taught`)."""
        taught = getattr(self, "taught_", None)
        self.taught_codes_ = None if taught is None else taught_lookup(taught, self.n_levels_)
        self.with_taught_: RelationsView | None = None
        self.taught_only_: RelationsView | None = None
        self.with_taught_, self.taught_only_ = taught_views(self)

    def _derive(self, kappa_taught: np.ndarray | None = None,
                taught: np.ndarray | None = None) -> None:
        """Scoring tables and context lookups from the statistics and ``kappa_`` (the
        ``taught`` transitions, :func:`taught_lookup`, from ``kappa_taught`` where that
        differs), and :meth:`_derive_taught`."""
        self._derive_taught()
        self.tables_: list[gs.ConditionalTables] = []
        self.lookup_: list[np.ndarray] = []
        nq, ns = self.n_levels_, len(self.stats_)
        all_codes = np.arange(nq * nq)
        dtype = np.dtype(self.dtype).type
        for i, st in enumerate(self.stats_):
            tree = st.tree(self.ridge)
            tables = gs.conditional_tables(gs.context_models(tree, *self.kappa_[i]), ns, i, dtype)
            if kappa_taught is not None and taught is not None and not np.array_equal(
                    kappa_taught[i], self.kappa_[i]):  # the same contexts, other weights
                use = np.zeros(tables.offset.shape[0], dtype=bool)
                use[:st.codes.size] = taught[i][st.codes]
                tables = spliced(tables, gs.conditional_tables(
                    gs.context_models(tree, *kappa_taught[i]), ns, i, dtype), use)
            self.tables_.append(tables)
            K = st.codes.size
            levels = np.unique(st.codes // nq)
            table = np.full(nq * nq, K + levels.size, dtype=np.int64)  # global
            lpos = np.minimum(np.searchsorted(levels, all_codes // nq), levels.size - 1)
            hit = levels[lpos] == all_codes // nq
            table[hit] = K + lpos[hit]
            seen = st.count > 0
            table[st.codes[seen]] = np.flatnonzero(seen)
            self.lookup_.append(table)
        single = np.array([t.M.shape[0] == 1 for t in self.tables_])  # the fast path
        self.summed_ = gs.summed_tables(self.tables_, np.flatnonzero(single))
        st = self.stats_[0]  # every viewpoint holds the same present block
        self.plant_ = PlantModel.of(st.count, st.total, st.outer, ns, self.ridge)
        dyn = getattr(self, "dyn_", None)
        self.dyn_tables_ = (None if dyn is None else
                            dynamics.tables(dyn, self.ridge, np.dtype(self.dtype).type))

    def score(self, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, *,
              per_viewpoint: bool = True, budget: float = 1e6,
              values: bool = True) -> gs.RelationScores:
        """Conditional residuals of every sensor viewpoint at ``rows`` (see
        :class:`normalcy.detector.gaussian.RelationScores`).

        ``per_viewpoint=False`` gives only their mean for the sensors with one
        covariance (the same numbers, ``ns`` times fewer operations); ``values=False``
        only ``mean`` and ``dynamics`` (the per-sensor arrays are empty). Rows are
        scored in chunks of about ``budget / (ns (1 + L))`` (cache-sized: 3 300
        rows at 50 sensors scored 2-3 times faster than 33 000). With taught
        statistics, each row takes every value from whichever of the healthy model, the
        healthy-plus-taught model and the taught one alone gives it the smallest mean
        residual (the dynamics their own smallest of the three, the taught ones where
        taught: :func:`dynamics.taught_rows`)."""
        own = self._score(scaled, levels, rows, per_viewpoint, budget, values)
        if self.with_taught_ is None:
            return own
        others = [v._score(scaled, levels, rows, per_viewpoint, budget, values)
                  for v in (self.with_taught_, self.taught_only_) if v is not None]
        if own.dynamics is not None:  # the taught dynamics only where it was taught
            where = dynamics.taught_rows(self.taught_codes_, levels, rows, self.delta_,
                                         self.n_levels_)
            for o in others:
                if o.dynamics is not None:
                    own.dynamics, own.dynamics_z, own.step = dynamics.smaller(own, o, where)
        return smallest(own, others, values)

    def _score(self, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray,
               per_viewpoint: bool, budget: float, values: bool) -> gs.RelationScores:
        """:meth:`score` in this view's own statistics (``stats_`` only)."""
        rows = self._rows(scaled, rows)
        m, ns = rows.size, len(self.stats_)
        out = np.empty((6, ns, m if values else 0))
        total = np.zeros(m)
        fast = np.zeros(ns, dtype=bool)
        if not per_viewpoint:
            fast[self.summed_.which] = True
        K = np.array([st.codes.size for st in self.stats_])
        last = np.array([t.unit.size - 1 for t in self.tables_])
        which = self.summed_.which
        for sl in chunks(m, ns * (1 + self.lags_.size), budget=budget):
            r = rows[sl]
            present = scaled[r]
            lagged = np.empty((self.lags_.size, r.size, ns))  # row gathers are cheap
            for k, lag in enumerate(self.lags_):
                lagged[k] = scaled[r - lag]
            codes = (levels[r] * self.n_levels_ + levels[r + self.delta_]).T
            ctx = np.stack([self.lookup_[i][codes[i]] for i in range(ns)])
            if values:
                out[5, :, sl] = (ctx >= K[:, None]).astype(np.int64) + (ctx == last[:, None])
            if fast.any():
                tot, signed = gs.summed_scores(self.summed_, present, lagged, ctx, own=values)
                total[sl] += tot
                if signed is not None:
                    out[1:5:2, which, sl] = signed.transpose(2, 1, 0)
                    out[2:5:2, which, sl] = self.summed_.spread.T[:, :, None]
            for i in np.flatnonzero(~fast):
                d2, e, sp = gs.score_groups(self.tables_[i], present, lagged[:, :, i].T, ctx[i])
                total[sl] += d2 * ns
                if values:
                    out[0, i, sl] = d2
                    out[1:5:2, i, sl], out[2:5:2, i, sl] = e.T, sp.T
        residual = None if fast.any() else out[0].T
        t, lim = self.dyn_tables_, getattr(self, "steps_", None)
        step, z = (None, None) if t is None or not (values or lim is not None) else (
            steps.scored(lim, t, scaled, rows, keep=values))
        return gs.RelationScores(residual, total / (ns * ns), out[1].T, out[2].T, out[3].T,
                                 out[4].T, out[5].T.astype(np.int64),
                                 None if t is None else dynamics.score(t, scaled, rows), z, step)

    # ----------------------------------------------------------- the operator loop
    def add(self, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray, *,
            weight: float = 1.0) -> RelationsView:
        """Add the statistics of ``rows`` (times ``weight``; negative removes), keep ``κ``."""
        rows = self._rows(scaled, rows)
        sh = self._shared(scaled, rows)
        self.stats_ = [st.add(self._accumulate(scaled, levels, rows, i, shared=sh), weight)
                       for i, st in enumerate(self.stats_)]
        if self.dyn_ is not None:
            self.dyn_ = self.dyn_.add(dynamics.of_rows(scaled, rows, n_levels=self.n_levels_),
                                      weight)
        if self.readings_ is not None and weight > 0:
            self.readings_ = self.readings_.raised_by_rows(scaled, rows)
        self._derive()
        if weight > 0 and self.steps_ is not None:  # the new rows' steps, in their model
            steps.raised_in(self, scaled[rows], scaled[rows - dynamics.LAG])
        return self

    def merge(self, other: RelationsView) -> RelationsView:
        """A new view holding both views' statistics (same quantizers, lags and
        granularity); the shrinkage weights are ``self``'s."""
        same = (self.delta_ == other.delta_ and self.n_levels_ == other.n_levels_
                and np.array_equal(self.lags_, other.lags_)
                and self.granularity_ == other.granularity_)
        if not same:
            raise InputError("cannot merge relations views with different delta, n_levels, "
                             "lags or granularity; fit one with the other's settings.")
        if (self.dyn_ is None) != (other.dyn_ is None):
            raise InputError("cannot merge a relations view that models the plant's dynamics "
                             "with one that does not (fitted without it, or a model file "
                             "of an older version); fit one with the other's settings "
                             "(fit(like=...)).")
        out = self.copy()
        out.stats_ = [a.add(b) for a, b in zip(self.stats_, other.stats_, strict=True)]
        out.dyn_ = plus(self.dyn_, other.dyn_)
        out.dyn_taught_ = plus(self.dyn_taught_, other.dyn_taught_)
        pairs = itertools.zip_longest(self.taught_blocks_ or [], other.taught_blocks_ or [])
        out.set_taught([b for a, c in pairs if (b := plus_each(a, c))] or None)  # as many
        out.choose_taught_kappa()  # blocks as either side: a fleet's merge stays small
        if out.readings_ is not None:  # the larger shares of the two
            out.readings_ = out.readings_.merged(other.readings_)
        if (lim := getattr(out, "steps_", None)) is not None:  # the larger limits of the two
            out.steps_ = lim.merged(getattr(other, "steps_", None))
        out._derive()
        return out

    def copy(self) -> RelationsView:
        """A view sharing nothing mutable with this one (to change, e.g. calibration's)."""
        out = RelationsView(**self.get_params())
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k.endswith("_")})
        out.stats_ = list(self.stats_)  # statistics are never changed in place
        blocks, taught = getattr(self, "taught_blocks_", None), getattr(self, "taught_", None)
        out.taught_blocks_ = None if blocks is None else [list(b) for b in blocks]
        out.taught_ = None if taught is None else list(taught)
        kappa = getattr(self, "kappa_taught_", None)
        out.kappa_, out.kappa_taught_ = self.kappa_.copy(), None if kappa is None else kappa.copy()
        return out

    @property
    def floats(self) -> int:
        """Numbers in the model file (statistics and ``κ``)."""
        more = [st for st in (self.dyn_, self.dyn_taught_) if st is not None]
        taught = [st for block in (self.taught_blocks_ or []) for st in block]
        kappa = [k.size for k in (self.kappa_, self.kappa_taught_) if k is not None]
        return sum(st.floats for st in [*self.stats_, *taught, *more]) + sum(kappa)

    def set_taught(self, blocks: list[list[RelationStats]] | None) -> None:
        """Install the taught blocks (per block, per sensor); ``taught_``: their sum."""
        self.taught_blocks_ = None if blocks is None else [list(b) for b in blocks]
        self.taught_: list[RelationStats] | None = (
            None if blocks is None else
            [functools.reduce(RelationStats.add, [b[i] for b in blocks])
             for i in range(len(blocks[0]))])

    def choose_taught_kappa(self) -> None:
        """``kappa_taught_``: per sensor, the weights under which each block of the
        taught statistics is likeliest given the healthy and the other taught ones;
        kept as they are where fewer than 2 blocks hold data."""
        blocks = [b for b in self.taught_blocks_ or [] if all(st.count.sum() > 0 for st in b)]
        if len(blocks) < 2 or self.taught_ is None:
            return
        grid, ns = np.asarray(self.kappa_grid, dtype=np.float64), len(self.stats_)
        self.kappa_taught_ = np.array([held_out_kappa(
            self.stats_[i].add(self.taught_[i]), [b[i] for b in blocks], grid, ns, self.ridge)
            for i in range(ns)])

    def add_examples(self, codes: list[np.ndarray], vectors: list[np.ndarray], *,
                     weight: float = 1.0) -> RelationsView:
        """Teach the statistics of stored examples (times ``weight``) as ``taught_``:
        per sensor, transition codes and extended vectors (all sensors at ``t``, then
        the sensor at ``t-1 .. t-(Δ-1)``, as an operator's feedback payload keeps
        them, in row order).

        The examples are cut into ``folds`` contiguous blocks, each added to the
        matching block of what was taught before (``taught_blocks_``): the held-out
        blocks choose the healthy-plus-taught model's weights (:meth:`choose_taught_kappa`;
        one marked run fitted alone does not carry to the next run of its regime)."""
        ns = len(self.stats_)
        take = np.r_[np.arange(ns), ns + self.lags_ - 1]  # the viewpoint's columns
        cuts = [np.array_split(np.arange(len(c)), self.folds) for c in codes]
        new = [[RelationStats.of(np.asarray(w)[cut[k]][:, take], np.asarray(c)[cut[k]],
                                 n_levels=self.n_levels_, granularity=self.granularity_,
                                 weight=weight)
                for c, w, cut in zip(codes, vectors, cuts, strict=True)]
               for k in range(self.folds)]
        old: list[list[RelationStats] | None] = list(self.taught_blocks_ or [])
        old += [None] * (self.folds - len(old))
        self.set_taught([b for b in (plus_each(o, new[k]) if k < self.folds else o
                                     for k, o in enumerate(old)) if b is not None])
        self.choose_taught_kappa()
        if self.dyn_ is not None:  # the plant's dynamics: [x(t), x(t-1)] from the same rows
            self.dyn_taught_ = plus(self.dyn_taught_, dynamics.stats(
                dynamics.from_viewpoints(vectors), n_levels=self.n_levels_, weight=weight))
        if self.readings_ is not None and weight > 0:  # it may hold its value or jitter
            self.readings_ = self.readings_.raised_by_vectors(vectors)
        self._derive_taught()  # the healthy statistics, hence their tables, are unchanged
        if weight > 0 and vectors and self.steps_ is not None:  # it may step so
            v = dynamics.from_viewpoints(vectors)
            steps.raised_in(self, v[:, :ns], v[:, ns:])
        return self


    def to_file(self, prefix: str = "relations") -> tuple[dict[str, Any],
                                                           dict[str, np.ndarray]]:
        """JSON-able header and plain arrays (no pickle; :mod:`relation_files`)."""
        return relation_files.write(self, prefix)

    @classmethod
    def from_file(cls, header: dict[str, Any], arrays: Mapping[str, np.ndarray],
                  prefix: str = "relations") -> RelationsView:
        """The view a file holds, checked (ValueError naming what does not fit)."""
        params = dict(header["params"])
        params["kappa_grid"] = tuple(float(k) for k in params["kappa_grid"])
        return relation_files.read_into(cls(**params), header, arrays, prefix)

    def _usable(self) -> bool:
        """Whether every derived scoring table is finite (the taught view's too)."""
        for v in (self.with_taught_, self.taught_only_):
            if v is not None and not v._usable():
                return False
        arrays = [v for t in self.tables_ for v in vars(t).values()
                  if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        arrays += [v for v in vars(self.summed_).values()
                   if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        if self.dyn_tables_ is not None:
            arrays += [v for v in vars(self.dyn_tables_).values()
                       if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        positive = all((t.pjj > 0).all() for t in self.tables_)
        return positive and all(np.isfinite(a).all() for a in arrays)

