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

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from normalcy.data.validation import Series
from normalcy.detector.normality import SensorNormality


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
    the columns ``score_fault``, ``r_fault``, ``r_fault[s]`` and ``fault``.

    Implemented by :class:`normalcy.operator.signatures.SignatureLibrary`.
    """

    def __bool__(self) -> bool: ...

    def columns(self, det: Any, scaled: np.ndarray, levels: np.ndarray,
                rows: np.ndarray, e: dict[str, np.ndarray],
                normal: np.ndarray) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Learned:
    """Everything a fitted :class:`TransitionDetector` learned.

    ``signatures`` and ``history`` belong to the operator layer (fault
    signatures and the change log); the kernel carries them and calls
    ``signatures`` through :class:`FaultNamer` when scoring.
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
    signatures: FaultNamer | None = None
    history: Any = None

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
        }
        arrays: dict[str, np.ndarray] = {
            "center": self.center, "scale": self.scale, "edges": self.edges,
        }
        for i, st in enumerate(self.normality):
            arrays.update(st.to_arrays(f"s{i}"))
        return header, arrays

    @classmethod
    def from_file(cls, header: dict[str, Any],
                  arrays: dict[str, np.ndarray]) -> tuple[dict[str, Any], Learned]:
        """Inverse of :meth:`to_file`: ``(params, learned)``; ``ValueError`` on
        arrays that do not fit the header."""
        params = dict(header["params"])
        if params.get("bound_quantiles") is not None:
            params["bound_quantiles"] = tuple(params["bound_quantiles"])
        sensors = [str(s) for s in header["sensors"]]
        delta = int(header["delta"])
        nse = len(sensors) + delta - 1
        normality = []
        for i in range(len(sensors)):
            st = SensorNormality.from_arrays(arrays, f"s{i}")
            if st.nse != nse:
                raise ValueError(f"sensor {i}: arrays do not match delta and sensors")
            normality.append(st)
        learned = cls(
            sensors=sensors, center=arrays["center"], scale=arrays["scale"],
            edges=arrays["edges"], n_levels=int(header["n_levels"]), delta=delta,
            window=int(header["window"]), normality=normality,
            reference={k: float(v) for k, v in header["reference"].items()},
            threshold=float(header["threshold"]),
        )
        return params, learned
