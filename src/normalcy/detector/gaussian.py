"""Gaussian context models of the relations view (SPEC §6).

From the sufficient statistics of one sensor's viewpoint vectors (count, sum and
sum of outer products per seen transition, :mod:`normalcy.detector.relations`)
this module derives a Gaussian per *context*, in three layers:

- **global**: all the sensor's statistics;
- **level** ``l`` (the sensor's level now, ``code // n_levels``): its transitions'
  statistics plus ``kappa_level`` pseudo-samples drawn from the global model;
- **transition** ``c``: its statistics plus ``kappa_transition`` pseudo-samples from it.

Adding ``κ`` pseudo-samples of ``N(μ0, Σ0)`` to ``(n, s, S)`` gives
``μ = (s + κ μ0) / (n + κ)`` and ``Σ = (S + κ (Σ0 + μ0 μ0ᵀ)) / (n + κ) - μ μᵀ``
(the conjugate normal-inverse-Wishart posterior's point estimates with ``κ``
standing for both prior weights). A context without samples (``n = 0``) is exactly
its parent; ``κ = inf`` ignores the context's own samples. Where the outer products are
kept per level or per sensor only (``granularity``), the finer contexts shrink their
means and share the coarser covariance (one per sensor: the pooled within-transition).

The residual of a sample is the **conditional** Mahalanobis distance of the
present-state block ``p`` given the lag block ``g`` of its context's Gaussian:
``z = W (p - μp - B (g - μg))`` with ``B = Σpg Σgg⁻¹`` and ``Wᵀ W`` the inverse
of ``Σp|g = Σpp - B Σgp``; ``|z|² / len(p)`` is about 1 on healthy data.
The own sensor's signed conditional residual (its value minus what the other
sensors and its own past predict) is ``e = (Wᵀ z)_j / P_jj``, ``P = Wᵀ W``; its
static residual is the same given the other sensors only (``Σpp⁻¹``), which
the own past cannot absorb: the whole amplitude of a bias or a slow drift.
Sensors with a single covariance are scored together (:class:`SummedTables`): the
sum of their ``|z|²`` costs ``p (p + ns L)`` operations per sample, not ``ns p (p + L)``.

The held-out log-likelihood that chooses ``κ`` needs no pass over samples: for a Gaussian
model and held-out statistics ``(m, s, S)`` the quadratic forms sum to ``tr(D S) - 2 sᵀ D μ
+ m μᵀ D μ``, ``D = Σ⁻¹ - Σgg⁻¹`` (zero-padded: the conditional precision in full space).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

FLOOR = 1e-9  #: absolute variance floor, scaled units (IQR = 1)


def unpack(packed: np.ndarray, d: int) -> np.ndarray:
    """Symmetric ``(..., d, d)`` matrices from their packed upper triangles ``(..., P)``.

    Examples
    --------
    >>> unpack(np.array([1.0, 2.0, 3.0]), 2).tolist()
    [[1.0, 2.0], [2.0, 3.0]]
    """
    iu = np.triu_indices(d)
    full = np.zeros((*packed.shape[:-1], d, d))
    full[..., iu[0], iu[1]] = packed
    full[..., iu[1], iu[0]] = packed
    return full


def pack(full: np.ndarray) -> np.ndarray:
    """Packed upper triangles ``(..., d(d+1)/2)`` of symmetric ``(..., d, d)`` matrices."""
    iu = np.triu_indices(full.shape[-1])
    return full[..., iu[0], iu[1]]


def outer(m: np.ndarray) -> np.ndarray:
    """``m mᵀ`` for each row of ``(C, d)``: shape ``(C, d, d)``."""
    return m[:, :, None] * m[:, None, :]


@dataclass
class Tree:
    """The three layers' statistics of one sensor (transition, level, global).

    Each transition / level belongs to a covariance unit (``t_unit`` / ``l_unit``)
    whose uncentred outer sums are ``t_outer`` / ``l_outer``: the transition
    itself, its level or the whole sensor, per ``granularity``. ``t_own`` /
    ``l_own`` say whether the layer's contexts estimate their own covariance
    (otherwise they share their parent's).
    """

    count: np.ndarray
    total: np.ndarray
    level_of: np.ndarray
    lcount: np.ndarray
    ltotal: np.ndarray
    t_unit: np.ndarray
    t_outer: np.ndarray
    t_own: bool
    l_unit: np.ndarray
    l_outer: np.ndarray
    l_own: bool
    n: float
    s: np.ndarray
    pooled: np.ndarray  # global covariance (pooled within transitions when shared)
    ridge: np.ndarray  # ridge matrix added to every covariance


def build_tree(codes: np.ndarray, count: np.ndarray, total: np.ndarray, groups: np.ndarray,
               packed_outer: np.ndarray, *, n_levels: int, granularity: str,
               ridge: float) -> Tree:
    """Layers of one sensor's statistics (see :class:`normalcy.detector.relations.RelationStats`).

    ``ridge`` adds ``ridge * diag(global covariance)`` (plus ``FLOOR``) to every
    covariance that is estimated.
    """
    d = total.shape[1]
    levels, level_of = np.unique(codes // n_levels, return_inverse=True)
    nl = levels.size
    lcount = np.bincount(level_of, count, minlength=nl)
    ltotal = np.zeros((nl, d))
    np.add.at(ltotal, level_of, total)
    G = unpack(packed_outer, d)
    n = float(count.sum())
    s = total.sum(axis=0)
    S = G.sum(axis=0)
    mu = s / max(n, 1e-300)
    if granularity == "global":
        used = count > 0
        within = S - np.einsum("ci,cj->ij", total[used] / count[used, None], total[used])
        pooled = within / max(n, 1e-300)
    else:
        pooled = S / max(n, 1e-300) - np.outer(mu, mu)
    ridge_m = ridge * np.diag(np.clip(np.diag(pooled), 0.0, None)) + FLOOR * np.eye(d)
    pooled = 0.5 * (pooled + pooled.T) + ridge_m
    if granularity == "transition":
        t_unit = np.searchsorted(groups, codes)
        t_outer = G
        l_outer = np.zeros((nl, d, d))
        np.add.at(l_outer, level_of, G[t_unit])
        l_unit = np.arange(nl)
    elif granularity == "level":
        t_unit = level_of
        l_outer = G[np.searchsorted(groups, levels)]
        t_outer, l_unit = l_outer, np.arange(nl)
    else:
        t_unit, l_unit = np.zeros(codes.size, np.int64), np.zeros(nl, np.int64)
        t_outer = l_outer = S[None]
    return Tree(count, total, level_of, lcount, ltotal, t_unit, t_outer,
                granularity == "transition", l_unit, l_outer, granularity != "global", n, s,
                pooled, ridge_m)


Models = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(mean (C, d), cov (U, d, d), unit (C,))``: contexts sharing a covariance share a unit."""


def shrink(count: np.ndarray, total: np.ndarray, outer_sum: np.ndarray | None,
           mean0: np.ndarray, cov0: np.ndarray, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances of contexts with ``kappa`` pseudo-samples of their parents.

    ``count (C,)``, ``total (C, d)``, ``outer_sum (C, d, d)`` or None (then only the
    means are returned with ``cov0`` unchanged), ``mean0 (C, d)``, ``cov0 (C, d, d)``
    the parents'.
    """
    if not np.isfinite(kappa):
        return mean0.copy(), cov0
    w = count + kappa
    mean = (total + kappa * mean0) / w[:, None]
    if outer_sum is None:
        return mean, cov0
    second = (outer_sum + kappa * (cov0 + outer(mean0))) / w[:, None, None]
    return mean, second - outer(mean)


def inherits(own: bool, kappa: float) -> bool:
    """Whether a layer's contexts take their parent's covariance: when they estimate
    none of their own, or when ``κ = inf`` ignores their samples. Their precision is
    then the same for every ``κ`` (:func:`choose_kappa` computes it once)."""
    return not own or not np.isfinite(kappa)


def level_models(tree: Tree, kappa: float) -> Models:
    """The level contexts' models (see :data:`Models`)."""
    nl = tree.lcount.size
    mean0 = np.broadcast_to(tree.s / max(tree.n, 1e-300), (nl, tree.s.size))
    if inherits(tree.l_own, kappa):
        mean, _ = shrink(tree.lcount, tree.ltotal, None, mean0, tree.pooled, kappa)
        return mean, tree.pooled[None], np.zeros(nl, np.int64)
    cov0 = np.broadcast_to(tree.pooled, (nl, *tree.pooled.shape))
    mean, cov = shrink(tree.lcount, tree.ltotal, tree.l_outer[tree.l_unit], mean0, cov0, kappa)
    return mean, cov + tree.ridge, np.arange(nl)


def transition_models(tree: Tree, level: Models, kappa: float) -> Models:
    """The transition contexts' models, shrunk towards their levels' ``level``."""
    lmean, lcov, lunit = level
    parent = lunit[tree.level_of]
    if inherits(tree.t_own, kappa):
        mean, _ = shrink(tree.count, tree.total, None, lmean[tree.level_of], lcov, kappa)
        return mean, lcov, parent
    mean, cov = shrink(tree.count, tree.total, tree.t_outer[tree.t_unit],
                       lmean[tree.level_of], lcov[parent], kappa)
    return mean, cov + tree.ridge, np.arange(tree.count.size)


def conditional_precision(cov: np.ndarray, n_present: int) -> tuple[np.ndarray, np.ndarray]:
    """``D = Σ⁻¹ - pad(Σgg⁻¹)`` ``(U, d, d)`` and ``log det Σp|g`` ``(U,)``."""
    d = cov.shape[-1]
    lam = np.linalg.inv(cov)
    logdet = np.linalg.slogdet(cov)[1]
    if d > n_present:
        gg = cov[:, n_present:, n_present:]
        lam[:, n_present:, n_present:] -= np.linalg.inv(gg)
        logdet = logdet - np.linalg.slogdet(gg)[1]
    return lam, logdet


def held_out_loglik(models: Models, n_present: int, count: np.ndarray, total: np.ndarray,
                    unit: np.ndarray, unit_outer: np.ndarray,
                    precision: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Conditional log-likelihood (up to a constant) of held-out statistics.

    ``count``, ``total`` are the held-out statistics per context, ``unit_outer``
    their uncentred outer sums per held-out unit and ``unit`` each context's
    held-out unit: all contexts of a held-out unit must share the model's
    covariance (they do when both come from the same granularity).
    ``precision``: :func:`conditional_precision` of the models' covariances, when
    the caller already has it.
    """
    mean, cov, munit = models
    D, logdet = conditional_precision(cov, n_present) if precision is None else precision
    used = np.flatnonzero(count > 0)
    if not used.size:
        return 0.0
    rep = np.full(unit_outer.shape[0], -1)
    rep[unit[used]] = used
    has = rep >= 0
    tr = float(np.einsum("uij,uji->", D[munit[rep[has]]], unit_outer[has]))
    mu = mean[used]
    if D.shape[0] == 1:  # one covariance: no (contexts, d, d) copy of it
        Dm = mu @ D[0].T
    else:
        Dm = np.einsum("cij,cj->ci", D[munit[used]], mu)
    quad = (tr - 2.0 * float(np.sum(total[used] * Dm))
            + float(np.sum(count[used] * np.sum(mu * Dm, axis=1))))
    return -0.5 * quad - 0.5 * float(np.sum(count[used] * logdet[munit[used]]))


def context_models(tree: Tree, kappa_level: float, kappa_transition: float) -> Models:
    """Models of every context, stacked as ``[transitions (K), levels (nl), global (1)]``.

    Contexts that share a covariance share its unit (with one covariance per
    sensor, or ``κ = inf`` on both layers, there is one unit).
    """
    level = level_models(tree, kappa_level)
    tm, tc, tu = transition_models(tree, level, kappa_transition)
    lm, lc, lu = level
    gm = (tree.s / max(tree.n, 1e-300))[None]
    own = tc is not lc
    shift = tc.shape[0] if own else 0
    shared = inherits(tree.l_own, kappa_level)  # levels use the global model
    covs = ([tc] if own else []) + [lc] + ([] if shared else [tree.pooled[None]])
    units = [tu, lu + shift, np.array([shift + (0 if shared else lc.shape[0])])]
    return np.concatenate([tm, lm, gm]), np.concatenate(covs), np.concatenate(units)


def choose_kappa(folds: list[tuple[Tree, Tree]], grid: np.ndarray,
                 n_present: int) -> tuple[float, float, np.ndarray]:
    """``(kappa_level, kappa_transition, loglik)`` maximising the held-out likelihood.

    ``folds`` pairs each fold's training tree (all statistics minus the fold's) with its
    held-out tree, on the same transitions. The level weight is chosen first (level
    contexts scored on the held-out levels), then the transition weight given it;
    ``loglik (2, len(grid))``: the summed log-likelihoods. An inheriting layer's
    precision is the same for every κ."""
    ll = np.zeros((2, grid.size))
    pooled = [conditional_precision(tr.pooled[None], n_present) for tr, _ in folds]
    for j, k in enumerate(grid):
        for (tr, ho), pre in zip(folds, pooled, strict=True):
            ll[0, j] += held_out_loglik(level_models(tr, float(k)), n_present, ho.lcount,
                                        ho.ltotal, ho.l_unit, ho.l_outer,
                                        pre if inherits(tr.l_own, k) else None)
    k1 = float(grid[int(np.argmax(ll[0]))])
    parents = [level_models(tr, k1) for tr, _ in folds]  # pooled precision if inherited
    inherited = [p if inherits(tr.l_own, k1) else conditional_precision(lv[1], n_present)
                 for (tr, _), lv, p in zip(folds, parents, pooled, strict=True)]
    for j, k in enumerate(grid):
        for (tr, ho), level, pre in zip(folds, parents, inherited, strict=True):
            ll[1, j] += held_out_loglik(transition_models(tr, level, float(k)), n_present,
                                        ho.count, ho.total, ho.t_unit, ho.t_outer,
                                        pre if inherits(tr.t_own, k) else None)
    return k1, float(grid[int(np.argmax(ll[1]))]), ll


@dataclass
class RelationScores:
    """Conditional residuals per row (``m``) and sensor viewpoint (``ns``).

    ``residual (m, ns)``: ``|z|² / p``, the conditional Mahalanobis distance of the
    present state given the sensor's own past, per present component (about 1
    when healthy); None when ``score(..., per_viewpoint=False)`` summed it directly.
    ``mean (m,)``: its mean over the viewpoints. ``signed (m, ns)``: each sensor's
    value minus what the other sensors and its own past predict, scaled units
    (times the scaler's scale for the sensor's units); ``static``: the same given
    the other sensors only (a drift's or bias's whole amplitude); ``spread``,
    ``static_spread``: their standard deviations in that context. ``context``: 0
    seen transition, 1 its level, 2 global. ``dynamics (m,)``: ``|z|² / ns`` of the
    present state given the plant's previous state (:mod:`normalcy.detector.dynamics`),
    ``dynamics_z (m, ns)`` each sensor's innovation in its standard deviations there
    (None without a dynamics model, or without ``values``); ``step (m,)`` the largest
    ``|z| / L`` over the sensors (:mod:`normalcy.detector.steps`; None without limits).
    """

    residual: np.ndarray | None
    mean: np.ndarray
    signed: np.ndarray
    spread: np.ndarray
    static: np.ndarray
    static_spread: np.ndarray
    context: np.ndarray
    dynamics: np.ndarray | None = None
    dynamics_z: np.ndarray | None = None
    step: np.ndarray | None = None


@dataclass
class ConditionalTables:
    """Scoring tables of one sensor's contexts; ``u = unit[c]`` for a sample of context ``c``.

    - the present block: ``z = v @ M[u].T - offset[c]`` (``M (U, p, d)``, ``offset
      (C, p)``), from ``prec = Σp|g⁻¹ (U, p, p)``, the regression ``B (U, p, L)`` and
      the contexts' ``centre (C, p)``: ``z = W (p - B g - centre)``, ``Wᵀ W = prec``;
    - the own sensor's signed residuals ``e[r] = v @ own[u, r] - own_offset[c, r]``
      with spreads ``1 / sqrt(pjj[u, r])`` (scaled units; ``e² pjj`` is the squared
      z-score): ``r = 0`` given the other sensors and its own past, ``r = 1`` given
      the other sensors only (the static view: the whole amplitude of a slow drift
      or bias, which the own past partly absorbs).
    """

    M: np.ndarray
    unit: np.ndarray
    offset: np.ndarray
    own: np.ndarray
    own_offset: np.ndarray
    pjj: np.ndarray
    prec: np.ndarray
    B: np.ndarray
    centre: np.ndarray


def conditional_tables(models: Models, n_present: int, own: int,
                       dtype: type = np.float64) -> ConditionalTables:
    """Regression and whitening of the present block given the lags, per unit."""
    mean, cov, unit = models
    p = n_present
    U, d = cov.shape[0], cov.shape[1]
    spp = cov[:, :p, :p]
    if d > p:
        sgg = cov[:, p:, p:]
        spg = cov[:, :p, p:]
        B = np.linalg.solve(sgg, spg.transpose(0, 2, 1)).transpose(0, 2, 1)  # (U, p, L)
        scond = spp - B @ spg.transpose(0, 2, 1)
        centre = mean[:, :p] - np.einsum("cpl,cl->cp", B[unit], mean[:, p:])
    else:
        B = np.zeros((U, p, 0))
        scond = spp
        centre = mean[:, :p]
    scond = 0.5 * (scond + scond.transpose(0, 2, 1)) + FLOOR * np.eye(p)
    L = np.linalg.cholesky(scond)
    W = np.linalg.solve(L, np.broadcast_to(np.eye(p), L.shape))  # L⁻¹, (U, p, p)
    prec = W.transpose(0, 2, 1) @ W
    prow = prec[:, own]  # row ``own`` of Σp|g⁻¹
    srow = np.linalg.inv(spp + FLOOR * np.eye(p))[:, own]  # of Σpp⁻¹: no lags
    pjj = np.stack([prow[:, own], srow[:, own]], axis=1)  # (U, 2)
    own_row = np.stack([np.concatenate([prow, -np.einsum("up,upl->ul", prow, B)], axis=1),
                        np.concatenate([srow, np.zeros((U, d - p))], axis=1)],
                       axis=1) / pjj[:, :, None]  # (U, 2, d)
    own_offset = np.stack([np.einsum("cp,cp->c", prow[unit], centre),
                           np.einsum("cp,cp->c", srow[unit], mean[:, :p])], axis=1) / pjj[unit]
    M = np.concatenate([W, -W @ B], axis=2)
    offset = np.einsum("cij,cj->ci", W[unit], centre)
    return ConditionalTables(M.astype(dtype), unit, offset.astype(dtype), own_row.astype(dtype),
                             own_offset.astype(dtype), pjj.astype(dtype), prec, B, centre)


def score_groups(tables: ConditionalTables, present: np.ndarray, lagged: np.ndarray,
                 context: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(|z|² / p (m,), signed own residuals (m, 2), their spreads (m, 2))`` of each
    viewpoint ``[present, lagged]`` (``(m, p)`` and ``(m, L)``) in its context.

    Samples are grouped by covariance unit: one product per unit (no copy for one unit).
    """
    m, p = present.shape
    d2, signed, spread = np.empty(m), np.empty((m, 2)), np.empty((m, 2))
    units = tables.unit[context]
    order = np.argsort(units, kind="stable")
    us = units[order]
    first = np.ones(m, dtype=bool)  # each unit's first sample (np.r_ cost more than the
    np.not_equal(us[1:], us[:-1], out=first[1:])  # products in a streaming update)
    starts = np.flatnonzero(first)
    dt = tables.own.dtype
    present, lagged = present.astype(dt, copy=False), lagged.astype(dt, copy=False)
    for a, b in zip(starts, [*starts[1:], m], strict=True):
        u = int(us[a])
        idx = order[a:b] if starts.size > 1 else slice(None)
        pi, li, ci = present[idx], lagged[idx], context[idx]
        own = tables.own[u]
        signed[idx] = pi @ own[:, :p].T + li @ own[:, p:].T - tables.own_offset[ci]
        spread[idx] = 1.0 / np.sqrt(tables.pjj[u])
        Mu = tables.M[u]
        z = pi @ Mu[:, :p].T
        z += li @ Mu[:, p:].T
        z -= tables.offset[ci]
        d2[idx] = np.einsum("ij,ij->i", z, z) / p
    return d2, signed, spread


@dataclass
class SummedTables:
    """``Σ_i |z_i|²`` and the own residuals of the sensors ``which`` that have one
    covariance unit each, without forming any ``z_i`` (``p (p + ns L)`` instead of
    ``ns p (p + L)`` operations per sample)::

        |z_i|² = pᵀ P_i p - 2 pᵀ (Q_i g_i + h_i[c]) + g_iᵀ R_i g_i + 2 g_i·s_i[c] + e_i[c]

    with ``P_i = Σp|g⁻¹``, ``Q_i = P_i B_i``, ``R_i = B_iᵀ P_i B_i`` and, per context,
    ``h = P_i centre``, ``s = B_iᵀ h``, ``e = centre·h``; ``Σ_i P_i = Lbar Lbarᵀ``.
    Per-context tables are stacked over the sensors (``first`` their offsets).
    Exact in float64 (the terms cancel to ``|z|²``; kept in float64 always).
    """

    which: np.ndarray
    first: np.ndarray
    Lbar: np.ndarray
    Q: np.ndarray  # (p, L * k), column l * k + j
    R: np.ndarray  # (L, L, k)
    H: np.ndarray  # (ΣC, p)
    S: np.ndarray  # (ΣC, L)
    E: np.ndarray  # (ΣC,)
    own_p: np.ndarray  # (p, 2k), column r * k + j
    own_g: np.ndarray  # (L, k)
    own_offset: np.ndarray  # (ΣC, 2)
    spread: np.ndarray  # (k, 2)


def summed_tables(tables: list[ConditionalTables], which: np.ndarray) -> SummedTables:
    """The :class:`SummedTables` of the single-unit sensors ``which``."""
    p, n_lags = tables[0].prec.shape[1], tables[0].B.shape[2]
    Pbar = FLOOR * np.eye(p)
    Q, R, H, S, E, op, og, oo, sp = [], [], [], [], [], [], [], [], []
    for i in which:
        t = tables[int(i)]
        P, B = t.prec[0], t.B[0]
        Pbar += P
        Q.append(P @ B)
        R.append(B.T @ P @ B)
        h = t.centre @ P
        H.append(h)
        S.append(h @ B)
        E.append(np.einsum("cp,cp->c", t.centre, h))
        op.append(t.own[0, :, :p])
        og.append(t.own[0, 0, p:])
        oo.append(t.own_offset)
        sp.append(1.0 / np.sqrt(t.pjj[0]))
    k = which.size
    first = np.r_[0, np.cumsum([h.shape[0] for h in H])[:-1]].astype(np.int64)

    def cat(parts: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros(shape)

    return SummedTables(
        which, first, np.linalg.cholesky(Pbar),
        np.stack(Q, axis=2).reshape(p, k * n_lags, order="C") if k else np.zeros((p, 0)),
        np.stack(R, axis=2) if k else np.zeros((n_lags, n_lags, 0)),
        cat(H, (0, p)), cat(S, (0, n_lags)), cat(E, (0,)),
        np.stack(op, axis=2).transpose(1, 0, 2).reshape(p, 2 * k) if k else np.zeros((p, 0)),
        np.stack(og, axis=1).astype(np.float64) if k else np.zeros((n_lags, 0)),
        cat(oo, (0, 2)), np.asarray(sp, dtype=np.float64).reshape(k, 2))


def summed_scores(st: SummedTables, present: np.ndarray, lagged: np.ndarray,
                  contexts: np.ndarray, *, own: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(Σ_{i in which} |z_i|² (m,), own signed residuals (m, k, 2) or None with
    own=False)`` per row, from ``present (m, p)``, ``lagged (L, m, ns)``, ``contexts``."""
    m, p = present.shape
    n_lags, k = lagged.shape[0], st.which.size
    g = lagged if k == lagged.shape[2] else lagged[:, :, st.which]  # (L, m, k)
    flat = (contexts[st.which] + st.first[:, None]).T  # (m, k) rows of the stacked tables
    y = present @ st.Lbar
    total = np.einsum("ij,ij->i", y, y)
    signed = ((present @ st.own_p).reshape(m, 2, k).transpose(0, 2, 1)
              - st.own_offset[flat]) if own else None
    if n_lags:
        pq = (present @ st.Q).reshape(m, n_lags, k)
        for a in range(n_lags):
            total -= 2.0 * np.einsum("mk,mk->m", pq[:, a], g[a])
            total += 2.0 * np.einsum("mk,mk->m", g[a], st.S[flat, a])
            if signed is not None:
                signed[:, :, 0] += g[a] * st.own_g[a]
            for b in range(a, n_lags):
                total += (2.0 if b > a else 1.0) * ((g[a] * g[b]) @ st.R[a, b])
    ones = np.ones(flat.size)
    onehot = csr_matrix((ones, flat.ravel(), np.arange(0, flat.size + 1, k)),
                        shape=(m, st.H.shape[0]))
    total -= 2.0 * np.einsum("mp,mp->m", present, onehot @ st.H)
    total += st.E[flat].sum(axis=1)
    return total, signed
