"""The transition detector of Alamir & Dion as a scikit-learn style estimator."""

from __future__ import annotations

from dataclasses import replace
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from normalcy.data.params import Interval, Pair, StrOptions, check_params, series_tags
from normalcy.data.periods import check_index_period, check_training_periods
from normalcy.data.validation import as_model_input, as_series, too_short
from normalcy.detector import calibration, learning, scoring, settings
from normalcy.detector.learned_views import LearnedViews
from normalcy.detector.normality import SensorNormality
from normalcy.detector.parts import MAX_LEVELS, MAX_STEPS, VIEWS, Learned, Prepared
from normalcy.detector.quantizer import fit_edges, quantize
from normalcy.detector.relations import RelationsView
from normalcy.detector.residuals import ScoringTables, contributions
from normalcy.detector.scaling import fit_robust_scale
from normalcy.detector.teaching import teach_rows
from normalcy.exceptions import InputError

Alignment = Literal["offline", "streaming"]

#: fewer healthy rows than this in one stretch cannot describe normal behaviour
MIN_TRAIN_ROWS = 100


class TransitionDetector(LearnedViews, BaseEstimator):  # type: ignore[misc]
    """Model-free, explainable anomaly detector learned from healthy data only.

    Each sensor's signal is quantized into levels; a *transition* is the pair
    (level now, level ``delta`` samples later). For every sensor and every
    transition seen in healthy data the detector keeps the bounds and the
    (correlation-pruned) configurations of the *extended vector* - all sensors
    now plus the sensor's own last ``delta - 1`` values. New data is abnormal
    when it makes unseen transitions, leaves the bounds, or matches no learned
    configuration (SPEC §1). Nothing of the training data is kept.

    Parameters
    ----------
    n_levels : int or "auto", default="auto"
        Quantization levels per sensor (the paper's ``nq``; 20 for Lorenz). "auto"
        derives it from the training length (see :mod:`normalcy.detector.settings`).
    delta : int or "auto", default="auto"
        Transition step ``Δ`` in samples (the paper's 20 for Lorenz). "auto" derives
        it from the signals' autocorrelation.
    eta : float, default=0.95
        Correlation threshold of the correlation remover.
    nu : float, default=1.0
        Exponent of the bound distance.
    window : int or "auto", default="auto"
        Residual window ``N`` in samples (100, the paper's value, unless the
        training series is short).
    bound_quantiles : (float, float) or None, default=None
        None keeps the true min/max as bounds; ``(0.01, 0.99)`` gives robust bounds.
    eps : float, default=0.05
        The ``ε`` of the bound distance, in robust-scaled units (IQR = 1).
    max_configurations : int, None or "auto", default="auto"
        Most configurations kept per transition, the first in time (None: no
        limit). On noisy, many-sensor data the remover keeps nearly every sample
        (20 sensors, 80 000 rows: 1.4 million, a 306 MB model). "auto": the cap that
        holds all of them within 64 MB, at least 16 per transition
        (:func:`~normalcy.detector.learning.configuration_cap`; not binding on the
        paper's Lorenz and ETC).
    calibration_folds : int, default=5
        Contiguous cross-fitting folds for the reference levels ``B`` and ``C``.
    calibration_quantile : float, default=0.95
        Quantile of the held-out window residuals taken as the paper residuals'
        reference levels (held out from models that saw ``(folds-1)/folds`` of the
        data). The relations view's level ``R`` is their 99 % level (SPEC §6;
        :func:`normalcy.detector.learning.calibrate_relations`).
    threshold : float, default=1.0
        Alarm when ``score > threshold``; 1: "less normal than the calibration data".
    view : {"auto", "relations", "paper", "both"}, default="auto"
        What feeds the score (:mod:`normalcy.detector.scoring`): the relations view
        of SPEC §6 (context-conditioned Gaussian statistics per sensor viewpoint,
        shrinkage chosen by held-out likelihood; of the paper's tables it keeps the
        seen transitions only: refit with "paper" or "both" to score those), the
        paper's residuals exactly as SPEC §1 (``r_trans``, ``r_bound``, ``r_conf``),
        or the max of both. "auto" takes the relations view when the history is long
        enough for it and it travels within the history, else the paper's residuals
        (:func:`normalcy.detector.learning.choose_view`; ``normalcy bench views``).
    sample_period : float, None or "auto", default="auto"
        Seconds between samples. Where it is known, the reference levels are set so
        that healthy operation raises fewer than one alarm episode per 10 minutes
        (EEMUA 191) however fast the sampling (:func:`normalcy.detector.calibration.
        timed_quantile`). "auto": the median step of the training frames' time index
        (``DatetimeIndex`` or ``TimedeltaIndex``), else unknown (None).

    Attributes
    ----------
    sensors_ : list of str; n_features_in_, feature_names_in_ (ndarray of str), as scikit-learn.
    n_levels_, delta_, window_ : int, the settings in force.
    center_, scale_ : ndarray (ns,), the robust scaler.
    edges_ : ndarray (ns, n_levels_ - 1), the quantizers' inner edges (scaled).
    normality_ : list of SensorNormality, the normality parameters per sensor.
    reference_ : dict, the reference levels ``trans``, ``bound``, ``conf`` (and ``rel``).
    relations_ : RelationsView or None, the relations view's statistics (SPEC §6).
    view_ : str, the view in force; view_check_ : float or None, the share of later
    windows in alarm in the self-check of ``view="auto"`` (None: not run);
    view_outside_ : dict or None, the sensors that sent it to the paper's residuals.
    sample_period_ : float or None, the sampling period in force (seconds).
    threshold_ : float

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(4000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(1.3 * t)]
    >>> det = TransitionDetector(n_levels=8, delta=10, window=50).fit(X)
    >>> bad = X.copy(); bad[3000:3200, 0] += 1.5
    >>> s = det.score_samples(bad)
    >>> bool(np.nanmax(s[:2900]) < np.nanmax(s[3000:3300]))
    True
    """

    def __init__(
        self,
        *,
        n_levels: int | str = "auto",
        delta: int | str = "auto",
        eta: float = 0.95,
        nu: float = 1.0,
        window: int | str = "auto",
        bound_quantiles: tuple[float, float] | None = None,
        eps: float = 0.05,
        max_configurations: int | str | None = "auto",
        calibration_folds: int = 5,
        calibration_quantile: float = 0.95,
        threshold: float = 1.0,
        view: str = "auto",
        sample_period: float | str | None = "auto",
    ) -> None:
        self.n_levels = n_levels
        self.delta = delta
        self.eta = eta
        self.nu = nu
        self.window = window
        self.bound_quantiles = bound_quantiles
        self.eps = eps
        self.max_configurations = max_configurations
        self.calibration_folds = calibration_folds
        self.calibration_quantile = calibration_quantile
        self.threshold = threshold
        self.view = view
        self.sample_period = sample_period

    # ------------------------------------------------------------------ params
    _parameter_constraints: dict[str, list[Any]] = {
        # at most what a model file may declare (parts.MAX_LEVELS, MAX_STEPS): a fit past
        # them wrote a file load refused as damaged, or failed in numpy's words
        "n_levels": [Interval(Integral, 2, MAX_LEVELS, closed="both"), StrOptions({"auto"})],
        "delta": [Interval(Integral, 1, MAX_STEPS, closed="both"), StrOptions({"auto"})],
        "eta": [Interval(Real, 0, 1, closed="right")],
        "nu": [Interval(Real, 0, None, closed="neither")],
        "window": [Interval(Integral, 1, MAX_STEPS, closed="both"), StrOptions({"auto"})],
        "bound_quantiles": [None, Pair(0, 1)],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "max_configurations": [None, Interval(Integral, 1, None, closed="left"),
                               StrOptions({"auto"})],
        "calibration_folds": [Interval(Integral, 2, None, closed="left")],
        "calibration_quantile": [Interval(Real, 0, 1, closed="right")],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "view": [StrOptions({"auto", *VIEWS})],
        "sample_period": [None, Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }

    def __sklearn_tags__(self) -> Any:
        return series_tags(super().__sklearn_tags__())

    # --------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any = None, *,
            like: TransitionDetector | None = None) -> TransitionDetector:
        """Learn the normality parameters from healthy data.

        Parameters
        ----------
        X : DataFrame, 2-D array, or list of them
            Healthy history, sensors in columns, time in rows. A list holds
            separate runs; rows holding NaN are gaps. No transition or window
            crosses a gap or a run border.
        y : ignored
        like : fitted TransitionDetector, optional
            Reuse its sensors, scaler, quantizers, ``n_levels``, ``delta`` and
            ``window`` instead of deriving them from ``X``, so that the two models
            can be merged (:func:`normalcy.merge`, SPEC §2). See
            :func:`normalcy.operator.fit_like`.

        Returns
        -------
        self

        Notes
        -----
        A plain fit starts no change log; :func:`normalcy.operator.fit` fits and
        records the fit as version 1 of the model's history.
        """
        check_params(self)
        self.sample_period_ = settings.sample_period(self.sample_period, X)
        check_training_periods(X, self.sample_period_, self.sample_period)
        fixed = None  # (edges, n_levels, delta, window) of a reference model
        if like is None:
            series = as_series(X, what="training data")
            center, scale = fit_robust_scale(series.values, series.sensors)
        else:  # a model of another period could not be merged with ``like``
            check_index_period(X, getattr(like, "sample_period_", None), "training data")
            series, center, scale, fixed = learning.like_parts(self, like, X)
        # the series' own copy (as_series concatenates) is scaled in place: one
        # history-sized array fewer; fit reads no raw value after this line
        scaled = series.values
        scaled -= center
        scaled /= scale
        segments = [scaled[a:b] for a, b in series.spans()]  # views
        longest = max(len(s) for s in segments)

        if fixed is not None:
            delta, window = fixed[2], fixed[3]
        else:
            delta = settings.auto_delta(segments) if self.delta == "auto" else int(self.delta)
            longest_tr = max(0, longest - 2 * delta + 1)
            window = (settings.auto_window(longest_tr) if self.window == "auto"
                      else int(self.window))
        rows = np.flatnonzero(series.valid_starts(delta - 1, delta))
        need = 2 * delta - 1 + window
        if longest < max(need + window, MIN_TRAIN_ROWS):
            raise too_short(series, longest, need + window, delta, window, MIN_TRAIN_ROWS)
        if fixed is not None:
            edges, n_levels = fixed[0], fixed[1]
        else:
            nse = len(series.sensors) + delta - 1
            n_levels = settings.auto_levels(rows.size, nse) if self.n_levels == "auto" else int(
                self.n_levels)
            edges = fit_edges(scaled, n_levels)
        levels = quantize(scaled, edges)
        prep = Prepared(series, scaled, levels, rows)
        view, check, dyn, outside = learning.choose_view(self, like, prep, delta=delta,
                                                         n_levels=n_levels, window=window)

        cap = None if view == "relations" else learning.configuration_cap(  # no configurations
            self.max_configurations, levels, rows, delta=delta, n_levels=n_levels)

        def learn_rows(train: np.ndarray) -> list[SensorNormality]:
            return learning.learn(self, scaled, levels, train, delta=delta, n_levels=n_levels,
                                  view=view, cap=cap)

        learned = Learned(
            sensors=series.sensors, center=center, scale=scale, edges=edges,
            n_levels=n_levels, delta=delta, window=window, normality=learn_rows(rows),
            reference={}, threshold=float(self.threshold), view=view, view_check=check,
            view_outside=outside, sample_period=self.sample_period_)
        reference = None
        if view != "relations":  # the paper's residuals feed the score: calibrate them
            reference = learning.calibrate(self, learned, prep, learn_rows)
        if reference is None:  # nothing held out (or not scored): the floors
            reference = calibration.reference_levels(
                calibration.HeldOut.empty(), float(self.calibration_quantile), float(self.eta))
        if view != "paper":
            ref_view = getattr(like, "relations_", None)  # fit(like=...): mergeable views
            rel = RelationsView(dynamics=dyn) if ref_view is None else RelationsView(
                lags=ref_view.lags_.tolist(), granularity=ref_view.granularity_, dynamics=dyn)
            rel.fit(scaled, levels, rows, delta=delta, n_levels=n_levels, window=window)
            reference.update(learning.calibrate_relations(self, prep, rel, delta, window))
            learned = replace(learned, relations=rel)
        self.install(replace(learned, reference=reference))
        return self

    def partial_fit(self, X: Any, y: Any = None) -> TransitionDetector:
        """Teach a batch of new healthy data with the precise update of SPEC §2.

        Every transition of ``X`` afterwards contributes no unseen transition, no
        bound violation and at most ``1 - eta`` configuration residual (see
        :mod:`normalcy.detector.teaching`); the reference levels are kept (there is
        no held-out data to re-estimate them). An unfitted detector is fitted on
        ``X``. :func:`normalcy.operator.partial_fit` does the same and records it
        in the model's history.

        Returns
        -------
        self
        """
        if getattr(self, "normality_", None) is None:
            return self.fit(X)
        return self.revise(**self.taught(X))

    def taught(self, X: Any) -> dict[str, Any]:
        """The learned parts that teaching ``X`` (or :meth:`prepare`'s output) as healthy
        changes, as fields of :class:`Learned`; the detector itself is not changed."""
        prep = X if isinstance(X, Prepared) else self.prepare(X, what="partial_fit data")
        if prep.rows.size == 0:
            d = self.delta_
            raise InputError(f"partial_fit data has no transition: a gap-free stretch of at "
                             f"least {2 * d} rows is needed (delta={d}).")
        out: dict[str, Any] = {"normality": teach_rows(
            self.normality_, prep.scaled, prep.levels, prep.rows, delta=self.delta_,
            n_levels=self.n_levels_, eta=float(self.eta))}
        if self.relations_ is not None:
            out["relations"] = self.relations_.copy().add(prep.scaled, prep.levels, prep.rows)
        return out

    # ------------------------------------------------------------------ kernel
    def install(self, learned: Learned) -> TransitionDetector:
        """Make this detector the fitted model ``learned``; returns ``self``.

        The one place where learned attributes are set and the scoring cache is
        dropped: every fitted detector (from :meth:`fit`, a model file, a
        transfer, an undo) is assembled here.
        """
        self.sensors_ = list(learned.sensors)
        self.n_features_in_ = len(self.sensors_)
        self.feature_names_in_ = np.asarray(self.sensors_, dtype=object)  # scikit-learn's name
        self.center_, self.scale_, self.edges_ = learned.center, learned.scale, learned.edges
        self.n_levels_ = int(learned.n_levels)
        self.delta_ = int(learned.delta)
        self.window_ = int(learned.window)
        self.normality_ = list(learned.normality)
        self.reference_ = dict(learned.reference)
        self.threshold_ = float(learned.threshold)
        self.relations_ = learned.relations
        self.signatures_ = learned.signatures
        self.history_ = learned.history
        self.view_, self.view_check_, self.view_outside_ = learned.view, learned.view_check, \
            learned.view_outside
        self.sample_period_ = learned.sample_period
        self._tables: list[ScoringTables] | None = None
        return self

    @classmethod
    def assemble(cls, params: dict[str, Any], learned: Learned) -> TransitionDetector:
        """A fitted detector with parameters ``params`` and the learned parts ``learned``."""
        return cls(**params).install(learned)

    def learned(self) -> Learned:
        """The learned parts of this fitted detector (arrays shared, not copied)."""
        check_is_fitted(self, "normality_")
        return Learned(
            sensors=list(self.sensors_), center=self.center_, scale=self.scale_,
            edges=self.edges_, n_levels=self.n_levels_, delta=self.delta_,
            window=self.window_, normality=list(self.normality_),
            reference=dict(self.reference_), threshold=self.threshold_,
            relations=getattr(self, "relations_", None),
            signatures=getattr(self, "signatures_", None),
            history=getattr(self, "history_", None), view=self.view_, view_check=self.view_check_,
            view_outside=getattr(self, "view_outside_", None),
            sample_period=getattr(self, "sample_period_", None))

    def revise(self, **changes: Any) -> TransitionDetector:
        """Install the learned parts with ``changes`` (fields of :class:`Learned`)."""
        return self.install(replace(self.learned(), **changes))

    def prepare(self, X: Any, what: str = "data") -> Prepared:
        """Validate ``X`` against the model's sensors, scale and quantize it."""
        check_is_fitted(self, "normality_")
        check_index_period(X, getattr(self, "sample_period_", None), what)
        series = as_model_input(X, self.sensors_, what=what)
        scaled = (series.values - self.center_) / self.scale_
        levels = quantize(scaled, self.edges_)
        rows = np.flatnonzero(series.valid_starts(self.delta_ - 1, self.delta_))
        return Prepared(series, scaled, levels, rows)

    def scoring_tables(self) -> list[ScoringTables]:
        """Per sensor, the lookup tables scoring uses (built once, cached)."""
        tables = getattr(self, "_tables", None)
        if tables is None:
            tables = [ScoringTables.of(s, self.n_levels_**2) for s in self.normality_]
            self._tables = tables
        return tables

    # ----------------------------------------------------------------- scoring
    def contributions(self, X: Any) -> dict[str, np.ndarray]:
        """Per-sample contributions ``e_trans``, ``e_bound``, ``e_conf`` (T, ns).

        Indexed by the transition's start ``t`` (offline alignment); NaN where no
        transition is defined. Also returns ``position`` (-1 unseen, or the seen
        transition's index in ``normality_[i]``). ``X`` may be :meth:`prepare`'s
        output.
        """
        prep = X if isinstance(X, Prepared) else self.prepare(X)
        T, ns = prep.scaled.shape
        rows = prep.rows
        out = {k: np.full((T, ns), np.nan) for k in ("e_trans", "e_bound", "e_conf")}
        out["position"] = np.full((T, ns), -1, dtype=np.int64)
        tables = self.scoring_tables()
        for i in range(ns):
            et, eb, ec, pos = contributions(tables[i], prep.scaled, prep.levels, rows, i,
                                            delta=self.delta_, n_levels=self.n_levels_,
                                            nu=float(self.nu), eps=float(self.eps))
            out["e_trans"][rows, i] = et
            out["e_bound"][rows, i] = eb
            out["e_conf"][rows, i] = ec
            out["position"][rows, i] = pos
        return out

    def residuals(self, X: Any, *, alignment: Alignment = "offline") -> pd.DataFrame:
        """Window residuals and the aggregated score, indexed like ``X``.

        Columns: ``score``, ``r_trans``, ``r_bound``, ``r_conf`` (means over sensors)
        and, per sensor ``s``, ``r_trans[s]``, ``r_bound[s]``, ``r_conf[s]`` (the
        residuals "seen from" ``s``).

        ``alignment="offline"``: the value at row ``t`` covers the transitions that
        *start* at ``t-N+1 .. t`` (they end at ``t+Δ``): the first ``N+Δ-2`` rows of
        a segment and its last ``Δ`` rows have no value. ``alignment="streaming"``:
        the same values, emitted at ``t+Δ`` when the last transition is complete -
        what a live monitor can know at that row. Rows without a value are NaN.

        ========  ==========================  ============================
        row       offline value covers        streaming value covers
        ========  ==========================  ============================
        t         transitions t-N+1 .. t      transitions t-Δ-N+1 .. t-Δ
        ========  ==========================  ============================
        """
        scoring.check_alignment(alignment)
        prep = scoring.scorable(self.prepare(X), self.delta_, self.window_)
        return self.scored_frame(prep, alignment)

    def scored_frame(self, prep: Prepared, alignment: Alignment,
                     rs: scoring.RelationSamples | None = None) -> pd.DataFrame:
        """:meth:`residuals` of prepared data (``rs``: its relation samples, if computed),
        with the columns of taught fault signatures (``score_fault`` raises ``score``)."""
        signatures = getattr(self, "signatures_", None)
        e = self.contributions(prep) if self.view_ != "relations" or (
            signatures and signatures.reads_contributions(self)) else None
        frame = self.normal_frame(prep, e, rs)
        if signatures:  # fault signatures taught by the operator
            normal = frame["score"].to_numpy()
            cols = signatures.columns(self, prep.scaled, prep.levels, prep.rows, e, normal)
            cols.index = frame.index
            frame = frame.copy()
            frame["score"] = np.fmax(normal, cols.pop("score_fault").to_numpy())
            frame = pd.concat([frame, cols], axis=1)
        if alignment == "streaming":  # a transition is complete delta rows later
            shifted = frame.shift(self.delta_)
            if "fault" in frame:
                shifted["fault"] = frame["fault"].shift(self.delta_, fill_value="")
            frame = shifted
        return frame

    def normal_frame(self, prep: Prepared, e: dict[str, np.ndarray] | None = None,
                     rs: scoring.RelationSamples | None = None) -> pd.DataFrame:
        """The score and window residuals of the views in force (no fault signatures),
        offline alignment; ``e``, ``rs``: the views' values per row if computed."""
        if e is None and self.view_ != "relations":
            e = self.contributions(prep)
        if rs is None and self.view_ != "paper":
            rs = self.relation_samples(prep)
        return scoring.residual_frame(prep.series.index, self.sensors_, self.window_,
                                      self.reference_, e if self.view_ != "relations" else None,
                                      rs if self.view_ != "paper" else None)

    def relation_samples(self, prep: Prepared) -> scoring.RelationSamples:
        """The relations view's values per row (see :mod:`normalcy.detector.scoring`)."""
        if self.relations_ is None:
            raise InputError("this model has no relations view (it was fitted with "
                             "view='paper'); refit it with view='relations' or 'both'.")
        return scoring.relation_samples(self.relations_, prep.scaled, prep.levels, prep.rows)

    def score_samples(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """Aggregated anomaly score per row (higher = more anomalous; NaN = undefined).

        ``score = max(r_trans' / A, r_bound / B, r_conf / C)`` where ``r_trans'`` is the
        count of unseen transitions in the window per sensor and ``A``, ``B``, ``C``
        are the reference levels (``reference_``); ``score <= 1`` means "as normal as
        held-out healthy data". See :meth:`residuals` for ``alignment``.
        """
        if getattr(self, "view_", None) != "relations" or getattr(self, "signatures_", None):
            return self.residuals(X, alignment=alignment)["score"].to_numpy()
        scoring.check_alignment(alignment)
        prep = scoring.scorable(self.prepare(X), self.delta_, self.window_)
        assert self.relations_ is not None
        s = scoring.relation_score(self.relations_, prep.scaled, prep.levels, prep.rows,
                                   self.window_, self.reference_)  # residuals' "score"
        return s if alignment == "offline" else scoring.delayed(s, self.delta_)

    def decision_function(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """Alias of :meth:`score_samples` (PyOD convention: higher = more anomalous)."""
        return self.score_samples(X, alignment=alignment)

    def predict(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """1 where the score exceeds ``threshold_``, else 0 (also where undefined)."""
        s = self.score_samples(X, alignment=alignment)
        return (np.nan_to_num(s, nan=-np.inf) > self.threshold_).astype(np.int64)

    # ------------------------------------------------------------- model file
    def _to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The kernel's header and arrays (see :mod:`normalcy.io.models`)."""
        return self.learned().to_file(self.get_params())

    @classmethod
    def _from_file(cls, header: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> TransitionDetector:
        params, learned = Learned.from_file(header, arrays)
        det = cls(**params)
        check_params(det)  # a file's parameters pass the same checks as a user's
        return det.install(learned)
