"""The parts a fitted detector is made of, and the data it works on.

:class:`Learned` is everything a fit (or a model file, a transfer, an undo)
produces; :meth:`TransitionDetector.install` is the one place that puts it on a
detector. :class:`Prepared` is validated, scaled and quantized input - what
every scoring, explanation and feedback step starts from. The operator layer
hangs its own state on a model (fault signatures, the change log) through the
two opaque fields of :class:`Learned`; the kernel only calls the
:class:`FaultNamer` protocol when scoring and never looks inside the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from normalcy.data.validation import Series
from normalcy.detector.normality import SensorNormality, keeps_bounds
from normalcy.detector.relations import RelationsView


@dataclass(frozen=True)
class Prepared:
    """Input checked against a model: raw series, scaled values, levels and the
    valid transition starts (rows ``t`` with ``t-Δ+1 .. t+Δ`` gap-free)."""

    series: Series
    scaled: np.ndarray
    levels: np.ndarray
    rows: np.ndarray


class FaultNamer(Protocol):
    """What scoring asks of the fault signatures an operator taught (SPEC §2):
    given the detector, prepared data, the contributions and the normal score,
    the columns ``score_fault``, ``r_fault``, ``r_fault[s]`` and ``fault``;
    and whether those columns read the paper view's contributions ``e`` (if not,
    scoring a model whose score does not need them either skips them and passes
    ``e=None``).

    Implemented by :class:`normalcy.operator.signatures.SignatureLibrary`.
    """

    def __bool__(self) -> bool: ...

    def reads_contributions(self, det: Any) -> bool: ...

    def columns(self, det: Any, scaled: np.ndarray, levels: np.ndarray,
                rows: np.ndarray, e: dict[str, np.ndarray] | None,
                normal: np.ndarray) -> pd.DataFrame: ...


#: what feeds the score: SPEC §6's relations view, the paper's residuals, or both
VIEWS = ("relations", "paper", "both")


@dataclass(frozen=True)
class Learned:
    """Everything a fitted :class:`TransitionDetector` learned.

    ``signatures`` and ``history`` belong to the operator layer (fault
    signatures and the change log); the kernel carries them and calls
    ``signatures`` through :class:`FaultNamer` when scoring. ``view`` is the view in
    force (one of :data:`VIEWS`, "auto" resolved); ``view_check`` the share of
    windows the self-check of "auto" put in alarm (None: not run); ``view_outside`` the
    sensors whose later history left the levels of the earlier where that check sent the
    fit to the paper's residuals, with the share of their later rows outside (None
    otherwise); ``sample_period`` the seconds between samples the reference levels were
    set for (None: unknown).
    """

    sensors: list[str]
    center: np.ndarray
    scale: np.ndarray
    edges: np.ndarray
    n_levels: int
    delta: int
    window: int
    normality: list[SensorNormality]
    reference: dict[str, float]
    threshold: float
    relations: RelationsView | None = None
    signatures: FaultNamer | None = None
    history: Any = None
    view: str = "paper"
    view_check: float | None = None
    sample_period: float | None = None
    view_outside: dict[str, float] | None = None

    # ------------------------------------------------------------ model file
    def to_file(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The kernel's JSON header and arrays (the operator state is written by the
        operator layer beside them)."""
        header = {
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
            "sensors": list(self.sensors),
            "n_levels": self.n_levels,
            "delta": self.delta,
            "window": self.window,
            "reference": self.reference,
            "threshold": self.threshold,
            "view": self.view,
            "view_check": self.view_check,
            "sample_period": self.sample_period,
        }
        if self.view_outside is not None:
            header["view_outside"] = dict(self.view_outside)
        arrays: dict[str, np.ndarray] = {
            "center": self.center, "scale": self.scale, "edges": self.edges,
        }
        for i, st in enumerate(self.normality):
            arrays.update(st.to_arrays(f"s{i}"))
        if self.relations is not None:
            header["relations"], more = self.relations.to_file()
            arrays.update(more)
        return header, arrays

    @classmethod
    def from_file(cls, header: dict[str, Any],
                  arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, Any], Learned]:
        """Inverse of :meth:`to_file`: ``(params, learned)``.

        Every field is checked before use - types, ranges, finite values, shapes
        consistent with the header - so that a damaged or crafted file raises
        ``ValueError`` (or ``TypeError``/``KeyError``) saying what is wrong instead of
        loading a detector that silently detects nothing.
        """
        params = dict(_typed(header, "params", dict))
        if params.get("bound_quantiles") is not None:
            params["bound_quantiles"] = tuple(params["bound_quantiles"])
        sensors = _typed(header, "sensors", list)
        if not sensors or not all(isinstance(x, str) and x for x in sensors) or len(
                set(sensors)) != len(sensors):
            raise ValueError("'sensors' must be a non-empty list of distinct names")
        ns = len(sensors)
        n_levels = _int(header, "n_levels", 2, MAX_LEVELS)
        delta = _int(header, "delta", 1, MAX_STEPS)
        window = _int(header, "window", 1, MAX_STEPS)
        reference = _typed(header, "reference", dict)
        for k in ("trans", "bound", "conf"):
            _positive(reference, k)
        if "abnormal" in reference and not (_number(reference, "abnormal") >= 0):
            raise ValueError("reference 'abnormal' must be >= 0")
        threshold = _positive(header, "threshold")
        center = _finite(arrays, "center", (ns,))
        scale = _finite(arrays, "scale", (ns,))
        if not ((scale > 1e-100) & (scale < 1e100)).all() or (np.abs(center) > 1e100).any():
            raise ValueError("'scale' must be > 0 and, like 'center', of a size sensor "
                             "values can have (within 1e-100 .. 1e100)")
        edges = arrays["edges"]
        if edges.shape != (ns, n_levels - 1) or edges.dtype.kind != "f" or np.isnan(
                edges).any() or np.isneginf(edges).any() or (edges[:, 1:] < edges[:, :-1]).any():
            raise ValueError(f"array 'edges' must be ({ns}, {n_levels - 1}) sorted numbers "
                             "(+inf pads a sensor with fewer levels)")
        nse = ns + delta - 1
        normality = []
        for i in range(ns):
            st = SensorNormality.from_arrays(arrays, f"s{i}")
            if st.nse != nse:
                raise ValueError(f"sensor {i}: arrays do not match delta and sensors")
            check_normality(st, n_levels, f"s{i}")
            normality.append(st)
        view = header.get("view", params.get("view"))  # older files: the parameter
        if view not in VIEWS:
            raise ValueError(f"'view' must be one of {list(VIEWS)}, got {view!r}")
        check = header.get("view_check")
        if check is not None and not 0 <= _number(header, "view_check") <= 1:
            raise ValueError("'view_check' must be a share in [0, 1] or null")
        outside = header.get("view_outside")  # older files: not said
        if outside is not None and not (isinstance(outside, dict) and all(
                k in sensors and isinstance(v, (int, float)) and not isinstance(v, bool)
                and 0 <= v <= 1 for k, v in outside.items())):
            raise ValueError("'view_outside' must map sensors of the model to shares in [0, 1]")
        period = header.get("sample_period")  # older files: unknown
        if period is not None and not 0 < _number(header, "sample_period") < 1e9:
            raise ValueError("'sample_period' must be a number of seconds > 0 or null")
        normality = paper_tables(normality, view, "s<i>")
        relations = None
        if "relations" in header:
            relations = RelationsView.from_file(_typed(header, "relations", dict), arrays)
            if (relations.delta_, relations.n_levels_, len(relations.stats_)) != (
                    delta, n_levels, ns):
                raise ValueError("the relations view does not fit the model's delta, "
                                 "n_levels and sensors")
            for k in ("rel", "dyn", "joint") if relations.dyn_ is not None else ("rel",):
                if k not in reference:
                    raise ValueError(f"a model with a relations view needs reference {k!r}")
                _positive(reference, k)
        learned = cls(
            sensors=[str(x) for x in sensors], center=center, scale=scale, edges=edges,
            n_levels=n_levels, delta=delta, window=window, normality=normality,
            reference={k: float(v) for k, v in reference.items()}, threshold=threshold,
            relations=relations, view=str(view),
            view_check=None if check is None else float(check),
            sample_period=None if period is None else float(period),
            view_outside=None if outside is None else {
                str(k): float(v) for k, v in outside.items()},
        )
        has = relations is not None and relations.readings_ is not None
        for k in ("stuck", "noisy"):  # the readings' fixed levels and their limits
            if (k in reference) != has:
                raise ValueError("reference 'stuck' and 'noisy' and the relations view's "
                                 "readings limits come together (one without the other: "
                                 "the file is damaged)")
            if has and _positive(reference, k) > 1:
                raise ValueError(f"reference {k!r} must be a share in (0, 1]")
        if ("step" in reference) != (relations is not None
                                     and getattr(relations, "steps_", None) is not None):
            raise ValueError("reference 'step' and the relations view's step limits come "
                             "together (one without the other: the file is damaged)")
        if "step" in reference and _positive(reference, "step") < 1:
            raise ValueError("reference 'step' must be >= 1 (a step beyond the largest "
                             "healthy one)")
        if (relations is None) != (view == "paper"):
            raise ValueError(f"a model with view={view!r} must hold a relations view "
                             "exactly when its view is not 'paper'")
        return params, learned


#: the largest n_levels, delta and window a model file may declare
MAX_LEVELS = 1000
MAX_STEPS = 10**7


def paper_tables(normality: list[SensorNormality], view: Any,
                 where: str) -> list[SensorNormality]:
    """The normality parameters a model of ``view`` keeps: without bounds and
    configurations for "relations" (a file written before they were left out holds
    them: they are dropped), with them for any other view (``ValueError`` if missing)."""
    if view == "relations":
        return [st.without_bounds() if st.has_bounds else st for st in normality]
    if not keeps_bounds(normality):
        raise ValueError(f"{where}: a model with view={view!r} needs the paper view's bounds "
                         "(arrays lo and hi)")
    return normality


def check_normality(st: SensorNormality, n_levels: int, where: str) -> None:
    """``ValueError`` unless the normality parameters are usable: codes sorted, unique
    and in range; finite bounds with lo <= hi; finite configurations; counts >= 0."""
    c = st.codes
    if c.dtype.kind not in "iu" or c.ndim != 1:
        raise ValueError(f"{where}.codes must be a 1-D integer array")
    if c.size and (c.min() < 0 or c.max() >= n_levels**2 or (np.diff(c) <= 0).any()):
        raise ValueError(f"{where}.codes must be sorted, distinct and in [0, n_levels**2)")
    if not (np.isfinite(st.lo).all() and np.isfinite(st.hi).all()) or (st.lo > st.hi).any():
        raise ValueError(f"{where}: bounds must be finite with lo <= hi")
    if (st.n_conf < 0).any() or (st.counts < 0).any():
        raise ValueError(f"{where}: counts must be >= 0")
    if not np.isfinite(st.kept()[1]).all():
        raise ValueError(f"{where}: configurations must be finite")


def _typed(d: dict[str, Any], key: str, kind: type) -> Any:
    v = d[key]
    if not isinstance(v, kind):
        raise TypeError(f"{key!r} must be a {kind.__name__}, got {type(v).__name__}")
    return v


def _number(d: dict[str, Any], key: str) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ValueError(f"{key!r} must be a finite number, got {v!r}")
    return float(v)


def _positive(d: dict[str, Any], key: str) -> float:
    v = _number(d, key)
    if not v > 0:
        raise ValueError(f"{key!r} must be > 0, got {v!r}")
    return v


def _int(d: dict[str, Any], key: str, lo: int, hi: int) -> int:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{key!r} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _finite(arrays: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = arrays[name]
    if a.shape != shape or a.dtype.kind not in "iuf" or not np.isfinite(a).all():
        raise ValueError(f"array {name!r} must be {shape} finite numbers, got {a.shape} "
                         f"{a.dtype}")
    return a.astype(np.float64)
