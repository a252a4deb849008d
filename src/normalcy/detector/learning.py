"""Learning the normality parameters and calibrating the reference levels.

Shared by :meth:`TransitionDetector.fit` and the transfer of a detector to a
new unit (:mod:`normalcy.transfer.transition`): one way to learn (SPEC
§1.5-1.7) and one calibration rule (§1.11, cross-fitted held-out windows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from normalcy.data.validation import Series, as_model_input
from normalcy.detector import calibration, readings, steps
from normalcy.detector.extended import (
    LEARN_FLOATS,
    chunks,
    extended_vectors,
    transition_codes,
)
from normalcy.detector.normality import SensorNormality, count, update
from normalcy.detector.parts import Learned, Prepared
from normalcy.detector.relation_stats import budget_granularity
from normalcy.detector.relations import RelationsView, default_lags
from normalcy.detector.residuals import ScoringTables, abnormal_pairs, contributions, window_mean
from normalcy.detector.scoring import relation_residuals, term_of
from normalcy.exceptions import InputError

Model = list[SensorNormality]


class Settings(Protocol):
    """The detector parameters learning and calibration read (a TransitionDetector)."""

    eta: float
    nu: float
    eps: float
    bound_quantiles: tuple[float, float] | None
    max_configurations: int | str | None
    calibration_folds: int
    calibration_quantile: float
    threshold: float
    view: str


def quantile_boxes(codes: np.ndarray, w: np.ndarray,
                   quantiles: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample copies of the per-transition quantile bounds (robust NP-2)."""
    qlo, qhi = (float(v) for v in quantiles)
    lo = np.empty_like(w)
    hi = np.empty_like(w)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    bounds = np.r_[starts, codes.size]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # one pass per transition
        idx = order[a:b]
        lo[idx], hi[idx] = np.quantile(w[idx], [qlo, qhi], axis=0)
    return lo, hi


#: the configurations' size budget of ``max_configurations="auto"`` (numbers; 64 MB)
CONFIGURATION_FLOATS = 8e6
#: the fewest configurations per transition ``"auto"`` keeps, whatever the budget
CONFIGURATION_FLOOR = 16


def configuration_cap(setting: int | str | None, levels: np.ndarray, rows: np.ndarray, *,
                      delta: int, n_levels: int) -> int | None:
    """The configurations kept per transition: ``setting`` itself, or for "auto" the
    cap that holds all sensors' configurations within :data:`CONFIGURATION_FLOATS`
    numbers if each seen transition kept as many (``transitions x (ns + delta - 1)``
    numbers per configuration), at least :data:`CONFIGURATION_FLOOR`.

    Measured with the paper's residuals (``view="paper"``): Lorenz (2 sensors) gives
    644 and keeps at most 16, ETC 275 against 98 kept (not binding); the quadruple tank
    (6 sensors, 20 000 rows) 156 against 901, the 55-sensor process 23 against 907, a
    smooth 20-sensor plant of 40 000 rows 35 against 278: models of 7.4, 261 and 149 MB
    become 5.7, 34 and 49 MB, fits of 5.7, 55 and 22 s take 2.7, 18 and 12 s, and the
    window ROC-AUC of the tank, CSTR and process test periods moves 0.637 -> 0.657,
    0.618 -> 0.607, 0.523 -> 0.530 (/tmp/exp/capauc.py).

    Examples
    --------
    >>> lv = np.zeros((50, 2), dtype=np.int64)
    >>> configuration_cap("auto", lv, np.arange(45), delta=2, n_levels=3)  # 2 transitions
    1333333
    >>> configuration_cap(7, lv, np.arange(45), delta=2, n_levels=3)
    7
    """
    if setting != "auto":
        return None if setting is None else int(setting)
    ns = levels.shape[1]
    seen = sum(np.unique(transition_codes(levels, rows, i, delta, n_levels)).size
               for i in range(ns))
    return max(CONFIGURATION_FLOOR, int(CONFIGURATION_FLOATS // max(1, seen * (ns + delta - 1))))


def learn(det: Settings, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray,
          *, delta: int, n_levels: int, view: str, cap: int | None = None) -> Model:
    """NP-1/2/3 of every sensor from the transitions starting at ``rows``, at most
    ``cap`` configurations per transition (:func:`configuration_cap`); for
    ``view="relations"``, whose score reads neither bounds nor configurations, NP-1
    and the transitions' counts only."""
    ns = scaled.shape[1]
    nse = ns + delta - 1
    eta = float(det.eta)
    out = []
    for i in range(ns):
        codes = transition_codes(levels, rows, i, delta, n_levels)
        if view == "relations":
            out.append(count(SensorNormality.empty(nse, bounds=False), codes))
            continue
        state = SensorNormality.empty(nse)
        if det.bound_quantiles is not None:
            w = extended_vectors(scaled, rows, i, delta)
            state = update(state, codes, w, eta,
                           bounds=quantile_boxes(codes, w, det.bound_quantiles),
                           max_configurations=cap)
        else:
            for sl in chunks(rows.size, nse, budget=LEARN_FLOATS):
                w = extended_vectors(scaled, rows[sl], i, delta)
                state = update(state, codes[sl], w, eta, max_configurations=cap)
        out.append(state)
    return out


def held_out(det: Settings, learned: Learned, model: Model, prep: Prepared,
             block: np.ndarray) -> tuple[np.ndarray, ...]:
    """Full-window residuals of ``block`` under ``model`` (a model that did not see it):
    unseen count per sensor, bound, conf and the abnormal share."""
    ns = prep.scaled.shape[1]
    nq, N = learned.n_levels, learned.window
    tables = [ScoringTables.of(s, nq**2) for s in model]
    first = int(block[0])  # the block's span only: a fold of a long history, not all of it
    T = int(block[-1]) - first + 1
    e = np.full((T, 4, ns), np.nan)
    for i in range(ns):
        et, eb, ec, _ = contributions(tables[i], prep.scaled, prep.levels, block, i,
                                      delta=learned.delta, n_levels=nq, nu=float(det.nu),
                                      eps=float(det.eps))
        e[block - first, :3, i] = np.stack([et, eb, ec], axis=1)
        e[block - first, 3, i] = abnormal_pairs({"e_trans": et, "e_bound": eb, "e_conf": ec},
                                                float(det.eta))
    r = window_mean(e.reshape(T, 4 * ns), N).reshape(T, 4, ns).mean(axis=2)
    ok = np.isfinite(r).all(axis=1)
    return r[ok, 0] * N, r[ok, 1], r[ok, 2], r[ok, 3]


def calibrate(det: Settings, learned: Learned, prep: Prepared,
              learn_rows: Callable[[np.ndarray], Model]) -> dict[str, float] | None:
    """Reference levels from cross-fitted held-out windows of ``prep`` (SPEC §1.11).

    ``learn_rows(train_rows)`` gives the model of the other folds. None when no
    window could be held out (the data are too short).
    """
    rows = prep.rows
    folds = calibration.n_folds(det.calibration_folds, rows.size, learned.window)
    held = calibration.cross_fit(
        rows, folds, learned.delta + learned.window, learn=learn_rows,
        held_out_windows=lambda model, block: held_out(det, learned, model, prep, block))
    if held.bound.size == 0:
        return None
    return calibration.reference_levels(held, float(det.calibration_quantile), float(det.eta))


def calibrate_relations(det: Settings, prep: Prepared, view: RelationsView, delta: int,
                        window: int, *, held_out: bool = True) -> dict[str, float]:
    """The reference levels of the relations view: ``{"rel": R}`` for ``r_rel`` and,
    where the view models the plant's dynamics, ``"dyn"`` for ``r_dyn``; each the
    ``REL_QUANTILE`` (99 %) level of its window residuals held out from the view (raised
    where the sampling period is known: :func:`calibration.timed_quantile`, then until
    the held-out score's alarm episodes are within EEMUA 191's budget in time:
    :func:`calibration.episode_level`),
    fold by fold (SPEC §1.11 applied to §6, the level SPEC §6's lab used). A fold's
    model is the full statistics minus those of the fold and its margin (statistics
    subtract exactly), with the shrinkage weights of the fit. One fold whose own 99 %
    level is an outlier among the folds' (:func:`calibration.typical_folds`: a regime
    the rest of the history never shows) is left out of that level's pool. A series
    too short to hold out a window, or ``held_out=False`` (a view whose statistics do
    not hold ``prep``'s), takes its windows as they are. A view with the readings'
    limits (:mod:`normalcy.detector.readings`) gets ``"stuck"`` and ``"noisy"``, their
    fixed level. A view that models the plant's dynamics gets its step limits
    (``view.steps_``, set here: each sensor's largest innovation in the same held-out
    blocks, :mod:`normalcy.detector.steps`) and ``"step"``, their fixed level.

    Why not ``calibration_quantile`` (95 %): held-out window means of slow,
    autocorrelated signals are few independent draws, and fresh healthy data
    exceed their 95 % level far more often than 5 % (15 % on a smooth 3-sensor walk;
    2.3 % with the 99 % level, ``docs/benchmarks.md``). ``threshold`` scales the
    alarm level of both views.
    """
    rows, N = prep.rows, window
    q = calibration.timed_quantile(REL_QUANTILE, N, getattr(det, "sample_period_", None))
    folds = calibration.n_folds(det.calibration_folds, rows.size, N)
    margin = delta + N
    found: list[dict[str, np.ndarray]] = []  # per fold: each term's windows, where r_rel is defined

    def add(e_rel: np.ndarray, e_dyn: np.ndarray | None) -> None:
        e = {"rel": e_rel} if e_dyn is None else {"rel": e_rel, "dyn": e_dyn}
        w = {k: window_mean(v[:, None], N)[:, 0] for k, v in e.items()}
        ok = np.isfinite(w["rel"])
        if ok.any():
            found.append({k: v[ok] for k, v in w.items()})

    largest = np.zeros(prep.scaled.shape[1])  # the held-out steps (steps.Steps)

    def add_steps(model: RelationsView, at: np.ndarray) -> None:
        if model.dyn_tables_ is not None:
            np.fmax(largest, steps.innovations_z(model.dyn_tables_, prep.scaled, at), out=largest)

    for block in calibration.fold_blocks(rows, folds) if held_out else []:
        near = rows[(rows >= block[0] - margin) & (rows <= block[-1] + margin)]
        if near.size == rows.size:
            continue
        model = view.copy().add(prep.scaled, prep.levels, near, weight=-1.0)
        add(*relation_residuals(model, prep.scaled, prep.levels, block))
        add_steps(model, block)
    if not found:
        add(*relation_residuals(view, prep.scaled, prep.levels, rows))
        add_steps(view, rows)
    fixed = {} if getattr(view, "readings_", None) is None else dict.fromkeys(
        ("stuck", "noisy"), readings.LIMIT)
    steps.install(view, steps.Steps(largest) if steps.applies(view) else None)
    if view.steps_ is not None:
        fixed["step"] = steps.FACTOR
    if not found:
        return {"rel": 1.0, **fixed}
    out: dict[str, float] = {}
    keep = np.ones(len(found), dtype=bool)
    for k in found[0]:
        parts = [f[k][np.isfinite(f[k])] for f in found]
        typical = calibration.typical_folds(np.array([np.quantile(w, q) if w.size
                                                      else 0.0 for w in parts]))
        keep &= typical
        r = np.concatenate([w for w, ok in zip(parts, typical, strict=True) if ok])
        out[k] = max(REL_FLOOR, float(np.quantile(r, q)) if r.size else 1.0)
    if "dyn" in out:  # the joint level of the larger of the two, on the same windows
        m = np.concatenate([np.fmax(f["rel"] / out["rel"], f["dyn"] / out["dyn"])
                            for f, ok in zip(found, keep, strict=True) if ok] or [np.zeros(0)])
        m = m[np.isfinite(m)]
        out["joint"] = max(1.0, float(np.quantile(m, q)) if m.size else 1.0)
    period = getattr(det, "sample_period_", None)
    if period is not None:  # EEMUA 191 counted in held-out episodes, not only windows
        series = [np.fmax(f["rel"] / out["rel"], f["dyn"] / out["dyn"]) / out["joint"]
                  if "dyn" in out else f["rel"] / out["rel"]
                  for f, ok in zip(found, keep, strict=True) if ok]
        raise_by = calibration.episode_level(series, float(period), N)
        out["joint" if "dyn" in out else "rel"] *= raise_by
    return {**out, **fixed}


#: ``view="auto"`` takes the relations view only with at least this many transition
#: starts per dimension of a sensor viewpoint (sensors + own lags): its covariances are
#: estimated per context (``settings.auto_levels`` asks ~50 samples per transition code)
AUTO_ROWS_PER_DIMENSION = 50
#: the same where the size budget leaves one covariance per sensor (``"global"``, wide
#: plants: :func:`normalcy.detector.relation_stats.budget_granularity`), estimated from
#: every row (measured in :func:`relations_rows`)
GLOBAL_ROWS_PER_DIMENSION = 20
#: the share of the history a relations model of the rest is fitted on (the travel check's)
AUTO_SPLIT = 0.6
#: the most of the later windows that model may put in alarm (the travel aim, 5 %)
AUTO_TRAVEL = 0.05
#: the most of the later (row, sensor) pairs at a level the earlier part never visited
#: for a failed self-check to be read as a new operating regime, not a drift
AUTO_OUTSIDE = 0.01


def relations_rows(n_sensors: int, delta: int, n_levels: int | None = None) -> int:
    """The transition starts ``view="auto"`` needs for the relations view: per dimension
    of a sensor's viewpoint (the sensors and its own lags, :func:`default_lags`),
    :data:`AUTO_ROWS_PER_DIMENSION`, or :data:`GLOBAL_ROWS_PER_DIMENSION` where the plant
    is so wide that its ``n_levels`` leave one covariance per sensor
    (:func:`~normalcy.detector.relation_stats.budget_granularity`; ``n_levels=None``: as
    if not).

    Measured on plants of 100 and 200 sensors reading 10 and 20 latent random walks
    (detrended over 500 rows; 2-sigma biases on three sensors; ``/tmp/s18/wideshort.py``):
    at 200 sensors and 8 000 rows the paper's residuals, which the 50-per-dimension rule
    chose, scored a ROC-AUC of 0.259, caught none of the biased rows and put 2.42 % of the
    healthy ones in alarm, at 103 rows/s; the relations view 0.994, all and 0.00 %, at
    17 728 rows/s. With fewer rows the relations view's healthy rows in alarm grow as its
    history covers less of the walks: 1.28 % at 4 000 rows (20 per dimension), 11.65 %
    at 2 000; at 100 sensors, 17.58 % at 1 500 rows, 11.50 % and 1.81 % at 2 200 (two
    seeds), 3.77 % at 5 500 (the old rule's), the paper's residuals at 1 500 rows 0 %
    but catching nothing (ROC-AUC 0.496). Hence 20 per dimension: the view's own
    self-check still decides above it.

    Examples
    --------
    >>> relations_rows(200, 1), relations_rows(8, 5), relations_rows(200, 1, 4)
    (10000, 550, 4000)
    >>> relations_rows(8, 5, 4)  # narrow: one covariance per context
    550
    """
    lags = int(default_lags(delta).size)
    per = AUTO_ROWS_PER_DIMENSION
    if n_levels is not None and budget_granularity(n_sensors, lags, delta,
                                                   n_levels) == "global":
        per = GLOBAL_ROWS_PER_DIMENSION
    return per * (n_sensors + lags)


def choose_view(det: Settings, like: Any, prep: Prepared, *, delta: int, n_levels: int,
                window: int) -> tuple[str, float | None, bool, dict[str, float] | None]:
    """The view in force, the self-check's share of windows in alarm (None: not run),
    whether the relations view models the plant's dynamics, and - where the check sent
    the fit to the paper's residuals because the later history left the earlier levels -
    the sensors that left them (:func:`wanderers`; None otherwise).

    ``view="auto"`` takes the relations view (SPEC §6) when it travels within the
    history: a relations model of the first 60 % of the transition starts, calibrated
    as :meth:`fit` calibrates it, keeps at most 5 % of the full windows of the rest
    above the threshold - with the plant's dynamics term, or else without it (a
    global linear model of the dynamics extrapolates: on the three tanks, whose later
    history visits levels the earlier does not, it put the later windows in alarm
    that the relations term alone keeps quiet). Otherwise - the history too short
    for its covariances (:data:`AUTO_ROWS_PER_DIMENSION`), or one whose later part
    leaves the earlier part's relations (a warm-up: SKAB's anomaly-free run, 25 % of
    its later windows in alarm) - the paper's residuals, which a continuing slow
    drift does not trouble. ``fit(like=...)`` keeps the reference model's view and
    dynamics (so they merge).

    Where the check fails but the rest stays within the levels the first 60 % visited
    (at most :data:`AUTO_OUTSIDE`, 1 %, of its (row, sensor) pairs at a level a sensor
    never reached before), the relations view is kept (with the dynamics term): the
    history met a new combination of known levels - a new operating regime - not a
    drift, and the full history holds it. The 55-sensor wide process of
    ``normalcy bench plants`` with seeds 2 and 3 does so (27.3 % and 14.3 % of the later
    windows in alarm - on seed 2 a stretch at a reactor temperature of 355 K whose
    composition ``XC_R`` sits far from what the early part relates it to - with 0 % of
    the pairs outside); the paper's residuals then scored its test period at a row
    ROC-AUC of 0.551 and 0.496 against the relations view's 0.919 and 0.887, with 0.33
    and 0.44 healthy alarm episodes per 10 minutes (under EEMUA 191's 1), and cost more
    (at 55 sensors: about 20 s to fit, 34 MB, 9 000 rows/s). The histories the fallback is for leave
    the earlier levels: SKAB's anomaly-free run (11.4 % of the pairs outside), random
    walks (17.7 % at 200 sensors, where the paper's residuals put none of the walk's
    continuation in alarm and the relations view 49.5 %), a warming-up sensor (17 %).

    Tried and not kept: where the relations view misses 5 %, the paper's residuals
    learned and calibrated on the same 60 % and the view that keeps fewer of the rest's
    windows in alarm taken. It moved the three tanks of ``normalcy bench feedback``
    (seed 1: relations 7.4 %, paper 31.7 %) to the relations view (later new-regime
    false alarms before and after one marked run 17 -> 5 became 11 -> 0) and 23 of
    SKAB's 34 protocol-2 fits (window ROC-AUC 0.697 -> 0.744, F1 0.208 -> 0.370 at a
    false-alarm rate of 2.4 % -> 8.2 %), but also SKAB's anomaly-free run, whose later
    healthy samples it put 36.5 % in alarm against the paper's 0 % (the travel check):
    the paper's residuals calibrated on 60 % of a short history are no guide to how
    they travel.
    """
    if det.view != "auto":
        return det.view, None, True, None
    if like is not None:
        ref = getattr(like, "relations_", None)
        return (str(like.view_), like.view_check_, ref is None or ref.dyn_ is not None,
                getattr(like, "view_outside_", None))
    rows, ns = prep.rows, prep.scaled.shape[1]
    if rows.size < relations_rows(ns, delta, n_levels):
        return "paper", None, True, None
    early, later = np.split(rows, [int(rows.size * AUTO_SPLIT)])
    try:
        view = RelationsView().fit(prep.scaled, prep.levels, early, delta=delta,
                                   n_levels=n_levels)
        levels = calibrate_relations(det, replace(prep, rows=early), view, delta, window)
    except InputError:  # too few starts for the probe's folds: not enough history
        return "paper", None, True, None
    e, e_dyn = relation_residuals(view, prep.scaled, prep.levels, later)
    shares = []
    for ref in (levels, {"rel": levels["rel"]}) if "dyn" in levels else (levels,):
        r = term_of(e, e_dyn, window, ref)[later]
        r = r[np.isfinite(r)]
        if r.size == 0:
            return "paper", None, True, None
        shares.append(float(np.mean(r > float(det.threshold))))
        if shares[-1] <= AUTO_TRAVEL:  # False only where the term was tried and left out
            return "relations", shares[-1], "dyn" in ref or "dyn" not in levels, None
    if outside_share(prep.levels, early, later) <= AUTO_OUTSIDE:  # a new regime, no drift
        return "relations", shares[0], True, None
    return "paper", shares[-1], True, wanderers(prep.levels, early, later,
                                                 prep.series.sensors)


#: the most sensors :func:`wanderers` names
WANDERERS_NAMED = 5


def wanderers(levels: np.ndarray, early: np.ndarray, later: np.ndarray,
              sensors: list[str]) -> dict[str, float]:
    """The sensors whose ``later`` rows sit at a level the ``early`` rows never
    reached on more than :data:`AUTO_OUTSIDE` of them, with that share, largest first
    (at most :data:`WANDERERS_NAMED`).

    What ``normalcy info`` and ``normalcy fit`` say where ``view="auto"`` fell back to the
    paper's residuals: a sensor that wanders (an ambient temperature, a slowly filling
    tank) also raises the paper residuals' reference levels of every sensor, and a
    fault of another sensor can stay under them. On a 3-sensor export whose temperature
    walked (``tests/detector/test_auto_view.py``), a flow offset of 10 noise standard
    deviations stayed under ``score > 1`` (at most 0.87); fitted without the temperature,
    the relations view put 99 % of the offset's rows in alarm and 2 % of the healthy ones.

    Examples
    --------
    >>> lv = np.array([[0, 1], [1, 1], [2, 1], [3, 1]])
    >>> wanderers(lv, np.array([0, 1]), np.array([2, 3]), ["temp", "flow"])
    {'temp': 1.0}
    """
    each = (np.zeros(len(sensors)) if later.size == 0 else
            1.0 - _seen_before(levels, early, later).mean(axis=0))
    order = [j for j in np.argsort(-each, kind="stable") if each[j] > AUTO_OUTSIDE]
    return {sensors[j]: round(float(each[j]), 4) for j in order[:WANDERERS_NAMED]}


def outside_share(levels: np.ndarray, early: np.ndarray, later: np.ndarray) -> float:
    """The share of the ``later`` rows' (row, sensor) pairs at a level that sensor never
    had at the ``early`` rows (``levels (T, ns)``, quantized).

    Examples
    --------
    >>> lv = np.array([[0, 1], [1, 1], [1, 2], [2, 1]])
    >>> outside_share(lv, np.array([0, 1]), np.array([2, 3]))
    0.5
    """
    return 0.0 if later.size == 0 else float(1.0 - _seen_before(levels, early, later).mean())


def _seen_before(levels: np.ndarray, early: np.ndarray, later: np.ndarray) -> np.ndarray:
    """``(later rows, ns)``: whether each later (row, sensor) pair sits at a level that
    sensor had at the ``early`` rows."""
    lv = np.asarray(levels)
    top = int(lv.max()) + 1
    seen = np.zeros((lv.shape[1], top), dtype=bool)
    cols = np.broadcast_to(np.arange(lv.shape[1]), (early.size, lv.shape[1]))
    seen[cols, lv[early]] = True
    return seen[np.arange(lv.shape[1])[None, :], lv[later]]


#: the quantile of held-out windows that sets ``R`` (SPEC §6: "99th percentile of
#: cross-fitted held-out training windows")
REL_QUANTILE = 0.99
#: the smallest reference level of ``r_rel`` (a plant with perfectly predictable relations)
REL_FLOOR = 1e-3


def like_parts(det: Any, like: Any, X: Any) -> tuple[Series, np.ndarray, np.ndarray,
                                                     tuple[np.ndarray, int, int, int]]:
    """Validate ``fit(X, like=...)``: ``X`` read with ``like``'s sensors; its scaler,
    quantizers and settings."""
    if not isinstance(like, type(det)) or getattr(like, "normality_", None) is None:
        raise InputError("like= must be a fitted TransitionDetector (the model whose "
                         f"scaler and quantizers to reuse). Got {type(like).__name__}.")
    clash = [f"{k}={getattr(det, k)!r} (like has {getattr(like, k + '_')})"
             for k in ("n_levels", "delta", "window")
             if getattr(det, k) != "auto" and getattr(det, k) != getattr(like, k + "_")]
    if clash:
        raise InputError("fit(like=...) takes n_levels, delta and window from the "
                         f"reference model; these differ: {', '.join(clash)}. Leave them "
                         "'auto' or use normalcy.operator.fit_like.")
    series = as_model_input(X, like.sensors_, what="training data")
    fixed = (like.edges_, int(like.n_levels_), int(like.delta_), int(like.window_))
    return series, like.center_, like.scale_, fixed
