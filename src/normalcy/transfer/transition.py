"""Moving a :class:`~normalcy.TransitionDetector` to a new unit (parameter transfer).

None of the survey's four families covers the transition detector: it has no
network to fine-tune and no latent space to align. What it has is a scaler, a
quantizer per sensor and normality parameters written in scaled units and in
*levels*. :class:`TransitionTransfer` moves them to the target unit:

1. fit a detector on the source (plenty of healthy data);
2. re-fit the scaler (median / IQR) and the equal-frequency quantizers on the
   target's healthy data, with the source detector's ``n_levels``, ``delta`` and
   ``window`` (``mapping="quantile"``);
3. map every sensor's values from the source's scaled units to the target's by
   *quantile matching*: a monotone piecewise-linear map ``phi`` through the pairs
   (source quantile ``k / n_levels``, target quantile ``k / n_levels``), extended
   beyond the outer pairs with the slope between them. The pairs are exactly the
   two quantizers' edges, so source level ``k`` lands on target level ``k`` (the
   same relative position in the sensor's distribution); with collapsed levels a
   source level maps to the target level of its median value. The map is the
   identity when the target is an affine transform of the source;
4. carry over what transfers: every seen transition ``(a, b)`` becomes
   ``(L(a), L(b))`` with the level map ``L``; its bounds and configurations are
   mapped component-wise by ``phi`` (the sensor of each component of the extended
   vector); transitions that land on the same code are merged (union of bounds,
   ``R_eta`` of the pooled configurations);
5. ``partial_fit`` on the target's healthy data (the precise update of SPEC §2);
6. calibrate the reference levels ``A, B, C`` on the target (``calibrate="target"``):
   cross-fitting over contiguous folds of the target data as in
   :mod:`normalcy.detector.calibration`, each fold's model being the mapped
   source parameters taught the other folds. A target too short for that (about
   ``2 * (delta + window)`` rows) keeps the source's levels (``reference_origin_``
   says which) and raises the alarm level by one factor instead, set on the moved
   model's scores of the target before step 5 teaches it the target
   (``threshold_factor_``, :func:`untaught_factor`): the scores keep their order.
   A relations-only source (``view="relations"``) has no paper residuals: only the
   relations view's level ``R`` is calibrated, as in its fit.

``mapping="none"`` keeps the source's scaler and quantizers (the plain "source
model + ``partial_fit``" of a user who moves the model as it is). The result is
an ordinary :class:`~normalcy.TransitionDetector` for the target (``detector_``):
it is what :meth:`save` writes and what :func:`normalcy.load` gives back.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from normalcy import operator
from normalcy.data.params import StrOptions, check_params, series_tags
from normalcy.data.periods import check_index_period
from normalcy.data.validation import Series, as_model_input
from normalcy.detector import calibration, learning, settings
from normalcy.detector.normality import SensorNormality, count, merge
from normalcy.detector.parts import Learned, Prepared
from normalcy.detector.quantizer import fit_edges, quantize
from normalcy.detector.relation_stats import RelationStats, moved
from normalcy.detector.relations import RelationsView
from normalcy.detector.scaling import fit_robust_scale
from normalcy.detector.teaching import teach_rows
from normalcy.detector.transition_detector import TransitionDetector
from normalcy.exceptions import InputError
from normalcy.io.models import save

MAPPINGS = ("quantile", "none")
CALIBRATIONS = ("target", "source")


# ------------------------------------------------------------------ value maps
def quantile_knots(source: np.ndarray, target: np.ndarray,
                   n_levels: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sensor, the increasing knot pairs ``(x, y)`` of the quantile map.

    ``x`` are quantiles ``k / n_levels`` (``k = 1 .. n_levels - 1``) of the source's
    scaled values, ``y`` the same quantiles of the target's; pairs where either
    side does not strictly increase (repeated values) are dropped.

    Examples
    --------
    >>> s = np.linspace(0.0, 1.0, 101)[:, None]
    >>> [(x.round(2).tolist(), y.round(2).tolist())
    ...  for x, y in quantile_knots(s, 3 * s + 1, 4)]
    [([0.25, 0.5, 0.75], [1.75, 2.5, 3.25])]
    """
    probs = np.arange(1, n_levels) / n_levels
    xs = np.quantile(source[np.isfinite(source).all(axis=1)], probs, axis=0).T
    ys = np.quantile(target[np.isfinite(target).all(axis=1)], probs, axis=0).T
    out = []
    for x, y in zip(xs, ys, strict=True):
        keep = [0]
        for k in range(1, x.size):
            if x[k] > x[keep[-1]] and y[k] > y[keep[-1]]:
                keep.append(k)
        out.append((x[keep].astype(np.float64), y[keep].astype(np.float64)))
    return out


def map_values(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The monotone map through the knots ``(x, y)``, linear beyond the outer knots.

    Beyond the outer knots the slope is that between them; with a single knot
    the map is the shift that sends it to its pair (slope 1: both sides are
    robust-scaled, IQR = 1).

    Examples
    --------
    >>> map_values(np.array([-1.0, 0.5, 3.0]), np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    array([-1.,  2.,  7.])
    """
    v = np.asarray(values, dtype=np.float64)
    if x.size == 1:
        return v + (y[0] - x[0])
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    out = np.interp(v, x, y)
    out = np.where(v < x[0], y[0] + (v - x[0]) * slope, out)
    return np.where(v > x[-1], y[-1] + (v - x[-1]) * slope, out)


def level_map(source_scaled: np.ndarray, source_levels: np.ndarray,
              knots: list[tuple[np.ndarray, np.ndarray]], target_edges: np.ndarray,
              n_levels: int) -> np.ndarray:
    """``L[i, k]``: the target level of source level ``k`` of sensor ``i``.

    The median source value of each level is mapped by :func:`map_values` and
    quantized with the target's edges; a level the source never used takes the
    target level of the nearest used level below it (or above, for the lowest).
    Non-decreasing in ``k`` because both steps are monotone.
    """
    ns = source_scaled.shape[1]
    out = np.zeros((ns, n_levels), dtype=np.int64)
    for i in range(ns):
        x = source_scaled[:, i]
        lv = source_levels[:, i]
        rep = np.full(n_levels, np.nan)
        for k in range(n_levels):
            hit = x[lv == k]
            if hit.size:
                rep[k] = np.median(hit)
        used = np.flatnonzero(np.isfinite(rep))
        mapped = map_values(rep[used], *knots[i])
        levels = quantize(mapped[:, None], target_edges[i][None, :])[:, 0]
        # fill unused levels from the nearest used one below (above for the lowest)
        pick = np.searchsorted(used, np.arange(n_levels), side="right") - 1
        out[i] = levels[np.clip(pick, 0, used.size - 1)]
    return out


def affine_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares line ``y = a x + b`` through a sensor's quantile knots (slope 1
    through the pair when there is one knot: both sides are robust-scaled)."""
    if x.size < 2 or np.ptp(x) == 0:
        return 1.0, float(y.mean() - x.mean()) if x.size else 0.0
    a, b = np.polyfit(x, y, 1)
    return float(a), float(b)


def move_relations(view: RelationsView, knots: list[tuple[np.ndarray, np.ndarray]],
                   levels: np.ndarray) -> RelationsView:
    """The source's relations statistics carried to the target: each sensor's values
    mapped by the straight line through its quantile knots (:func:`affine_fit`, exact
    for sums and outer products), transitions renamed by the level map."""
    ns = len(knots)
    ab = np.array([affine_fit(*knots[j]) for j in range(ns)])
    L = view.lags_.size
    out = view.copy()

    def move(stats: list[RelationStats]) -> list[RelationStats]:
        return [moved(st, np.r_[ab[:, 0], np.full(L, ab[i, 0])],
                      np.r_[ab[:, 1], np.full(L, ab[i, 1])], levels[i])
                for i, st in enumerate(stats)]

    out.stats_ = move(view.stats_)
    out.set_taught(None if view.taught_blocks_ is None else [move(b) for b in view.taught_blocks_])
    both = (np.r_[ab[:, 0], ab[:, 0]], np.r_[ab[:, 1], ab[:, 1]])  # [x(t), x(t-1)]
    out.dyn_, out.dyn_taught_ = (None if st is None else moved(st, *both, levels[0])
                                 for st in (view.dyn_, view.dyn_taught_))
    out._derive()
    return out


def map_normality(state: SensorNormality, sensor: int,
                  knots: list[tuple[np.ndarray, np.ndarray]], levels: np.ndarray,
                  n_levels: int, eta: float) -> SensorNormality:
    """A sensor viewpoint's normality parameters in the target's levels and units.

    Transition ``(a, b)`` becomes ``(levels[sensor, a], levels[sensor, b])``; each
    component of the bounds and configurations is mapped with its sensor's value
    map (the first ``ns`` components are the sensors at ``t``, the rest are
    ``sensor``'s own past values). Transitions landing on one code are merged.
    """
    ns = len(knots)
    owner = np.r_[np.arange(ns), np.full(state.nse - ns, sensor)]

    def phi(v: np.ndarray) -> np.ndarray:
        out = np.empty_like(v)
        for j in range(state.nse):
            out[..., j] = map_values(v[..., j], *knots[owner[j]])
        return out

    a, b = state.codes // n_levels, state.codes % n_levels
    codes = levels[sensor, a] * n_levels + levels[sensor, b]
    if not state.has_bounds:  # a relations-only model: its transitions and counts
        return count(SensorNormality.empty(state.nse, bounds=False), codes, state.counts)
    conf = phi(np.nan_to_num(state.conf))
    conf[np.isnan(state.conf)] = np.nan
    mapped = SensorNormality(codes, phi(state.lo), phi(state.hi), conf,
                             state.n_conf.copy(), state.counts.copy())
    return merge(SensorNormality.empty(state.nse), mapped, eta)


# -------------------------------------------------------------------- estimator
class TransitionTransfer(BaseEstimator):  # type: ignore[misc]
    """A TransitionDetector learned on a source unit, moved to a target unit.

    See the module docstring for the six steps. ``fit(source, target)`` like the
    survey's families (:class:`normalcy.transfer.TransferEstimator`); scoring is for
    target data and delegates to the moved detector ``detector_``.

    Parameters
    ----------
    detector : TransitionDetector or None, default=None
        Settings of the source detector (cloned, never fitted in place). None:
        ``TransitionDetector()``. The moved detector keeps the source's fitted
        ``n_levels_``, ``delta_`` and ``window_``.
    mapping : {"quantile", "none"}, default="quantile"
        Re-fit scaler and quantizers on the target and map levels and values by
        quantile matching, or keep the source's scaler and quantizers.
    partial_fit : bool, default=True
        Teach the moved detector the target's healthy data.
    calibrate : {"target", "source"}, default="target"
        Reference levels cross-fitted on the target's healthy data, or the source
        detector's. A target too short to cross-fit keeps the source's levels and
        raises the alarm level on its own windows instead (``threshold_factor_``).

    Attributes
    ----------
    source_detector_ : TransitionDetector, fitted on the source.
    detector_ : TransitionDetector, the moved detector (scores the target).
    knots_ : list of (ndarray, ndarray), per sensor the quantile map's knots
        (source scaled units -> target scaled units); identity knots for "none".
    level_map_ : ndarray of shape (n_sensors, n_levels_), source level -> target level.
    reference_origin_ : str, "target" or "source": where ``reference_`` came from.
    reference_ratio_ : dict, per reference level cross-fitted on the target, its value
        over the source detector's (empty when the levels are the source's). Well above
        1: the moved model explains the target's healthy data worse than the source
        model explains its own, so the map is poor - as with too few target rows to
        estimate it (a Lorenz sister unit read with gain 2 and offset 5: ``rel`` 4.3
        with 3 000 target rows, where a detector fitted on those rows alone ranked its
        faults better, AUC 0.82 against 0.55; 1.5 with 10 000, 0.81 with 20 000).
    threshold_factor_ : float, what the alarm level (``detector_.threshold_``) was
        multiplied by: above 1 where the target was too short to cross-fit (about
        ``2 * (delta + window)`` rows) and the moved model's scores on its healthy rows,
        before ``partial_fit`` taught it them, stood above the source's level
        (:func:`untaught_factor`); 1 otherwise. Only the alarm level moves, never the
        scores. ``sister_units`` with 200-300 target rows (3 seeds): all healthy rows
        in alarm at the source's level; raised, 48-75 % with ``mapping="quantile"``
        (a poor map of so few rows: factor 4.2-7.3) and 4-39 % with ``"none"``.
    sensors_, threshold_ : as in ``detector_``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(6000) * 0.05
    >>> source = np.c_[np.sin(t), np.cos(1.3 * t)]
    >>> target = 3.0 * source[:1500] + np.array([10.0, -2.0])   # a bigger sister unit
    >>> settings = TransitionDetector(n_levels=8, delta=10, window=50)
    >>> moved = TransitionTransfer(detector=settings).fit(source, target)
    >>> bool((np.diff(moved.level_map_, axis=1) >= 0).all())
    True
    >>> as_is = settings.fit(source)
    >>> healthy = 3.0 * source[3000:] + np.array([10.0, -2.0])
    >>> float(moved.predict(healthy).mean()) < float(as_is.predict(healthy).mean())
    True
    """

    def __init__(
        self,
        *,
        detector: TransitionDetector | None = None,
        mapping: str = "quantile",
        partial_fit: bool = True,
        calibrate: str = "target",
    ) -> None:
        self.detector = detector
        self.mapping = mapping
        self.partial_fit = partial_fit
        self.calibrate = calibrate

    _parameter_constraints: dict[str, list[Any]] = {
        "detector": [None, TransitionDetector],
        "mapping": [StrOptions(set(MAPPINGS))],
        "partial_fit": ["boolean"],
        "calibrate": [StrOptions(set(CALIBRATIONS))],
    }

    def __sklearn_tags__(self) -> Any:
        return series_tags(super().__sklearn_tags__())

    def fit(self, source: object, target: object, y: object = None) -> TransitionTransfer:
        """Fit on the ``source`` unit's healthy data, move to the ``target`` unit.

        Parameters
        ----------
        source : DataFrame, 2-D array or list of them (separate runs)
            Plenty of healthy data of the source unit.
        target : same, with the source's sensors
            Healthy data of the unit to watch (little of it).
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        InputError
            Bad parameters, unusable data, a target without a single transition
            (fewer than ``2 * delta`` gap-free rows), or a target whose time index has
            another sampling period than the source's (the source's ``delta`` and
            ``window`` count rows: resample the target to the source's period).
        """
        check_params(self)
        template = TransitionDetector() if self.detector is None else self.detector
        return self.fit_from(clone(template).fit(source), source, target)

    def fit_from(self, source_detector: TransitionDetector, source: object,
                 target: object) -> TransitionTransfer:
        """Move an already fitted source detector (skips step 1 of :meth:`fit`).

        ``source`` must be the data ``source_detector`` was fitted on (the quantile
        map reads its distribution); the detector itself is not changed.
        """
        check_params(self)
        check_is_fitted(source_detector, "normality_")
        src_det = source_detector
        sensors = src_det.sensors_
        tgt = as_model_input(target, sensors, what="target data")
        # delta and window count rows: at another period they would mean other durations
        check_index_period(target, getattr(src_det, "sample_period_", None), "target data")
        nq, d = src_det.n_levels_, src_det.delta_
        rows = np.flatnonzero(tgt.valid_starts(d - 1, d))
        if rows.size == 0:
            ok = tgt.segment >= 0
            longest = int((tgt.seg_stop[ok] - tgt.seg_start[ok]).max()) if ok.any() else 0
            raise InputError(
                f"target data is too short: no gap-free stretch of {2 * d} rows (delta={d} "
                f"of the source detector) holds one transition; of its {tgt.n_rows} rows "
                f"the longest gap-free stretch has {longest} (a row holding a NaN is a gap). "
                "Give more target rows, or fill its gaps.")

        if self.mapping == "quantile":
            src = as_model_input(source, sensors, what="source data")
            src_scaled = (src.values - src_det.center_) / src_det.scale_
            center, scale = fit_robust_scale(tgt.values, sensors)
            tgt_scaled = (tgt.values - center) / scale
            edges = fit_edges(tgt_scaled, nq)
            knots = quantile_knots(src_scaled, tgt_scaled, nq)
            levels = level_map(src_scaled, quantize(src_scaled, src_det.edges_), knots, edges,
                               nq)
            normality = [map_normality(st, i, knots, levels, nq, float(src_det.eta))
                         for i, st in enumerate(src_det.normality_)]
        else:
            center, scale, edges = src_det.center_, src_det.scale_, src_det.edges_
            knots = [(np.zeros(1), np.zeros(1)) for _ in sensors]
            levels = np.tile(np.arange(nq), (len(sensors), 1))
            normality = list(src_det.normality_)

        relations = src_det.relations_
        if relations is not None and self.mapping == "quantile":
            relations = move_relations(relations, knots, levels)
        learned = Learned(
            sensors=list(sensors), center=center, scale=scale, edges=edges, n_levels=nq,
            delta=d, window=src_det.window_, normality=normality,
            reference=dict(src_det.reference_), threshold=float(src_det.threshold_),
            relations=relations, view=src_det.view_, view_check=src_det.view_check_,
            sample_period=_period(target, src_det))
        det = TransitionDetector.assemble(src_det.get_params(), learned)
        origin, ratio, factor = "source", {}, 1.0
        if self.calibrate == "target":
            found = self._target_reference(det, tgt, rows)
            if found is None:  # too short to cross-fit: the alarm level on its own windows
                factor = untaught_factor(det, target)
                det.revise(threshold=float(det.threshold_) * factor)
            if found is not None:
                det.revise(reference=found)
                origin = "target"
                ratio = {k: float(v) / float(src_det.reference_[k]) for k, v in found.items()
                         if src_det.reference_.get(k, 0) > 0}
        operator.versions.record_fit(det, target, note=None if factor == 1.0 else (
            f"transfer: {tgt.n_rows} target rows are too few to cross-fit the reference "
            f"levels; the alarm level is raised {factor:.3g} times, to where the moved model "
            "scored them before it learned them"))
        if self.partial_fit:
            operator.partial_fit(det, target, note="transfer: the target unit's healthy data")

        self.source_detector_ = src_det
        self.detector_ = det
        self.knots_ = knots
        self.level_map_ = levels
        self.reference_origin_ = origin
        self.reference_ratio_ = ratio
        self.threshold_factor_ = factor
        self.sensors_ = list(sensors)
        self.n_features_in_ = len(sensors)
        return self

    def _target_reference(self, det: TransitionDetector, tgt: Series,
                          rows: np.ndarray) -> dict[str, float] | None:
        """Reference levels cross-fitted on the target (None: too short to hold out)."""
        scaled = (tgt.values - det.center_) / det.scale_
        prep = Prepared(tgt, scaled, quantize(scaled, det.edges_), rows)
        mapped = list(det.normality_)

        def learn(train: np.ndarray) -> list[SensorNormality]:
            if not self.partial_fit:
                return mapped
            return teach_rows(mapped, prep.scaled, prep.levels, train, delta=det.delta_,
                              n_levels=det.n_levels_, eta=float(det.eta))

        if det.view_ == "relations":  # no paper residuals to calibrate: R alone, as in fit
            folds = calibration.n_folds(det.calibration_folds, rows.size, det.window_)
            found = dict(det.reference_) if calibration.holds_out_window(
                rows, folds, det.delta_ + det.window_, det.window_) else None
        else:
            found = learning.calibrate(det, det.learned(), prep, learn)
        if found is not None and det.relations_ is not None:
            view = det.relations_
            if self.partial_fit:  # held out from the target statistics partial_fit adds
                view = view.copy().add(prep.scaled, prep.levels, rows)
            found.update(learning.calibrate_relations(det, prep, view, det.delta_,
                                                      det.window_, held_out=self.partial_fit))
            if getattr(det.relations_, "steps_", None) is None:  # calibrated on a copy: a
                found.pop("step", None)  # model without step limits keeps none
        return found

    # ------------------------------------------------------------ scoring
    @property
    def threshold_(self) -> float:
        """The moved detector's alarm threshold."""
        check_is_fitted(self, "detector_")
        return float(self.detector_.threshold_)

    def residuals(self, X: Any, *, alignment: str = "offline") -> pd.DataFrame:
        """The moved detector's residuals (see :meth:`TransitionDetector.residuals`)."""
        check_is_fitted(self, "detector_")
        return self.detector_.residuals(X, alignment=alignment)  # type: ignore[arg-type]

    def score_samples(self, X: Any, *, alignment: str = "offline") -> np.ndarray:
        """Anomaly score per target row (higher = more anomalous; NaN = undefined)."""
        check_is_fitted(self, "detector_")
        return self.detector_.score_samples(X, alignment=alignment)  # type: ignore[arg-type]

    def decision_function(self, X: Any, *, alignment: str = "offline") -> np.ndarray:
        """Alias of :meth:`score_samples`."""
        return self.score_samples(X, alignment=alignment)

    def predict(self, X: Any, *, alignment: str = "offline") -> np.ndarray:
        """1 where the moved detector's score exceeds its threshold, else 0."""
        check_is_fitted(self, "detector_")
        return self.detector_.predict(X, alignment=alignment)  # type: ignore[arg-type]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the moved detector (a plain TransitionDetector file) atomically. Its
        sampling period travels as the detector's own (``sample_period``), which the
        commands' period checks read (:func:`normalcy.io.models.header_period`)."""
        check_is_fitted(self, "detector_")
        save(self.detector_, path)


def untaught_factor(det: TransitionDetector, target: object) -> float:
    """How far to raise the alarm level of a target too short to cross-fit: to the
    moved model's scores on the target before ``partial_fit`` teaches it (so held out),
    at the relations view's quantile (:data:`~normalcy.detector.learning.REL_QUANTILE`,
    :func:`~normalcy.detector.calibration.timed_quantile`), then EEMUA 191's budget
    (:func:`~normalcy.detector.calibration.episode_level`). Never below 1: a few hundred
    rows do not make the source's levels stricter; 1 without a window to score."""
    series = det.prepare(target, what="target data").series
    if int((series.seg_stop - series.seg_start)[series.segment >= 0].max(initial=0)) < (
            2 * det.delta_ - 1 + det.window_):
        return 1.0
    scores = np.asarray(det.score_samples(target), dtype=float)
    s = scores[np.isfinite(scores)]
    period = getattr(det, "sample_period_", None)
    q = calibration.timed_quantile(learning.REL_QUANTILE, det.window_, period)
    factor = max(1.0, float(np.quantile(s, q)) if s.size else 1.0)
    if period is not None:
        factor *= calibration.episode_level([scores / factor], float(period), det.window_)
    return factor


def _period(target: object, source: TransitionDetector) -> float | None:
    """The moved detector's sampling period: the target's time index's (the source
    detector's, to the tolerance of :func:`~normalcy.data.periods.check_index_period`:
    :meth:`TransitionTransfer.fit_from` refuses another), else the source detector's."""
    own = settings.sample_period("auto", target)
    return own if own is not None else getattr(source, "sample_period_", None)
