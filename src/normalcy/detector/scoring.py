"""The residual frame: per-sample contributions to window residuals and the score.

Two views feed the score (the detector's ``view`` parameter):

- the paper's residuals (SPEC §1.8-1.11): ``r_trans``, ``r_bound``, ``r_conf``
  over a window of ``N`` transitions, each divided by its reference level;
- the relations view (SPEC §6): per transition start, ``e_rel = log1p(m)`` with
  ``m`` the mean over the sensor viewpoints of the conditional Mahalanobis
  distance per component (about 1 when healthy); ``r_rel`` its window mean, divided
  by its reference level ``R``. Per sensor ``s``, ``r_rel[s]`` is the window mean of
  ``log1p(z²)``, ``z`` the sensor's value against what all the other sensors predict
  in the plant's relations (:mod:`normalcy.detector.naming`: one model in which every
  sensor is judged), in its standard deviations, for the share of its variance they
  explain, and against its own context for the rest: it names the sensor that left
  the relations. Where the view models the plant's dynamics
  (:mod:`normalcy.detector.dynamics`), ``e_dyn = log1p(|z|² / ns)`` of the present
  state given the previous one, window-meaned into ``r_dyn`` and divided by its own
  reference level ``R_dyn``, is a second term: the view's term is the larger of
  ``r_rel / R`` and ``r_dyn / R_dyn``, divided by ``J``, the 99 % level of that
  larger one on the same held-out windows (so at most 1 on 99 % of them, as each
  term alone). ``J`` is near 1 (the two terms are rarely high together when
  healthy), so evidence only one term sees keeps nearly its full weight; their
  mean would halve it (measured with the mean: a 2σ shift of one of 3 sensors
  caught 36 rows late instead of 3, and new operating regimes of the feedback
  bench raising no alarm). Window ROC-AUC before it was chosen (``normalcy bench
  plants`` data, relations term alone / the larger of the two): 55-sensor process
  0.745 / 0.864, jacketed CSTR 0.818 / 0.820, quadruple tank 0.837 / 0.785, Lorenz
  0.9911 / 0.9911, ETC 0.781 / 0.822. Per sensor, ``r_dyn[s]`` is the window mean
  of ``log1p(z²)``, ``z`` the sensor's innovation in its standard deviations (what
  moved unexpectedly; the sensors of an alarm the dynamics term drives are named by
  ``r_rel[s]``, :func:`normalcy.detector.naming.named`: after a bias's step the
  innovations blame the sensors predicted from the biased one).

Two checks on the raw readings (:mod:`normalcy.detector.readings`) raise the view's
term: a watched sensor that repeats its reading (``r_stuck``, the largest
``r_stuck[s]``, over ``reference_["stuck"]``), or jitters beyond what 95 % of its
healthy samples did (``r_noisy``, over ``reference_["noisy"]``), in more than half of
a window. Where the view models the dynamics, a sensor that jumps in one sample more
than ``reference_["step"]`` (2) times the largest such move of the held-out history
raises it for a window (``r_step``, the largest ``r_step[s]``: :mod:`normalcy.detector.steps`;
only above that level, so the healthy score is the other terms').

``score = max`` of the terms of the views in force; ``<= 1`` means "as normal as
held-out healthy data".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.detector import readings, steps
from normalcy.detector.residuals import window_mean
from normalcy.exceptions import InputError


@dataclass
class RelationSamples:
    """Relations-view values per row (NaN where no transition starts).

    ``e (T,)``: ``log1p`` of the viewpoints' mean conditional residual;
    ``per_sensor (T, ns)``: ``log1p`` of the squared z-score that names sensors
    (:meth:`normalcy.detector.naming.PlantModel.weighed`); ``plant (T, ns)``:
    the sensor's value minus what all the other sensors predict in the plant's
    relations (:mod:`normalcy.detector.naming`, one model for every sensor), scaled units,
    ``plant_spread`` its standard deviation; ``signed``, ``static`` ``(T, ns)``: the
    sensor's value minus what its relations predict in its own context (with and
    without its own past), scaled units; ``spread``, ``static_spread``: their
    standard deviations; ``context (T, ns)``: 0 seen transition, 1 level, 2 global.
    ``e_dyn (T,)``: ``log1p`` of the dynamics model's residual, ``dyn_per_sensor
    (T, ns)``: ``log1p(z²)`` of each sensor's innovation there (None without one);
    ``step (T, ns)``: that innovation's ``|z|`` over the sensor's step limit
    (:mod:`normalcy.detector.steps`; None without limits).
    ``stuck``, ``noisy (T, ns)``: already over the window (``r_stuck[s]``,
    ``r_noisy[s]``), the share of repeated readings and of jitter beyond its healthy 95 %
    level of each watched sensor (:mod:`normalcy.detector.readings`; None for a view
    without the readings' limits).
    """

    e: np.ndarray
    per_sensor: np.ndarray
    signed: np.ndarray
    spread: np.ndarray
    static: np.ndarray
    static_spread: np.ndarray
    context: np.ndarray
    plant: np.ndarray
    plant_spread: np.ndarray
    e_dyn: np.ndarray | None = None
    dyn_per_sensor: np.ndarray | None = None
    stuck: np.ndarray | None = None
    noisy: np.ndarray | None = None
    step: np.ndarray | None = None


#: the per-row fields of :class:`RelationSamples` (``stuck`` and ``noisy`` are over windows)
PER_ROW = ("e", "per_sensor", "signed", "spread", "static", "static_spread", "context",
           "plant", "plant_spread", "e_dyn", "dyn_per_sensor", "step")


@dataclass
class Reuse:
    """Values a stream's previous update computed: ``samples`` of its rows, which are this
    update's rows plus ``shift`` (the rows dropped from the front since); a transition
    starting before row ``final`` of this update had all its rows then."""

    samples: RelationSamples
    shift: int
    final: int


def relation_samples(view: Any, scaled: np.ndarray, levels: np.ndarray,
                     rows: np.ndarray, reuse: Reuse | None = None) -> RelationSamples:
    """Score the relations view at ``rows`` and spread the values over all ``T`` rows.

    ``reuse``: the rows before ``reuse.final`` take the values computed before (the same
    numbers: a row's values read only the rows of its transition), and only the others are
    scored - a monitor fed a row at a time scores one transition, not its whole buffer."""
    T, ns = scaled.shape
    def blank() -> np.ndarray:
        return np.full((T, ns), np.nan)

    out = RelationSamples(np.full(T, np.nan), blank(), blank(), blank(), blank(), blank(),
                          np.full((T, ns), -1, dtype=np.int64), blank(), blank())
    if getattr(view, "readings_", None) is not None:  # its columns even without a row
        shares = view.readings_.shares(scaled, rows)
        out.stuck, out.noisy = shares[:, :ns], shares[:, ns:]
    if getattr(view, "steps_", None) is not None:  # so too the steps'
        out.step = blank()
    if rows.size == 0:
        return out
    old = rows[:0]
    if reuse is not None:  # rows scored before (a value at each: not a gap then)
        old = rows[(rows < reuse.final) & (rows + reuse.shift < reuse.samples.e.size)]
        old = old[np.isfinite(reuse.samples.e[old + reuse.shift])]
        rows = np.setdiff1d(rows, old)
    if rows.size:
        _scored(out, view.score(scaled, levels, rows, per_viewpoint=False), rows, T, ns,
                getattr(view, "steps_", None))
        _named(out, getattr(view, "plant_", None), scaled, rows)
    if reuse is not None and old.size:
        for name in PER_ROW:
            before = getattr(reuse.samples, name)
            if before is None:
                continue
            if getattr(out, name) is None:
                setattr(out, name, np.full((T, *before.shape[1:]), np.nan))
            getattr(out, name)[old] = before[old + reuse.shift]
    return out


def _scored(out: RelationSamples, s: Any, rows: np.ndarray, T: int, ns: int,
            lim: Any = None) -> None:
    """Put the view's scores ``s`` of ``rows`` into ``out`` (``lim``: its step limits)."""
    out.e[rows] = np.log1p(s.mean)
    zc = s.signed / s.spread
    zs = s.static / s.static_spread
    out.per_sensor[rows] = np.log1p(0.5 * (zc * zc + zs * zs))
    out.signed[rows], out.spread[rows] = s.signed, s.spread
    out.static[rows], out.static_spread[rows] = s.static, s.static_spread
    out.context[rows] = s.context
    if s.dynamics is not None:
        out.e_dyn = np.full(T, np.nan)
        out.e_dyn[rows] = np.log1p(s.dynamics)
    if s.dynamics_z is not None:
        out.dyn_per_sensor = np.full((T, ns), np.nan)
        out.dyn_per_sensor[rows] = np.log1p(s.dynamics_z * s.dynamics_z)
        if lim is not None and out.step is not None and s.step is not None:
            per = lim.ratios(s.dynamics_z)  # 0 on a row after a step, as its largest
            out.step[rows] = np.where(s.step[:, None] > 0, per, np.where(np.isnan(per),
                                                                         np.nan, 0.0))


def _named(out: RelationSamples, plant: Any, scaled: np.ndarray, rows: np.ndarray) -> None:
    """Each sensor against the plant's relations at ``rows``: ``plant``, its spread and
    ``per_sensor`` (:meth:`normalcy.detector.naming.PlantModel.weighed`; a view without
    them keeps its context's ``log1p((z_c² + z_s²) / 2)``)."""
    if plant is None:
        return
    e, spread = plant.residuals(scaled[rows])
    out.plant[rows], out.plant_spread[rows] = e, spread
    ctx = np.sqrt(np.expm1(out.per_sensor[rows]))
    out.per_sensor[rows] = np.log1p(plant.weighed(e / spread, ctx))


def relation_term(rs: RelationSamples, window: int,
                  reference: dict[str, float]) -> np.ndarray:
    """The relations view's score term per row: ``r_rel / R``, or, where the view
    models the plant's dynamics, the larger of it and ``r_dyn / R_dyn`` over ``J``."""
    return term_of(rs.e, rs.e_dyn, window, reference)


def check_alignment(alignment: str) -> None:
    """A clear error unless ``alignment`` is ``"offline"`` or ``"streaming"``."""
    if alignment not in ("offline", "streaming"):
        raise InputError(
            f"alignment must be 'offline' or 'streaming'. Got {alignment!r} instead.")


def scorable(prep: Any, delta: int, window: int) -> Any:
    """``prep`` if its longest gap-free stretch holds one score, else a clear error."""
    series = prep.series
    need = 2 * delta - 1 + window
    longest = int((series.seg_stop - series.seg_start)[series.segment >= 0].max())
    if longest < need:
        raise InputError(
            f"data is too short to score: its longest gap-free stretch has {longest} "
            f"rows, the model (delta={delta}, window={window}) needs at least {need} "
            "(2*delta - 1 + window) for one score.")
    return prep


def delayed(values: np.ndarray, delta: int) -> np.ndarray:
    """``values`` emitted ``delta`` rows later (the streaming alignment), NaN before."""
    out = np.full(values.shape, np.nan)
    out[delta:] = values[: values.shape[0] - delta]
    return out


def relation_residuals(view: Any, scaled: np.ndarray, levels: np.ndarray,
                       rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``e`` and ``e_dyn`` of :func:`relation_samples` (None: no dynamics model), the
    same numbers, computed without the per-sensor values (what the score and its
    calibration need: at 50 sensors they are most of the scoring time outside the
    Gaussians)."""
    e, e_dyn, _ = _relation_rows(view, scaled, levels, rows)
    return e, e_dyn


def _relation_rows(view: Any, scaled: np.ndarray, levels: np.ndarray,
                   rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`relation_residuals` and, for a view with step limits, each row's largest
    step ratio (the largest of ``step``'s columns in :func:`relation_samples`)."""
    T = len(scaled)
    e, e_dyn, step = np.full(T, np.nan), None, None
    if rows.size:
        s = view.score(scaled, levels, rows, per_viewpoint=False, values=False)
        e[rows] = np.log1p(s.mean)
        if s.dynamics is not None:
            e_dyn = np.full(T, np.nan)
            e_dyn[rows] = np.log1p(s.dynamics)
        if s.step is not None:
            step = np.full(T, np.nan)
            step[rows] = s.step
    return e, e_dyn, step


def relation_score(view: Any, scaled: np.ndarray, levels: np.ndarray, rows: np.ndarray,
                   window: int, reference: dict[str, float]) -> np.ndarray:
    """The relations view's share of the score - :func:`relation_term`, raised by the
    readings' and the steps' terms - from :func:`relation_residuals` (what
    ``score_samples`` computes)."""
    e, e_dyn, step = _relation_rows(view, scaled, levels, rows)
    term = term_of(e, e_dyn, window, reference)
    lim = getattr(view, "readings_", None)
    if lim is not None and "stuck" in reference:
        r = lim.shares(scaled, rows, largest=True)
        term = readings.raised_term(term, np.fmax(r[:, 0] / reference["stuck"],
                                                  r[:, 1] / reference["noisy"]))
    if step is not None and "step" in reference:
        term = readings.raised_term(term, steps.term(steps.windowed(step, window),
                                                     reference["step"]))
    return term


def term_of(e: np.ndarray, e_dyn: np.ndarray | None, window: int,
            reference: dict[str, float]) -> np.ndarray:
    """The relations view's term from the per-row residuals ``e`` and ``e_dyn`` (None:
    no dynamics)."""
    r_dyn = _r_dyn(e_dyn, e.size, window) if "dyn" in reference else None
    return _joint(window_mean(e[:, None], window)[:, 0], r_dyn, reference)


def _joint(r_rel: np.ndarray, r_dyn: np.ndarray | None,
           reference: dict[str, float]) -> np.ndarray:
    """``r_rel / R``, or ``max(r_rel / R, r_dyn / R_dyn) / J`` where the model has a
    dynamics level (a row ``r_dyn`` does not cover keeps ``r_rel / R``)."""
    term = r_rel / reference["rel"]
    if r_dyn is None:
        return term
    return np.fmax(term, r_dyn / reference["dyn"]) / reference.get("joint", 1.0)


def _r_dyn(e_dyn: np.ndarray | None, T: int, window: int) -> np.ndarray:
    """``r_dyn`` per row (NaN where nothing was scored: the column exists whenever the
    model has a dynamics model, so that chunks of a series share their columns)."""
    if e_dyn is None:
        return np.full(T, np.nan)
    return window_mean(e_dyn[:, None], window)[:, 0]


def paper_columns(e: dict[str, np.ndarray], sensors: list[str], window: int,
                  reference: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The paper's score term and its residual columns (SPEC §1.8-1.11)."""
    ns = len(sensors)
    N = window
    stacked = np.concatenate([e["e_trans"], e["e_bound"], e["e_conf"]], axis=1)
    r = window_mean(stacked, N)
    rt, rb, rc = r[:, :ns], r[:, ns: 2 * ns], r[:, 2 * ns:]
    g_t, g_b, g_c = rt.mean(axis=1), rb.mean(axis=1), rc.mean(axis=1)
    score = np.maximum.reduce([g_t * N / reference["trans"], g_b / reference["bound"],
                               g_c / reference["conf"]])
    cols: dict[str, np.ndarray] = {"r_trans": g_t, "r_bound": g_b, "r_conf": g_c}
    for name, block in (("r_trans", rt), ("r_bound", rb), ("r_conf", rc)):
        for j, s in enumerate(sensors):
            cols[f"{name}[{s}]"] = block[:, j]
    return score, cols


def relation_columns(rs: RelationSamples, sensors: list[str], window: int,
                     reference: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The relations view's score term, ``r_rel`` and ``r_rel[s]``, and where the view
    models the plant's dynamics, ``r_dyn`` and ``r_dyn[s]``."""
    r = window_mean(np.concatenate([rs.e[:, None], rs.per_sensor], axis=1), window)
    cols: dict[str, np.ndarray] = {"r_rel": r[:, 0]}
    for j, s in enumerate(sensors):
        cols[f"r_rel[{s}]"] = r[:, 1 + j]
    if "dyn" in reference:
        cols["r_dyn"] = _r_dyn(rs.e_dyn, rs.e.size, window)
        per = (np.full(rs.per_sensor.shape, np.nan) if rs.dyn_per_sensor is None
               else window_mean(rs.dyn_per_sensor, window))
        for j, s in enumerate(sensors):
            cols[f"r_dyn[{s}]"] = per[:, j]
    term = _joint(r[:, 0], cols.get("r_dyn"), reference)
    if "stuck" in reference and rs.stuck is not None and rs.noisy is not None:
        for name, block in (("stuck", rs.stuck), ("noisy", rs.noisy)):  # watched sensors
            cols[f"r_{name}"] = readings.largest(block)
            for j, s in enumerate(sensors):
                cols[f"r_{name}[{s}]"] = block[:, j]
            term = readings.raised_term(term, cols[f"r_{name}"] / reference[name])
    if "step" in reference and rs.step is not None:  # the largest step over the window
        row = np.where(np.isnan(rs.e), np.nan, steps.largest_of(rs.step))  # as the score's
        per = steps.windowed(rs.step, window)
        cols["r_step"] = steps.windowed(row, window)
        for j, s in enumerate(sensors):
            cols[f"r_step[{s}]"] = per[:, j]
        term = readings.raised_term(term, steps.term(cols["r_step"], reference["step"]))
    return term, cols


def residual_frame(index: pd.Index, sensors: list[str], window: int,
                   reference: dict[str, float], e: dict[str, np.ndarray] | None,
                   rs: RelationSamples | None) -> pd.DataFrame:
    """``score`` (the max of the views' terms) then each view's columns, offline
    alignment."""
    terms = []
    cols: dict[str, np.ndarray] = {}
    if e is not None:
        term, more = paper_columns(e, sensors, window, reference)
        terms.append(term)
        cols.update(more)
    if rs is not None:
        term, more = relation_columns(rs, sensors, window, reference)
        terms.append(term)
        cols.update(more)
    score = terms[0] if len(terms) == 1 else np.fmax.reduce(terms)
    if len(terms) > 1:  # a window is scored only where every view is defined
        score = np.where(np.isnan(terms).any(axis=0), np.nan, score)
    # one float block (a frame built column by column costs more than scoring the rows
    # of a streaming update)
    values = np.empty((len(index), 1 + len(cols)))
    values[:, 0] = score
    for j, col in enumerate(cols.values(), 1):
        values[:, j] = col
    return pd.DataFrame(values, index=index, columns=["score", *cols], copy=False)
