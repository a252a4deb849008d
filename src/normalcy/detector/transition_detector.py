"""The transition detector of Alamir & Dion as a scikit-learn style estimator."""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from normalcy.data.validation import Series, as_model_input, as_series
from normalcy.detector import calibration, settings
from normalcy.detector.extended import chunks, extended_vectors, transition_codes
from normalcy.detector.normality import SensorNormality, update
from normalcy.detector.quantizer import fit_edges, quantize
from normalcy.detector.residuals import ScoringTables, abnormal_pairs, contributions, window_mean
from normalcy.detector.scaling import fit_robust_scale
from normalcy.exceptions import InputError

Alignment = Literal["offline", "streaming"]

#: fewer healthy rows than this in one stretch cannot describe normal behaviour
MIN_TRAIN_ROWS = 100


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


class TransitionDetector(BaseEstimator):  # type: ignore[misc]
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
        None keeps the true min/max as bounds; e.g. ``(0.01, 0.99)`` gives robust
        bounds.
    eps : float, default=0.05
        The ``ε`` of the bound distance, in robust-scaled units (IQR = 1).
    max_configurations : int or None, default=None
        Most configurations kept per transition (None: no limit). The paper's
        Lorenz transitions keep 1-6; on noisy, many-sensor data the remover keeps
        nearly every sample (extended vectors rarely correlate above ``eta``), and
        the cap bounds the model's size and scoring cost.
    calibration_folds : int, default=5
        Contiguous cross-fitting folds for the reference levels ``B`` and ``C``.
    calibration_quantile : float, default=0.95
        Quantile of the held-out window residuals taken as reference level. The
        held-out residuals come from models that saw ``(folds-1)/folds`` of the
        data, so fresh healthy data exceed the levels less often than
        ``1 - calibration_quantile`` (measured in ``docs/benchmarks.md``).
    threshold : float, default=1.0
        Alarm when ``score > threshold``; 1 means "less normal than the
        calibration data".

    Attributes
    ----------
    sensors_ : list of str
    n_levels_, delta_, window_ : int, the settings in force.
    center_, scale_ : ndarray (ns,), the robust scaler.
    edges_ : ndarray (ns, n_levels_ - 1), the quantizers' inner edges (scaled).
    normality_ : list of SensorNormality, the normality parameters per sensor.
    reference_ : dict, the reference levels ``trans``, ``bound``, ``conf``.
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
        max_configurations: int | None = None,
        calibration_folds: int = 5,
        calibration_quantile: float = 0.95,
        threshold: float = 1.0,
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

    # ------------------------------------------------------------------ params
    def _check_params(self) -> None:
        def bad(name: str, expected: str) -> InputError:
            return InputError(
                f"The {name!r} parameter of TransitionDetector must be {expected}. "
                f"Got {getattr(self, name)!r} instead."
            )

        for name in ("n_levels", "delta", "window"):
            v = getattr(self, name)
            if v == "auto":
                continue
            low = 2 if name == "n_levels" else 1
            if not isinstance(v, Integral) or isinstance(v, bool) or v < low:
                raise bad(name, f"an int >= {low} or 'auto'")
        if not isinstance(self.eta, Real) or not 0.0 < self.eta <= 1.0:
            raise bad("eta", "a float in (0, 1]")
        if not isinstance(self.nu, Real) or not self.nu > 0:
            raise bad("nu", "a float > 0")
        if not isinstance(self.eps, Real) or not self.eps > 0:
            raise bad("eps", "a float > 0")
        mc = self.max_configurations
        if mc is not None and (not isinstance(mc, Integral) or isinstance(mc, bool) or mc < 1):
            raise bad("max_configurations", "None or an int >= 1")
        bq = self.bound_quantiles
        if bq is not None and not (
            len(bq) == 2 and 0.0 <= float(bq[0]) < float(bq[1]) <= 1.0
        ):
            raise bad("bound_quantiles", "None or a pair (low, high) with 0 <= low < high <= 1")
        f = self.calibration_folds
        if not isinstance(f, Integral) or isinstance(f, bool) or f < 2:
            raise bad("calibration_folds", "an int >= 2")
        if not isinstance(self.calibration_quantile, Real) or not (
            0.0 < self.calibration_quantile <= 1.0
        ):
            raise bad("calibration_quantile", "a float in (0, 1]")
        if not isinstance(self.threshold, Real) or not self.threshold > 0:
            raise bad("threshold", "a float > 0")

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
        """
        self._check_params()
        fixed = None  # (edges, n_levels, delta, window) of a reference model
        if like is None:
            series = as_series(X, what="training data")
            center, scale = fit_robust_scale(series.values, series.sensors)
        else:
            series, center, scale, fixed = self._like(like, X)
        values = series.values
        sensors = series.sensors
        scaled = (values - center) / scale
        segments = [scaled[series.segment == s] for s in range(series.segment.max() + 1)]
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
            raise InputError(
                f"training data is too short: its longest gap-free stretch has {longest} rows, "
                f"but delta={delta} and window={window} need at least {need + window} "
                f"(2*delta - 1 + 2*window, and never fewer than {MIN_TRAIN_ROWS}). Give more "
                "healthy rows, or lower delta/window."
            )
        if fixed is not None:
            edges, n_levels = fixed[0], fixed[1]
        else:
            nse = len(sensors) + delta - 1
            n_levels = settings.auto_levels(rows.size, nse) if self.n_levels == "auto" else int(
                self.n_levels)
            edges = fit_edges(scaled, n_levels)
        levels = quantize(scaled, edges)

        self.sensors_ = sensors
        self.n_features_in_ = len(sensors)
        self.center_, self.scale_, self.edges_ = center, scale, edges
        self.n_levels_, self.delta_, self.window_ = n_levels, delta, window
        self.normality_ = self._learn(scaled, levels, rows)
        self._tables: list[ScoringTables] | None = None

        margin = delta + window
        folds = int(min(self.calibration_folds, max(2, rows.size // (4 * window))))
        held = calibration.cross_fit(
            rows,
            folds,
            margin,
            learn=lambda tr: self._learn(scaled, levels, tr),
            held_out_windows=lambda model, block: self._held_out(
                model, scaled, levels, series, block),
        )
        self.reference_ = calibration.reference_levels(
            held, float(self.calibration_quantile), float(self.eta))
        self.threshold_ = float(self.threshold)
        from normalcy.operator.lifecycle import after_fit

        after_fit(self, values)
        return self

    def _like(self, like: Any, X: Any) -> tuple[Series, np.ndarray, np.ndarray,
                                                tuple[np.ndarray, int, int, int]]:
        """Validate ``fit(X, like=...)``: ``X`` read with ``like``'s sensors; its scaler,
        quantizers and settings."""
        if not isinstance(like, TransitionDetector) or getattr(like, "normality_", None) is None:
            raise InputError("like= must be a fitted TransitionDetector (the model whose "
                             f"scaler and quantizers to reuse). Got {type(like).__name__}.")
        clash = [f"{k}={getattr(self, k)!r} (like has {getattr(like, k + '_')})"
                 for k in ("n_levels", "delta", "window")
                 if getattr(self, k) != "auto" and getattr(self, k) != getattr(like, k + "_")]
        if clash:
            raise InputError("fit(like=...) takes n_levels, delta and window from the "
                             f"reference model; these differ: {', '.join(clash)}. Leave them "
                             "'auto' or use normalcy.operator.fit_like.")
        series = as_model_input(X, like.sensors_, what="training data")
        fixed = (like.edges_, int(like.n_levels_), int(like.delta_), int(like.window_))
        return series, like.center_, like.scale_, fixed

    def _learn(self, scaled: np.ndarray, levels: np.ndarray,
               rows: np.ndarray) -> list[SensorNormality]:
        ns = scaled.shape[1]
        delta, nq = self.delta_, self.n_levels_
        nse = ns + delta - 1
        cap = self.max_configurations
        out = []
        for i in range(ns):
            state = SensorNormality.empty(nse)
            codes = transition_codes(levels, rows, i, delta, nq)
            if self.bound_quantiles is not None:
                w = extended_vectors(scaled, rows, i, delta)
                state = update(state, codes, w, float(self.eta),
                               bounds=quantile_boxes(codes, w, self.bound_quantiles),
                               max_configurations=cap)
            else:
                for sl in chunks(rows.size, nse, budget=2e7):
                    w = extended_vectors(scaled, rows[sl], i, delta)
                    state = update(state, codes[sl], w, float(self.eta),
                                   max_configurations=cap)
            out.append(state)
        return out

    def _held_out(self, model: list[SensorNormality], scaled: np.ndarray, levels: np.ndarray,
                  series: Series, block: np.ndarray) -> tuple[np.ndarray, ...]:
        T, ns = scaled.shape
        tables = [ScoringTables.of(s, self.n_levels_**2) for s in model]
        e = np.full((4, T, ns), np.nan)
        for i in range(ns):
            et, eb, ec, _ = contributions(tables[i], scaled, levels, block, i, delta=self.delta_,
                                          n_levels=self.n_levels_, nu=float(self.nu),
                                          eps=float(self.eps))
            e[0, block, i], e[1, block, i], e[2, block, i] = et, eb, ec
            e[3, block, i] = abnormal_pairs({"e_trans": et, "e_bound": eb, "e_conf": ec},
                                            float(self.eta))
        r = window_mean(e.transpose(1, 0, 2).reshape(T, 4 * ns),
                        self.window_).reshape(T, 4, ns).mean(axis=2)
        ok = np.isfinite(r).all(axis=1)
        return r[ok, 0] * self.window_, r[ok, 1], r[ok, 2], r[ok, 3]

    # ----------------------------------------------------------------- scoring
    def _scoring_tables(self) -> list[ScoringTables]:
        tables = getattr(self, "_tables", None)
        if tables is None:
            tables = [ScoringTables.of(s, self.n_levels_**2) for s in self.normality_]
            self._tables = tables
        return tables

    def _prepare(self, X: Any, what: str = "data") -> tuple[Series, np.ndarray, np.ndarray]:
        check_is_fitted(self, "normality_")
        series = as_model_input(X, self.sensors_, what=what)
        scaled = (series.values - self.center_) / self.scale_
        levels = quantize(scaled, self.edges_)
        return series, scaled, levels

    def contributions(self, X: Any) -> dict[str, np.ndarray]:
        """Per-sample contributions ``e_trans``, ``e_bound``, ``e_conf`` (T, ns).

        Indexed by the transition's start ``t`` (offline alignment); NaN where no
        transition is defined. Also returns ``position`` (-1 unseen, or the seen
        transition's index in ``normality_[i]``).
        """
        series, scaled, levels = self._prepare(X)
        return self._contributions(series, scaled, levels)

    def _contributions(self, series: Series, scaled: np.ndarray,
                       levels: np.ndarray) -> dict[str, np.ndarray]:
        T, ns = scaled.shape
        rows = np.flatnonzero(series.valid_starts(self.delta_ - 1, self.delta_))
        out = {k: np.full((T, ns), np.nan) for k in ("e_trans", "e_bound", "e_conf")}
        out["position"] = np.full((T, ns), -1, dtype=np.int64)
        tables = self._scoring_tables()
        for i in range(ns):
            et, eb, ec, pos = contributions(tables[i], scaled, levels, rows, i,
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
        if alignment not in ("offline", "streaming"):
            raise InputError(
                f"alignment must be 'offline' or 'streaming'. Got {alignment!r} instead.")
        series, scaled, levels = self._prepare(X)
        need = 2 * self.delta_ - 1 + self.window_
        longest = int((series.seg_stop - series.seg_start)[series.segment >= 0].max())
        if longest < need:
            raise InputError(
                f"data is too short to score: its longest gap-free stretch has {longest} "
                f"rows, the model (delta={self.delta_}, window={self.window_}) needs at "
                f"least {need} (2*delta - 1 + window) for one score."
            )
        return self._scored_frame(series, scaled, levels, alignment)

    def _scored_frame(self, series: Series, scaled: np.ndarray, levels: np.ndarray,
                      alignment: Alignment) -> pd.DataFrame:
        e = self._contributions(series, scaled, levels)
        frame = self._residual_frame(e, series.index)
        if getattr(self, "signatures_", None):  # fault signatures taught by feedback
            from normalcy.operator.signatures import add_fault_columns

            rows = np.flatnonzero(series.valid_starts(self.delta_ - 1, self.delta_))
            frame = add_fault_columns(self, frame, scaled, levels, rows, e)
        if alignment == "streaming":  # a transition is complete delta rows later
            shifted = frame.shift(self.delta_)
            if "fault" in frame:
                shifted["fault"] = frame["fault"].shift(self.delta_, fill_value="")
            frame = shifted
        return frame

    def _residual_frame(self, e: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
        """Window residuals and the normal score, offline alignment."""
        T, ns = e["e_trans"].shape
        N = self.window_
        stacked = np.concatenate([e["e_trans"], e["e_bound"], e["e_conf"]], axis=1)
        r = window_mean(stacked, N)
        rt, rb, rc = r[:, :ns], r[:, ns: 2 * ns], r[:, 2 * ns:]
        g_t, g_b, g_c = rt.mean(axis=1), rb.mean(axis=1), rc.mean(axis=1)
        ref = self.reference_
        score = np.maximum.reduce([g_t * N / ref["trans"], g_b / ref["bound"], g_c / ref["conf"]])
        cols: dict[str, np.ndarray] = {
            "score": score, "r_trans": g_t, "r_bound": g_b, "r_conf": g_c,
        }
        for name, block in (("r_trans", rt), ("r_bound", rb), ("r_conf", rc)):
            for j, s in enumerate(self.sensors_):
                cols[f"{name}[{s}]"] = block[:, j]
        return pd.DataFrame(cols, index=index)

    def score_samples(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """Aggregated anomaly score per row (higher = more anomalous; NaN = undefined).

        ``score = max(r_trans' / A, r_bound / B, r_conf / C)`` where ``r_trans'`` is the
        count of unseen transitions in the window per sensor and ``A``, ``B``, ``C``
        are the reference levels (``reference_``); ``score <= 1`` means "as normal as
        held-out healthy data". See :meth:`residuals` for ``alignment``.
        """
        return self.residuals(X, alignment=alignment)["score"].to_numpy()

    def decision_function(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """Alias of :meth:`score_samples` (PyOD convention: higher = more anomalous)."""
        return self.score_samples(X, alignment=alignment)

    def predict(self, X: Any, *, alignment: Alignment = "offline") -> np.ndarray:
        """1 where the score exceeds ``threshold_``, else 0 (also where undefined)."""
        s = self.score_samples(X, alignment=alignment)
        return (np.nan_to_num(s, nan=-np.inf) > self.threshold_).astype(np.int64)

    # ---------------------------------------------------------- learned views
    @property
    def transitions_(self) -> dict[str, np.ndarray]:
        """Per sensor, the seen transitions as ``(level now, level later)`` rows."""
        check_is_fitted(self, "normality_")
        nq = self.n_levels_
        return {s: np.c_[st.codes // nq, st.codes % nq]
                for s, st in zip(self.sensors_, self.normality_, strict=True)}

    @property
    def bounds_(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per sensor, ``(lo, hi)`` of shape (n_transitions, nse), scaled units."""
        check_is_fitted(self, "normality_")
        return {s: (st.lo, st.hi) for s, st in zip(self.sensors_, self.normality_, strict=True)}

    @property
    def configurations_(self) -> dict[str, list[np.ndarray]]:
        """Per sensor, the kept configurations of each transition (scaled units)."""
        check_is_fitted(self, "normality_")
        return {s: [st.configurations(k) for k in range(st.codes.size)]
                for s, st in zip(self.sensors_, self.normality_, strict=True)}

    # ---------------------------------------------------------- operator loop
    def feedback(self, X: Any, start: int, end: int, verdict: str, fault: str | None = None,
                 by: str | None = None, note: str | None = None) -> int:
        """Teach the model an operator's verdict on rows ``[start, end)`` of ``X``.

        ``verdict="normal"`` (a false alarm) applies the precise update of SPEC §2 to
        the transitions starting in the range, with no training data: afterwards
        they contribute no unseen transition, no bound violation and at most
        ``1 - eta`` configuration residual. ``verdict="fault"`` stores the range's
        configurations as the signature of ``fault``; later matches score as
        anomalous and carry the name (``residuals()`` gains ``r_fault`` and
        ``fault`` columns). See :mod:`normalcy.operator.feedback`.

        Parameters
        ----------
        X : DataFrame or 2-D array with the model's sensors.
        start, end : int, row positions; transitions starting in ``[start, end)``.
        verdict : "normal" or "fault".
        fault : str, the fault's name (required for "fault").
        by, note : str, who gives the verdict and why (kept in the history).

        Returns
        -------
        int, the model's new version.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(3000) * 0.05
        >>> X = np.c_[np.sin(t), np.cos(1.3 * t)]
        >>> det = TransitionDetector(n_levels=6, delta=8, window=40).fit(X[:2000])
        >>> Y = X[2000:].copy(); Y[400:500, 0] += 1.0
        >>> det.feedback(Y, 400, 500, "normal", by="ana")
        2
        >>> bool(np.nanmax(det.contributions(Y)["e_trans"][400:500]) == 0)
        True
        """
        from normalcy.operator import feedback as fb

        return fb.feedback(self, X, start, end, verdict, fault=fault, by=by, note=note)

    def partial_fit(self, X: Any, y: Any = None, *, by: str | None = None,
                    note: str | None = None) -> TransitionDetector:
        """Teach a batch of new healthy data, as a "normal" feedback over all of it.

        The reference levels (calibration) are not changed: there is no held-out
        data to re-estimate them. Returns ``self``.
        """
        from normalcy.operator import feedback as fb

        check_is_fitted(self, "normality_")
        fb.partial_fit(self, X, by=by, note=note)
        return self

    def history(self) -> pd.DataFrame:
        """The change log: version, time (UTC), action, by, range, verdict, fault, note,
        data hash (sha256 of the raw rows read), and the target of reverts."""
        from normalcy.operator.history import History

        check_is_fitted(self, "normality_")
        h = getattr(self, "history_", None) or History()
        return h.frame()

    def revert(self, version: int, *, by: str | None = None, note: str | None = None) -> int:
        """Bring the model back to the state of ``version`` (logged as a new version).

        The state is rebuilt by replaying the log from its last checkpoint, so its
        scores are bit-identical to those the model gave at ``version``.
        """
        from normalcy.operator import feedback as fb

        check_is_fitted(self, "normality_")
        return fb.revert(self, version, by=by, note=note)

    def undo(self, *, by: str | None = None, note: str | None = None) -> int:
        """Revert the latest change (see :meth:`revert`); returns the new version."""
        from normalcy.operator import feedback as fb

        check_is_fitted(self, "normality_")
        return fb.undo(self, by=by, note=note)

    def explain(self, X: Any, start: int, end: int, top: int = 5, *,
                period: float | None = None) -> Any:
        """Rank what made rows ``[start, end)`` abnormal, in the sensors' own units.

        Returns an :class:`normalcy.operator.explain.Explanation` with ``records``
        (a DataFrame) and ``text``; see :mod:`normalcy.operator.explain`.
        ``period`` (seconds per row) turns ``delta`` into a duration.
        """
        from normalcy.operator.explain import explain

        return explain(self, X, start, end, top=top, period=period)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` atomically (JSON header + arrays, no pickle)."""
        from normalcy.models import save

        check_is_fitted(self, "normality_")
        save(self, path)

    def _to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        header = {
            "params": {k: (list(v) if isinstance(v, tuple) else v)
                       for k, v in self.get_params().items()},
            "sensors": list(self.sensors_),
            "n_levels": self.n_levels_,
            "delta": self.delta_,
            "window": self.window_,
            "reference": self.reference_,
            "threshold": self.threshold_,
        }
        arrays: dict[str, np.ndarray] = {
            "center": self.center_, "scale": self.scale_, "edges": self.edges_,
        }
        for i, st in enumerate(self.normality_):
            arrays.update(st.to_arrays(f"s{i}"))
        from normalcy.operator.lifecycle import operator_to_file

        operator_to_file(self, header, arrays)
        return header, arrays

    @classmethod
    def _from_file(cls, header: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> TransitionDetector:
        params = dict(header["params"])
        if params.get("bound_quantiles") is not None:
            params["bound_quantiles"] = tuple(params["bound_quantiles"])
        det = cls(**params)
        det.sensors_ = [str(s) for s in header["sensors"]]
        det.n_features_in_ = len(det.sensors_)
        det.n_levels_ = int(header["n_levels"])
        det.delta_ = int(header["delta"])
        det.window_ = int(header["window"])
        det.reference_ = {k: float(v) for k, v in header["reference"].items()}
        det.threshold_ = float(header["threshold"])
        det.center_ = arrays["center"]
        det.scale_ = arrays["scale"]
        det.edges_ = arrays["edges"]
        ns = len(det.sensors_)
        nse = ns + det.delta_ - 1
        det.normality_ = []
        for i in range(ns):
            st = SensorNormality.from_arrays(arrays, f"s{i}")
            if st.nse != nse:
                raise ValueError(f"sensor {i}: arrays do not match delta and sensors")
            det.normality_.append(st)
        det._tables = None
        from normalcy.operator.lifecycle import operator_from_file

        operator_from_file(det, header, arrays)
        return det
