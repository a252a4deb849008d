"""What every window detector shares: settings, scoring, the threshold, the file.

A window detector standardises each sensor, cuts sliding windows of ``window``
rows and scores a window by the mean squared reconstruction error of a
:class:`~normalcy.deep.networks.WindowNetwork` (standardised units). The score
of a window is assigned to its **last** sample: ``score_samples(X)[t]`` is the
error of the window of rows ``t - window + 1 .. t``, and NaN where no full
gap-free window ends at ``t`` (the first ``window - 1`` rows of every run and
of every stretch after a gap). Higher score = more anomalous.

The alarm threshold is calibrated without labels on healthy windows the network
did not train on (the validation windows):
``threshold_ = threshold_margin * quantile(validation errors, threshold_quantile)``;
``predict`` raises an alarm (1) where ``score > threshold_`` and returns 0 elsewhere,
including where the score is NaN.

:class:`WindowAutoencoder` and the transfer estimators of :mod:`normalcy.transfer`
derive from :class:`WindowDetector`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from normalcy.data.params import Integral, Interval, Real, StrOptions, check_params, series_tags
from normalcy.data.periods import check_index_period
from normalcy.data.validation import Series, as_series, check_width
from normalcy.deep.model_file import (
    checked_network,
    checked_number,
    checked_scaler,
    checked_scores,
    checked_sensors,
)
from normalcy.deep.networks import ARCHITECTURES, WindowNetwork
from normalcy.deep.training import TrainingResult, resolve_device, seeded_network, window_errors
from normalcy.deep.windows import Standardiser, cut_windows, require_windows, thin_ends
from normalcy.exceptions import InputError, ModelFileError

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.utils import Tags

_SCORE_CHUNK = 4096  # windows scored per batch of cutting


@dataclass(frozen=True)
class Settings:
    """The checked common parameters of a window detector, as ``fit`` uses them."""

    architecture: str
    window: int
    latent: int
    hidden: int
    epochs: int
    batch_size: int
    lr: float
    validation_fraction: float
    patience: int
    stride: int
    max_windows: int
    threshold_quantile: float
    threshold_margin: float
    device: torch.device
    seed: int


@dataclass(frozen=True)
class WindowSet:
    """Standardised windows of one data set, in time order, and the rows they end at."""

    windows: torch.Tensor
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ends)

    def take(self, index: np.ndarray) -> WindowSet:
        """The windows at positions ``index``."""
        return WindowSet(self.windows[torch.from_numpy(index)], self.ends[index])


class WindowDetector(BaseEstimator):  # type: ignore[misc]
    """Base class: a network scoring windows by reconstruction error.

    Subclasses define ``__init__`` (keyword-only parameters, stored as given) and
    ``fit``; they call :meth:`_settings`, :meth:`_new_network`, :meth:`_windows`,
    :meth:`_split` and :meth:`_finish` and may add state to the model file with
    :meth:`_extra_to_file` / :meth:`_extra_from_file`.
    """

    architecture: str
    window: int
    latent: int
    hidden: int
    epochs: int
    batch_size: int
    lr: float
    validation_fraction: float
    patience: int
    stride: int
    max_windows: int
    threshold_quantile: float
    threshold_margin: float
    device: str
    random_state: int | None
    progress: bool

    # fitted state (set by _finish)
    network_: WindowNetwork
    sensors_: list[str]
    n_features_in_: int
    scaler_mean_: np.ndarray
    scaler_scale_: np.ndarray
    threshold_: float
    validation_scores_: np.ndarray
    history_: list[dict[str, float]]
    n_epochs_: int
    best_epoch_: int
    sample_period_: float | None
    window_: int

    _parameter_constraints: dict[str, list[Any]] = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "window": [Interval(Integral, 2, None, closed="left")],
        "latent": [Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "max_windows": [Interval(Integral, 2, None, closed="left")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="both")],
        "threshold_margin": [Interval(Real, 0, None, closed="neither")],
        "device": [str],  # its value is checked by resolve_device
        "random_state": [None, Interval(Integral, 0, 2**63 - 1, closed="both")],
        "progress": ["boolean"],
    }

    def __sklearn_tags__(self) -> Tags:
        return series_tags(super().__sklearn_tags__())

    # ----------------------------------------------------------------- fitting
    def _settings(self) -> Settings:
        """Check the parameters (:func:`~normalcy.data.params.check_params`), as fit uses them."""
        check_params(self)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        return Settings(
            architecture=str(self.architecture), window=int(self.window),
            latent=int(self.latent), hidden=int(self.hidden), epochs=int(self.epochs),
            batch_size=int(self.batch_size), lr=float(self.lr),
            validation_fraction=float(self.validation_fraction), patience=int(self.patience),
            stride=int(self.stride), max_windows=int(self.max_windows),
            threshold_quantile=float(self.threshold_quantile),
            threshold_margin=float(self.threshold_margin),
            device=resolve_device(self.device), seed=int(seed),
        )

    def _new_network(self, s: Settings, n_sensors: int) -> WindowNetwork:
        config: dict[str, int | str] = {
            "architecture": s.architecture, "n_sensors": n_sensors, "window": s.window,
            "latent": s.latent, "hidden": s.hidden,
        }
        return seeded_network(config, s.seed).to(s.device)

    @staticmethod
    def _windows(
        series: Series, scaler: Standardiser, s: Settings, what: str, *, needed: int,
        thin: bool = True,
    ) -> WindowSet:
        """Standardised windows of ``series`` (thinned by stride / cap when ``thin``)."""
        ends = require_windows(series, s.window, needed, what)
        if thin:
            ends = thin_ends(ends, s.stride, s.max_windows)
            if len(ends) < needed:
                raise InputError(
                    f"{what} leaves {len(ends)} window(s) with stride={s.stride}, fewer than "
                    f"the {needed} needed; lower 'stride' or give more data."
                )
        windows = cut_windows(scaler.transform(series.values), ends, s.window)
        return WindowSet(torch.from_numpy(windows), ends)

    @staticmethod
    def _split(windows: WindowSet, s: Settings) -> tuple[WindowSet, WindowSet | None]:
        """Split in time order: the last ``validation_fraction`` validates.

        Training windows that overlap the first validation window are dropped (when
        others remain), so that validation rows are never trained on.
        """
        n = len(windows)
        if s.validation_fraction == 0.0 or n < 2:
            return windows, None
        n_val = min(n - 1, max(1, int(round(s.validation_fraction * n))))
        val_idx = np.arange(n - n_val, n)
        first_row = windows.ends[n - n_val] - (s.window - 1)
        train_idx = np.flatnonzero(windows.ends[: n - n_val] < first_row)
        if len(train_idx) == 0:
            train_idx = np.arange(n - n_val)
        return windows.take(train_idx), windows.take(val_idx)

    def _finish(
        self,
        network: WindowNetwork,
        series: Series,
        scaler: Standardiser,
        result: TrainingResult,
        calibration: WindowSet,
        s: Settings,
        period: float | None = None,
    ) -> None:
        """Store the fitted state and calibrate ``threshold_`` on ``calibration``
        (``period``: the training data's sampling period, from its time index)."""
        self.network_ = network
        self.sample_period_ = period
        self.window_ = s.window  # what AlarmPolicy(merge_gap="auto") merges alarms within
        self.sensors_ = list(series.sensors)
        self.n_features_in_ = len(series.sensors)
        self.scaler_mean_ = scaler.mean
        self.scaler_scale_ = scaler.scale
        self.history_ = result.history
        self.n_epochs_ = result.n_epochs
        self.best_epoch_ = result.best_epoch
        errors = window_errors(network, calibration.windows, s.device)
        self.validation_scores_ = errors
        self.threshold_ = float(s.threshold_margin * np.quantile(errors, s.threshold_quantile))

    # ----------------------------------------------------------------- scoring
    def _scoring_series(self, X: object, what: str = "data to score") -> Series:
        check_is_fitted(self, "network_")
        check_width(X, self.sensors_, what=what, owner=type(self).__name__)
        # a window counts rows: data at another period would fill it with other seconds
        check_index_period(X, getattr(self, "sample_period_", None), what)
        return as_series(X, self.sensors_, what=what)

    def _scoring_windows(self, X: object, scaler: Standardiser, what: str) -> WindowSet:
        series = self._scoring_series(X, what)
        window = self._fitted_window
        ends = require_windows(series, window, 1, what)
        windows = cut_windows(scaler.transform(series.values), ends, window)
        return WindowSet(torch.from_numpy(windows), ends)

    def _scoring_device(self) -> torch.device:
        """The device to score on (:func:`resolve_device`); a fitted model's ``device``
        that this machine lacks (a model fitted on a GPU, scored on a CPU) says how to
        score it here."""
        try:
            return resolve_device(self.device)
        except InputError as e:
            raise InputError(f"{e} This model was fitted with device={self.device!r}; to "
                             "score it here, model.set_params(device='auto') (its weights "
                             "stay as they are).") from None

    @property
    def _fitted_window(self) -> int:
        """Rows per window of the fitted network (``window`` set after fit changes nothing
        until the next fit, as every parameter)."""
        return int(self.network_.config["window"])

    @property
    def _scaler(self) -> Standardiser:
        return Standardiser(self.scaler_mean_, self.scaler_scale_)

    def _domain_scaler(self, domain: str) -> Standardiser:
        """The standardisation of ``domain`` ("source" or "target"); one for plain models."""
        return self._scaler

    def score_samples(self, X: object) -> np.ndarray:
        """Anomaly score of each sample: reconstruction error of the window ending there.

        Parameters
        ----------
        X : DataFrame, 2-D array or list of them (separate runs)
            The trained sensors (extra DataFrame columns are ignored).

        Returns
        -------
        ndarray of shape (n_samples,)
            Mean squared reconstruction error (standardised units) of the window of
            ``window`` rows ending at each sample; NaN where no full gap-free window
            ends. Higher = more anomalous.

        Raises
        ------
        InputError
            Missing sensors, wrong number of columns, no complete row, or no stretch
            of ``window`` gap-free rows.
        """
        series = self._scoring_series(X)
        window = self._fitted_window
        ends = require_windows(series, window, 1, "data to score")
        values = self._scaler.transform(series.values)
        device = self._scoring_device()
        network = self.network_.to(device)
        scores = np.full(series.n_rows, np.nan)
        for i in range(0, len(ends), _SCORE_CHUNK):
            chunk = ends[i : i + _SCORE_CHUNK]
            windows = torch.from_numpy(cut_windows(values, chunk, window))
            scores[chunk] = window_errors(network, windows, device)
        return scores

    def decision_function(self, X: object) -> np.ndarray:
        """Alias of :meth:`score_samples` (PyOD naming): higher = more anomalous."""
        return self.score_samples(X)

    def predict(self, X: object) -> np.ndarray:
        """1 where ``score_samples(X) > threshold_`` (an alarm), else 0 (NaN scores: 0)."""
        scores = self.score_samples(X)
        with np.errstate(invalid="ignore"):
            return (scores > self.threshold_).astype(np.int64)

    # ----------------------------------------------------------------- the file
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to ``path`` (JSON header + arrays, no pickle).

        Load it with :func:`normalcy.load`.
        """
        from normalcy.io import save

        check_is_fitted(self, "network_")
        save(self, path)

    def _extra_to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Subclass state for the file: (header entries, arrays)."""
        return {}, {}

    def _extra_from_file(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_extra_to_file` wrote."""

    def _to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        check_is_fitted(self, "network_")
        header: dict[str, Any] = {
            "params": self.get_params(deep=False),
            "network": dict(self.network_.config),
            "sensors": list(self.sensors_),
            "scaler": {"mean": self.scaler_mean_.tolist(), "scale": self.scaler_scale_.tolist()},
            "threshold": self.threshold_,
            "history": self.history_,
            "n_epochs": self.n_epochs_,
            "best_epoch": self.best_epoch_,
            "sample_period": getattr(self, "sample_period_", None),
            "torch_version": torch.__version__,
        }
        arrays = {"validation_scores": self.validation_scores_}
        arrays.update(state_arrays("network.", self.network_))
        extra_header, extra_arrays = self._extra_to_file()
        header.update(extra_header)
        arrays.update(extra_arrays)
        return header, arrays

    @classmethod
    def _from_file(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> WindowDetector:
        params = header["params"]
        if not isinstance(params, dict):
            raise TypeError("'params' must be a dict")
        model = cls(**params)
        check_params(model)  # a file's parameters pass the same checks as a user's
        model.sensors_ = checked_sensors(header)
        model.n_features_in_ = len(model.sensors_)
        network = checked_network(header, model.n_features_in_, arrays, "network.")
        model.window_ = int(network.config["window"])
        load_state_arrays("network.", network, arrays)
        model.network_ = network.eval()
        model.scaler_mean_, model.scaler_scale_ = checked_scaler(
            header, "scaler", model.n_features_in_)
        model.threshold_ = checked_number(header, "threshold")
        model.history_ = list(header["history"])
        model.n_epochs_ = int(header["n_epochs"])
        model.best_epoch_ = int(header["best_epoch"])
        period = header.get("sample_period")  # None: unknown, or a file from before
        model.sample_period_ = None if period is None else checked_number(
            header, "sample_period", low=1e-9)
        model.validation_scores_ = checked_scores(arrays, "validation_scores")
        model._extra_from_file(header, arrays)
        return model


def state_arrays(prefix: str, module: torch.nn.Module) -> dict[str, np.ndarray]:
    """The weights of ``module`` as numpy arrays named ``prefix + name``."""
    return {prefix + k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_state_arrays(prefix: str, module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load the weights written by :func:`state_arrays` into ``module`` (all must match)."""
    state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
             if k.startswith(prefix)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ModelFileError(
            f"the network weights in the file do not fit the network it describes ({e}); "
            "the file is damaged or was edited. Re-create it."
        ) from None
