"""Window baselines through PyOD: LOF, IsolationForest and an AutoEncoder (paper §5.1).

Each row ``t`` is represented by the window of the last ``window`` rows of all
sensors (standardised, flattened to ``window * n_sensors`` numbers); a PyOD
detector learns healthy windows and scores new ones; a window's score goes to
its last row. PyOD (the ``bench`` extra) and, for the AutoEncoder, torch (the
``deep`` extra) are imported only when such a baseline is fitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from normalcy.baselines.base import Baseline, standardise, window_ends
from normalcy.data.params import Integral, Interval, Real, StrOptions
from normalcy.data.validation import Series
from normalcy.exceptions import InputError

__all__ = ["WindowBaseline"]

_DETECTORS = ("lof", "iforest", "autoencoder")
_NAMES = {"lof": "LOF", "iforest": "IsolationForest", "autoencoder": "AutoEncoder"}
_CHUNK = 10_000


def _pyod_detector(kind: str, params: dict[str, Any], random_state: int) -> Any:
    """A PyOD detector with our defaults, overridden by ``params``."""
    try:
        if kind == "lof":
            from pyod.models.lof import LOF

            return LOF(**{"n_neighbors": 20, "contamination": 0.01, **params})
        if kind == "iforest":
            from pyod.models.iforest import IForest

            return IForest(**{"n_estimators": 100, "contamination": 0.01,
                              "random_state": random_state, **params})
        from pyod.models.auto_encoder import AutoEncoder

        return AutoEncoder(**{"contamination": 0.01, "hidden_neuron_list": [64, 32],
                              "epoch_num": 10, "batch_size": 64, "verbose": 0,
                              "random_state": random_state, **params})
    except ImportError as e:
        extra = "normalcy[bench,deep]" if kind == "autoencoder" else "normalcy[bench]"
        raise InputError(
            f"the {_NAMES[kind]} baseline needs PyOD{' and torch' if kind == 'autoencoder' else ''}"
            f" ({e}); install them with: pip install '{extra}'"
        ) from None
    except TypeError as e:
        raise InputError(
            f"detector_params do not suit PyOD's {_NAMES[kind]}: {e}. Check the names "
            "against PyOD's documentation."
        ) from None


class WindowBaseline(Baseline):
    """A PyOD outlier detector on sliding windows of all sensors.

    Parameters
    ----------
    detector : {"lof", "iforest", "autoencoder"}, default="lof"
        PyOD's ``LOF``, ``IForest`` or ``AutoEncoder``.
    window : int, default=100
        Rows per window (the paper's 100).
    stride : int, default=1
        Score every ``stride``-th window of a segment; the rows in between keep the
        last computed score (a causal hold). 1 scores every row.
    train_stride : int, default=10
        Learn from every ``train_stride``-th healthy window (neighbouring windows
        are near copies).
    max_train_windows : int, default=20000
        At most this many learning windows (evenly spread); bounds LOF's cost.
    calibration : float, default=0.2
        Share of the training rows (the last ones) held out to set the threshold.
    threshold_quantile : float, default=0.99
        ``threshold_`` is this quantile of the held-out window scores.
    detector_params : dict or None, default=None
        Keyword arguments for the PyOD constructor, over our defaults
        (LOF ``n_neighbors=20``; IForest ``n_estimators=100``; AutoEncoder
        ``hidden_neuron_list=[64, 32]``, ``epoch_num=10``, ``batch_size=64``).
    random_state : int, RandomState or None, default=0
        Seed of IForest and the AutoEncoder.

    Attributes
    ----------
    sensors_ : list of str
    detector_ : the fitted PyOD detector.
    mean_, std_ : ndarray (ns,), the standardisation.
    threshold_ : float

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(3000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(t)]
    >>> m = WindowBaseline(detector="iforest", window=20).fit(X)
    >>> bad = X.copy(); bad[2000:2100, 1] += 1.0
    >>> s = m.score_samples(bad)
    >>> bool(np.nanmax(s[:1900]) < np.nanmax(s[2000:2100]))
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "detector": [StrOptions(set(_DETECTORS))],
        "window": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "train_stride": [Interval(Integral, 1, None, closed="left")],
        "max_train_windows": [Interval(Integral, 10, None, closed="left")],
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="right")],
        "detector_params": [None, dict],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        detector: str = "lof",
        window: int = 100,
        stride: int = 1,
        train_stride: int = 10,
        max_train_windows: int = 20_000,
        calibration: float = 0.2,
        threshold_quantile: float = 0.99,
        detector_params: dict[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.detector = detector
        self.window = window
        self.stride = stride
        self.train_stride = train_stride
        self.max_train_windows = max_train_windows
        self.calibration = calibration
        self.threshold_quantile = threshold_quantile
        self.detector_params = detector_params
        self.random_state = random_state

    @property
    def name(self) -> str:
        return f"{_NAMES.get(str(self.detector), str(self.detector))} (windows)"

    def _vectors(self, z: np.ndarray, ends: np.ndarray) -> np.ndarray:
        w = int(self.window)
        view = sliding_window_view(z, w, axis=0)  # (T-w+1, ns, w)
        return view[ends - (w - 1)].reshape(ends.size, -1)

    def _window_scores(self, z: np.ndarray, ends: np.ndarray) -> np.ndarray:
        out = np.empty(ends.size)
        for a in range(0, ends.size, _CHUNK):
            sl = slice(a, a + _CHUNK)
            out[sl] = self.detector_.decision_function(self._vectors(z, ends[sl]))
        return out

    def _fit(self, series: Series) -> None:
        w = int(self.window)
        learn, held = self._split(series, w, float(self.calibration))
        self.mean_, self.std_ = standardise(series.values, learn, series.sensors)
        z = (series.values - self.mean_) / self.std_
        rows = learn[:: int(self.train_stride)]
        if rows.size > int(self.max_train_windows):
            pick = np.linspace(0, rows.size - 1, int(self.max_train_windows))
            rows = rows[pick.round().astype(int)]
        det = _pyod_detector(str(self.detector), dict(self.detector_params or {}),
                             int(self.random_state))
        self.detector_ = det.fit(self._vectors(z, rows))
        held = held[:: int(self.stride)]
        scores = self._window_scores(z, held)
        self.threshold_ = float(np.quantile(scores, float(self.threshold_quantile)))

    def _score(self, series: Series) -> np.ndarray:
        w = int(self.window)
        out = np.full(series.n_rows, np.nan)
        ends = window_ends(series, w)
        if ends.size == 0:
            return out
        z = (series.values - self.mean_) / self.std_
        stride = int(self.stride)
        # each valid row takes the score of the last scored window of its segment
        offset = (ends - (series.seg_start[ends] + w - 1)) % stride
        scored = ends[offset == 0]
        raw = np.full(series.n_rows, np.nan)
        raw[scored] = self._window_scores(z, scored)
        out[ends] = raw[ends - offset]
        return out
