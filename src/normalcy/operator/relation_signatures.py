"""Fault signatures in the relations view (SPEC §2 "missed anomaly", §6).

For a detector with a relations view (``view="relations"`` or ``"both"``) a
"fault F" verdict keeps every transition of the marked range (its codes and
extended vectors, as the paper's signatures and the "normal" verdicts keep
them); from them and the normal model this module derives, per sensor
viewpoint ``i``, a **Gaussian context model of the fault**:

- each range row's viewpoint ``v`` (present state, then ``i``'s own lags) is
  taken relative to the normal model of its context ``c`` (transition, else
  level, else global; SPEC §6): ``u = v - μ_c``; the displacements' sufficient
  statistics (:class:`~normalcy.detector.relation_stats.RelationStats`) give the
  fault's shift ``δ`` and its extra spread ``Δ`` (the part of their covariance
  beyond the normal contexts' own, clipped to be positive semi-definite);
- they are shrunk towards the normal model by ``κ`` pseudo-samples of it
  (:func:`normalcy.detector.gaussian.shrink`, prior shift 0, prior spread the
  normal contexts'), so a short range is usable; ``κ`` per sensor is the one of
  :data:`~normalcy.detector.relations.KAPPA_GRID` (times the viewpoint's
  dimension) with the best held-out likelihood on the range cut in two halves
  (each half's model scored on the other; ``κ = inf`` is the normal model, so a
  range that does not generalise gets no signature at all);
- the fault's model of context ``c`` is ``N(μ_c + δ, Σ_c + Δ)``: the normal
  context model moved by the fault, so the signature travels to the transitions
  and levels the range did not visit.

A row's **log-likelihood ratio** seen from ``i`` compares the conditional
densities the view scores (the present state given ``i``'s own past, SPEC §6):
``ℓ_i = log p_F(present | past) - log p_N(present | past)`` - the density the view
alarms on, with the view's own tables (the full viewpoint density was not
measured). ``L_F``, the window mean of
``ℓ = mean_i ℓ_i``, is positive where the fault explains the window better than
normality. After "normal" verdicts, ``p_N`` is the normal model each row takes as the
view scores it (healthy, healthy plus taught, or taught alone: :func:`taught_gain`), so
a false alarm a fault's signature raised stops once it is marked normal.

A window is **recognised** as F when

- ``L_F`` exceeds F's level ``λ_F`` (below), and
- F *explains* it: its relations residual under F's model (``r_rel`` computed
  with F's tables) stays within the normal model's own healthy level
  ``R * threshold``. Without this test a fault model wider than the normal one
  beat normality on any anomaly and named other faults after F (on the quadruple
  tank 35 % of the other faults' windows, 5 % with it), and
- the window moved F's way: ``L_F`` exceeds, by more than :data:`MOVED`, the same
  window mean under F's model without its shift ``δ`` (``N(μ_c, Σ_c + Δ)``). A wide
  fault model explains other anomalies by its spread alone; this test asks for its
  direction. Measured on the quadruple tank and the CSTR (seeds 0 and 1, each of the
  40 fault episodes taught on its first half, the default alarm policy over the test
  period, episodes named at most of their rows): the other episodes carrying the
  taught name fell from 63 of 453 to 36 of 451, the second halves named right
  stayed 30 of 40. ``normalcy bench feedback``: Lorenz's later fault runs named right
  4 of 6 and wrong 2 -> 3 and 0; ETC and the three tanks unchanged.

**The level** ``λ_F`` is set when the fault is taught, from the data given with
the verdict: the 99 % level (``REL_QUANTILE``, the rule that sets ``R``) of
``L_F`` over that data's full windows that do not touch the marked range and
that the normal model does not put in alarm - the held-out windows the
signature was not learned from - and never below 0 (F must explain the window
better than normality). With fewer than ``window`` such windows (a range marked
on a whole run) it is half the mean ``ℓ`` the range's held-out halves reach
(the paper's signatures' ``VISIBILITY_SHARE`` rule). Other stretches of the
same fault in that data raise the level; give data where it is marked, or
mostly healthy. The level travels in the fault payload's ``level``
(:class:`~normalcy.operator.history.Payload`) and the library's
(:attr:`~normalcy.operator.signatures.SignatureLibrary.level`), beside the paper
view's ``visibility``, a share of pairs, which a relations-view fault does not have.

Measured on the quadruple tank and the CSTR (20 000 healthy rows, each plant's
ten fault episodes, the signature taught on an episode's first half with the
whole test period as data): the second half recognised 64 % / 66 % of its
windows on average over all ten faults (0 to 100 % per fault: a fault whose
second half differs from its first, like a controlled temperature's bias that
the loop absorbs, is not recognised); rows of the same test period without
faults named 0.3 % / 0.4 % on average (at most 1.1 % / 2.7 % for one fault).
Taught "live" (data up to the end of the marked range) the second halves do
better and the healthy rows worse (fewer held-out windows: up to 4 %).

What a recognised window does follows :mod:`normalcy.operator.signatures`: a
missed fault raises its score to ``threshold * (1 + L_F - λ_F)`` (at least the
threshold; one nat above the level doubles it), a confirmed fault only names
windows already in alarm; a window carries the name of the recognised fault
with the largest ``L_F`` (the most likely one; with the largest ``L_F - λ_F``, a
fault of a low level named the others: on Lorenz, taught on whole runs, 2 of 6
later fault runs were named right, 4 with ``L_F``; ETC and the three tanks
unchanged, ``normalcy bench feedback``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from normalcy.detector import gaussian as gs
from normalcy.detector.extended import chunks
from normalcy.detector.learning import REL_QUANTILE
from normalcy.detector.relation_stats import RelationStats
from normalcy.detector.relation_taught import taken
from normalcy.detector.relations import KAPPA_GRID, RelationsView
from normalcy.detector.residuals import window_mean
from normalcy.exceptions import InputError

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.parts import Prepared
    from normalcy.detector.transition_detector import TransitionDetector

#: the quantile of held-out windows that sets a fault's level (the rule that sets ``R``)
LEVEL_QUANTILE = REL_QUANTILE
#: share of the range's held-out log-likelihood ratio taken as the level without
#: held-out windows (the paper's signatures' VISIBILITY_SHARE)
FALLBACK_SHARE = 0.5
#: how much better (nats, window mean) the fault's model must explain a window than the
#: same model without its shift: the window moved the fault's way, not just anywhere
MOVED = 0.0
#: the share of matching pairs a recognised window stands for in ``r_fault``
#: (``signatures.MATCH_FRACTION``: ``score = threshold * r_fault / MATCH_FRACTION``)
UNIT_SHARE = 0.05


def uses_relations(det: Any) -> bool:
    """Whether ``det``'s fault signatures are matched in its relations view."""
    return getattr(det, "relations_", None) is not None and getattr(det, "view_", "") != "paper"


def view_of(det: TransitionDetector) -> RelationsView:
    """``det``'s relations view (``InputError`` for a model without one)."""
    view = getattr(det, "relations_", None)
    if view is None:
        raise InputError("this model has no relations view; its fault signatures are the "
                         "paper's (normalcy.operator.signatures).")
    return view


@dataclass(frozen=True)
class ViewpointModel:
    """One sensor viewpoint's context models (``(mean, cov, unit)``, see
    :data:`normalcy.detector.gaussian.Models`), their conditional scoring tables and
    ``log det Σp|g`` per covariance unit."""

    models: gs.Models
    tables: gs.ConditionalTables
    logdet: np.ndarray

    @classmethod
    def of(cls, models: gs.Models, n_present: int, own: int) -> ViewpointModel:
        tables = gs.conditional_tables(models, n_present, own)
        return cls(models, tables, -np.linalg.slogdet(tables.prec)[1])


#: the normal model's viewpoint models, per relations view (derived once)
_NORMAL: weakref.WeakKeyDictionary[RelationsView, tuple[Any, list[ViewpointModel]]] = \
    weakref.WeakKeyDictionary()


def normal_models(view: RelationsView) -> list[ViewpointModel]:
    """Per sensor, the normal context models of ``view`` (cached while its statistics
    stay the same object)."""
    hit = _NORMAL.get(view)
    if hit is not None and hit[0] is view.stats_:
        return hit[1]
    ns = len(view.stats_)
    out = [ViewpointModel.of(gs.context_models(st.tree(view.ridge), *view.kappa_[i]), ns, i)
           for i, st in enumerate(view.stats_)]
    _NORMAL[view] = (view.stats_, out)
    return out


def examples(view: RelationsView, codes: list[np.ndarray], vectors: list[np.ndarray]
             ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sensor, the stored examples as ``(viewpoints (m, d), contexts (m,))``: the
    viewpoint's columns of the extended vectors and the normal model's context of
    each transition code."""
    ns = len(view.stats_)
    take = np.r_[np.arange(ns), ns + view.lags_ - 1]
    return [(np.asarray(w, dtype=np.float64)[:, take], view.lookup_[i][np.asarray(c)])
            for i, (c, w) in enumerate(zip(codes, vectors, strict=True))]


def displaced(normal: ViewpointModel, v: np.ndarray, ctx: np.ndarray, kappa: float,
              own: int, n_levels: int) -> tuple[ViewpointModel, ViewpointModel]:
    """The fault's context models from its examples ``v`` (contexts ``ctx``): the normal
    ones moved by the examples' shift from them and widened by their extra spread,
    both shrunk by ``kappa`` pseudo-samples of the normal model; and the same models
    without the shift (what :data:`MOVED` compares against), from the same estimate."""
    mean, cov, unit = normal.models
    d = mean.shape[1]
    if v.shape[0] == 0 or not np.isfinite(kappa):
        return normal, normal
    st = RelationStats.of(v - mean[ctx], np.zeros(v.shape[0], np.int64), n_levels=n_levels,
                          granularity="global")
    share = np.bincount(unit[ctx], minlength=cov.shape[0]) / v.shape[0]
    spread = np.einsum("u,uij->ij", share, cov)  # what normal displacements spread
    shift, second = gs.shrink(st.count, st.total, gs.unpack(st.outer, d), np.zeros((1, d)),
                              spread[None], kappa)
    w, basis = np.linalg.eigh(0.5 * (second[0] + second[0].T) - spread)
    extra = (basis * np.clip(w, 0.0, None)) @ basis.T
    n_present = normal.tables.prec.shape[1]
    wider = cov + extra[None]
    return (ViewpointModel.of((mean + shift[0], wider, unit), n_present, own),
            ViewpointModel.of((mean, wider, unit), n_present, own))


def viewpoint_llr(normal: ViewpointModel, fault: ViewpointModel, present: np.ndarray,
                  lagged: np.ndarray, ctx: np.ndarray, d_n: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(ℓ_i, |z_F|² / p)`` per row: the log-likelihood ratio of the conditional
    densities and the conditional residual under the fault's model (``d_n``: the
    normal model's ``|z|² / p`` at those rows, where already computed)."""
    p = present.shape[1]
    if d_n is None:
        d_n = gs.score_groups(normal.tables, present, lagged, ctx)[0]
    if fault is normal:
        return np.zeros(present.shape[0]), d_n
    d_f = gs.score_groups(fault.tables, present, lagged, ctx)[0]
    u = normal.tables.unit[ctx]
    return -0.5 * p * (d_f - d_n) - 0.5 * (fault.logdet[u] - normal.logdet[u]), d_f


@dataclass(frozen=True)
class FaultModel:
    """A fault seen from every sensor viewpoint, with the ``κ`` chosen per sensor and
    ``held_out``: the mean ``ℓ`` of each half of the range under the other half's model."""

    viewpoints: list[ViewpointModel]
    kappa: np.ndarray
    held_out: float
    spread: list[ViewpointModel]  # the same models without the fault's shift


def fit_fault(view: RelationsView, codes: list[np.ndarray],
              vectors: list[np.ndarray]) -> FaultModel:
    """The fault model of stored examples (per sensor, codes and extended vectors in
    time order), ``κ`` chosen by two-fold held-out likelihood on them."""
    normal = normal_models(view)
    ns = len(normal)
    grid = np.asarray(KAPPA_GRID, dtype=np.float64)
    out, spread, kappas, held = [], [], np.zeros(ns), np.zeros(ns)
    for i, (v, ctx) in enumerate(examples(view, codes, vectors)):
        d, m = v.shape[1], v.shape[0]
        half = m // 2
        folds = [(slice(0, half), slice(half, m)), (slice(half, m), slice(0, half))]
        score = np.zeros(grid.size)
        if half >= 2:
            for j, k in enumerate(grid * d):
                for a, b in folds:
                    f = displaced(normal[i], v[a], ctx[a], float(k), i, view.n_levels_)[0]
                    score[j] += viewpoint_llr(normal[i], f, v[b, :ns], v[b, ns:],
                                              ctx[b])[0].sum()
        # a range too short to split: the weight nearest one pseudo-sample per dimension
        best = int(np.argmax(score)) if half >= 2 else int(np.argmin(np.abs(grid - 1.0)))
        kappas[i], held[i] = grid[best] * d, score[best] / max(m, 1)
        fault, unmoved = displaced(normal[i], v, ctx, float(kappas[i]), i, view.n_levels_)
        out.append(fault)
        spread.append(unmoved)
    return FaultModel(out, kappas, float(held.mean()), spread)


@dataclass
class WindowLLR:
    """A fault's values over ``T`` rows (NaN where undefined): ``llr (T,)``, the window
    mean of ``ℓ``; ``per_sensor (T, ns)``, of each ``ℓ_i``; ``fit (T,)``, the window
    mean of ``log1p(mean_i |z_F,i|² / p)`` (``r_rel`` under the fault's model)."""

    llr: np.ndarray
    per_sensor: np.ndarray
    fit: np.ndarray
    moved: np.ndarray  # window mean of log p_F - log p_F0 (F0: F without its shift)


def window_llr(view: RelationsView, fault: FaultModel, scaled: np.ndarray,
               levels: np.ndarray, rows: np.ndarray, window: int) -> WindowLLR:
    """Score ``fault`` against the normal model at the transition starts ``rows``."""
    T, ns = scaled.shape
    normal = normal_models(view)
    ell, fit = np.full((T, ns), np.nan), np.full((T, ns), np.nan)
    ell0 = np.full((T, ns), np.nan)
    lags = view.lags_
    taught = [(v, normal_models(v)) for v in (getattr(view, "with_taught_", None),
                                              getattr(view, "taught_only_", None))
              if v is not None]
    for sl in chunks(rows.size, ns * (1 + lags.size), budget=1e6):
        r = rows[sl]
        present = scaled[r]
        codes = levels[r] * view.n_levels_ + levels[r + view.delta_]
        d_n = np.empty((r.size, ns))
        for i in range(ns):
            lagged = scaled[r[:, None] - lags[None, :], i]
            ctx = view.lookup_[i][codes[:, i]]
            d_n[:, i] = gs.score_groups(normal[i].tables, present, lagged, ctx)[0]
            ell[r, i], fit[r, i] = viewpoint_llr(normal[i], fault.viewpoints[i], present,
                                                 lagged, ctx, d_n[:, i])
            ell0[r, i] = viewpoint_llr(normal[i], fault.spread[i], present, lagged, ctx,
                                       d_n[:, i])[0]
        if taught:  # against the normal model the row takes (``moved`` is unchanged)
            gain = taught_gain(view, normal, taught, scaled, codes, r, d_n)
            ell[r] -= gain
            ell0[r] -= gain
    both = window_mean(np.concatenate([ell.mean(axis=1, keepdims=True),
                                       np.log1p(fit.mean(axis=1, keepdims=True)),
                                       (ell - ell0).mean(axis=1, keepdims=True), ell],
                                      axis=1), window)
    return WindowLLR(both[:, 0], both[:, 3:], both[:, 1], both[:, 2])


def taught_gain(view: RelationsView, normal: list[ViewpointModel],
                taught: list[tuple[RelationsView, list[ViewpointModel]]], scaled: np.ndarray,
                codes: np.ndarray, r: np.ndarray, d_n: np.ndarray) -> np.ndarray:
    """``(len(r), ns)``: how much more likely each viewpoint's present state is under the
    normal model the rows take than under the healthy one - the model of the healthy,
    healthy-plus-taught and taught-alone statistics with the smallest mean residual, as
    the relations view scores them (:func:`normalcy.detector.relation_taught.taken`);
    0 where that is the healthy one (``d_n (len(r), ns)``: the healthy model's ``|z|² /
    p``, computed by the caller).

    A fault's log-likelihood ratio is taken against that model: an operator's "normal"
    verdict then also tells a fault's signature what normal looks like there. Against
    the healthy model alone, a fault taught on a range the detector could not tell from
    a healthy regime the history lacks (a controlled temperature's 0.9 K bias at
    set-points between the trained ones, on a simulated mixing tank) named healthy days
    at those set-points after the fault, and kept naming them after they were marked
    normal."""
    ns = len(normal)
    present = scaled[r]
    lags = view.lags_
    models = [(view, normal), *taught]
    d = np.empty((len(models), r.size, ns))
    lp = np.empty((len(models), r.size, ns))
    d[0] = d_n
    for i in range(ns):
        lagged = scaled[r[:, None] - lags[None, :], i]
        for k, (v, vm) in enumerate(models):
            ctx = v.lookup_[i][codes[:, i]]
            if k:
                d[k, :, i] = gs.score_groups(vm[i].tables, present, lagged, ctx)[0]
            lp[k, :, i] = -0.5 * ns * d[k, :, i] - 0.5 * vm[i].logdet[vm[i].tables.unit[ctx]]
    pick = taken(d.mean(axis=2))
    gain = np.take_along_axis(lp, pick[None, :, None], axis=0)[0] - lp[0]
    return np.where((pick > 0)[:, None], gain, 0.0)


def recognition_level(det: TransitionDetector, prep: Prepared, rows: np.ndarray,
                      codes: list[np.ndarray], vectors: list[np.ndarray],
                      normal_score: np.ndarray) -> float:
    """``λ_F`` of a fault taught on ``rows`` of ``prep`` (see the module's docstring):
    the 99 % level of ``L_F`` over held-out windows of ``prep`` not in alarm, at least 0;
    without ``window`` such windows, half the range's held-out ``ℓ``."""
    view = view_of(det)
    fault = fit_fault(view, codes, vectors)
    N, d = int(det.window_), int(det.delta_)
    w = window_llr(view, fault, prep.scaled, prep.levels, prep.rows, N).llr
    t = np.arange(w.size)
    a, b = int(rows.min()), int(rows.max()) + 1
    held = ((t < a - d) | (t - N + 1 >= b + d)) & np.isfinite(w) & (
        np.nan_to_num(normal_score, nan=np.inf) <= float(det.threshold_))
    if held.sum() >= N:
        return max(0.0, float(np.quantile(w[held], LEVEL_QUANTILE)))
    return max(0.0, FALLBACK_SHARE * fault.held_out)


# ------------------------------------------------------------------- scoring
class FaultModels:
    """The fault models of a signature library, derived from its examples once per
    relations view (not copied with the library: a deep copy starts empty)."""

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[weakref.ref[RelationsView], Any, Any, FaultModel]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> FaultModels:
        return FaultModels()

    def __reduce__(self) -> tuple[type[FaultModels], tuple[()]]:
        # pickled empty as deep-copied (joblib, Dask): weak references do not pickle
        return FaultModels, ()

    def get(self, view: RelationsView, name: str, sigs: Any) -> FaultModel:
        """``name``'s fault model in ``view`` (``sigs``: its per-sensor examples)."""
        hit = self._by_name.get(name)
        if hit is not None and hit[0]() is view and hit[1] is view.stats_ and hit[2] is sigs:
            return hit[3]
        model = fit_fault(view, [s.codes for s in sigs], [s.vectors for s in sigs])
        self._by_name[name] = (weakref.ref(view), view.stats_, sigs, model)
        return model


def scored(det: TransitionDetector, faults: dict[str, Any], cache: FaultModels,
           scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray
           ) -> dict[str, WindowLLR]:
    """Per fault, its :class:`WindowLLR` on the data."""
    view = view_of(det)
    return {name: window_llr(view, cache.get(view, name, sigs), scaled, levels, rows,
                             int(det.window_)) for name, sigs in faults.items()}


def recognised(det: TransitionDetector, w: WindowLLR, level: float) -> np.ndarray:
    """Windows recognised as the fault: ``L_F > λ_F`` and explained within ``R``."""
    limit = float(det.reference_["rel"]) * float(det.threshold_)
    return (np.nan_to_num(w.llr, nan=-np.inf) > level) & (
        np.nan_to_num(w.fit, nan=np.inf) <= limit) & (
        np.nan_to_num(w.moved, nan=-np.inf) > MOVED)


def matches(det: TransitionDetector, faults: dict[str, Any], cache: FaultModels,
            level: dict[str, float], scaled: np.ndarray, levels: np.ndarray,
            rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per fault, ``(T, ns)``: 1 where the window is recognised and the viewpoint's own
    window log-likelihood ratio exceeds the level, 0 not, NaN undefined."""
    out = {}
    for name, w in scored(det, faults, cache, scaled, levels, rows).items():
        lv = level.get(name, 0.0)
        hit = recognised(det, w, lv)[:, None] & (np.nan_to_num(w.per_sensor) > lv)
        out[name] = np.where(np.isnan(w.per_sensor), np.nan, hit.astype(np.float64))
    return out


def columns(det: TransitionDetector, faults: dict[str, Any], cache: FaultModels,
            level: dict[str, float], raises: dict[str, bool], scaled: np.ndarray,
            levels: np.ndarray, rows: np.ndarray, normal: np.ndarray) -> pd.DataFrame:
    """``score_fault``, ``r_fault``, ``r_fault[s]`` and ``fault`` in the relations view.

    ``r_fault`` is ``UNIT_SHARE * max(0, 1 + L_F - λ_F)`` of the fault nearest to (or
    furthest beyond) its level, 0 where it does not explain the window (so
    ``threshold * r_fault / UNIT_SHARE`` is the score a recognised missed fault
    gives, as with the paper's signatures); ``r_fault[s]`` the same with viewpoint
    ``s``'s own window log-likelihood ratio.
    """
    names = list(faults)
    per = scored(det, faults, cache, scaled, levels, rows)
    thr = float(det.threshold_)
    lv = np.array([level.get(n, 0.0) for n in names])[:, None]
    llr = np.stack([per[n].llr for n in names])  # (F, T)
    ok = np.stack([recognised(det, per[n], float(lv[k, 0])) for k, n in enumerate(names)])
    fits = np.stack([np.nan_to_num(per[n].fit, nan=np.inf) <= float(det.reference_["rel"]) * thr
                     for n in names])
    excess = np.nan_to_num(llr, nan=-np.inf) - lv  # > 0: beyond the level
    term = thr * (1.0 + excess)
    up = np.array([raises.get(n, True) for n in names])[:, None]
    raised = ok & up
    score_fault = np.where(raised, term, 0.0).max(axis=0)
    score_fault[np.isnan(llr).all(axis=0)] = np.nan
    in_alarm = np.nan_to_num(normal, nan=-np.inf) >= thr
    named = ok & (raised | in_alarm[None, :])
    pick = np.where(named, np.nan_to_num(llr, nan=-np.inf), -np.inf).argmax(axis=0)
    fault = np.where(named.any(axis=0), np.asarray(names, dtype=object)[pick], "")
    best = np.where(named.any(axis=0), pick, np.where(fits, excess, -np.inf).argmax(axis=0))
    cols_t = np.arange(llr.shape[1])
    unit = UNIT_SHARE * np.clip(1.0 + excess[best, cols_t], 0.0, None) * fits[best, cols_t]
    unit[np.isnan(llr).all(axis=0)] = np.nan
    cols: dict[str, Any] = {"score_fault": score_fault, "r_fault": unit}
    for j, s in enumerate(det.sensors_):
        ps = np.stack([per[n].per_sensor[:, j] for n in names])[best, cols_t]
        cols[f"r_fault[{s}]"] = np.where(
            np.isnan(ps), np.nan,
            UNIT_SHARE * np.clip(1.0 + np.nan_to_num(ps) - lv[best, 0], 0.0, None)
            * fits[best, cols_t])
    cols["fault"] = fault
    return pd.DataFrame(cols)
