"""What the four transfer families share: ``fit(source, target)`` and target scoring.

``source`` is plenty of healthy data of another machine or operating regime,
``target`` a little healthy data of the machine to watch; both hold the same
sensors. A family trains one :class:`~normalcy.deep.networks.WindowNetwork` with
the shared loop of :mod:`normalcy.deep.training`, differing only in what it
trains on and which hook it adds. Early stopping and the alarm threshold use
only target data: the last ``validation_fraction`` of the target windows (time
order) is held out of training, validates each epoch and calibrates
``threshold_`` (see :mod:`normalcy.deep.window_detector`). Scoring
(``score_samples``, ``predict``) is for target data.

Scaling (``scaling``): ``"target"`` standardises both domains with the mean and
standard deviation of the target data, so that source windows are compared with
target windows in the target's units (the domain shift stays visible);
``"per_domain"`` standardises each domain with its own statistics, which removes
offset and gain differences between machines before any transfer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from normalcy.data.params import StrOptions
from normalcy.data.periods import check_index_period
from normalcy.data.timeaxis import duration
from normalcy.data.validation import as_series, check_width
from normalcy.deep.model_file import checked_scaler
from normalcy.deep.networks import WindowNetwork
from normalcy.deep.training import TrainingHook, TrainingResult, deterministic
from normalcy.deep.window_detector import Settings, WindowDetector, WindowSet
from normalcy.deep.windows import Standardiser, refuse_constant
from normalcy.detector.settings import sample_period
from normalcy.exceptions import InputError

SCALINGS = ("target", "per_domain")


class TargetHook(TrainingHook):
    """Adds the reconstruction error of a random target batch at every step.

    Subclasses add an alignment term between the latent codes of the source batch
    and of the target batch with :meth:`alignment`. Target batches are drawn with
    replacement (the target is small) from ``generator``, so training stays
    deterministic.
    """

    def __init__(
        self, target: torch.Tensor, generator: torch.Generator, device: torch.device
    ) -> None:
        self.target = target
        self.generator = generator
        self.device = device

    def alignment(
        self, source_code: torch.Tensor, target_code: torch.Tensor, progress: float
    ) -> torch.Tensor | None:
        """Loss term aligning the two batches of codes (none by default)."""
        return None

    def extra_loss(
        self, network: WindowNetwork, code: torch.Tensor, progress: float
    ) -> torch.Tensor | None:
        idx = torch.randint(len(self.target), (len(code),), generator=self.generator)
        xt = self.target[idx].to(self.device)
        recon, target_code = network(xt)
        loss = ((recon - xt) ** 2).mean()
        term = self.alignment(code, target_code, progress)
        return loss if term is None else loss + term


def check_domain_periods(source: object, target: object) -> None:
    """InputError when the time indexes of ``source`` and ``target`` have other sampling
    periods (:func:`normalcy.data.periods.check_index_period`'s tolerance): a window
    counts rows, so at two periods its source and target windows would span other
    durations."""
    source_period = sample_period("auto", source)
    try:
        check_index_period(target, source_period, "target data")
    except InputError:
        target_period = sample_period("auto", target)
        raise InputError(
            f"the target data is sampled every {duration(target_period or 0.0)} and the "
            f"source data every {duration(source_period or 0.0)} (the median steps of their "
            "time indexes): a window counts rows, so its source and target windows would "
            "span other durations. Resample the target to the source's period (target."
            f"resample('{source_period:g}s').mean().interpolate()), or the source to the "
            "target's.") from None


class TransferEstimator(WindowDetector):
    """Base class of the transfer families: ``fit(source, target)``, target scoring.

    Subclasses store their parameters in ``__init__``, add the constraints of
    their own ones to ``_parameter_constraints`` and train in :meth:`_train`.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **WindowDetector._parameter_constraints,
        "scaling": [StrOptions(set(SCALINGS))],
    }

    scaling: str
    source_scaler_mean_: np.ndarray
    source_scaler_scale_: np.ndarray

    def _train(
        self,
        network: WindowNetwork,
        source: WindowSet,
        target: WindowSet,
        validation: WindowSet | None,
        s: Settings,
        generator: torch.Generator,
    ) -> TrainingResult:
        raise NotImplementedError

    def fit(self, source: object, target: object, y: object = None) -> TransferEstimator:
        """Train with plenty of healthy ``source`` data and a little healthy ``target`` data.

        Parameters
        ----------
        source : DataFrame, 2-D array or list of them (separate runs)
            Healthy data of another machine or regime.
        target : same, with the same sensors
            Healthy data of the machine to watch; it alone validates and calibrates
            the threshold.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        InputError
            Unusable data: different sensors, no complete row, too short for the window
            (the target needs at least two windows when ``validation_fraction > 0``),
            source and target time indexes of other sampling periods (a window counts
            rows: resample one to the other's period), or a parameter is out of range.
        """
        s = self._settings()
        src = as_series(source, what="source data")
        try:
            check_width(target, src.sensors, what="target data", owner=type(self).__name__)
        except InputError:  # said of a fitted model; here the fit is in progress
            runs: list[Any] = list(target) if isinstance(target, (list, tuple)) else [target]
            width = next(np.shape(r)[1] for r in runs
                         if np.ndim(r) == 2 and np.shape(r)[1] != len(src.sensors))
            raise InputError(
                f"the target data has {width} columns but the source data has "
                f"{len(src.sensors)} sensors {src.sensors}: give both domains the same "
                "sensors in the same order (DataFrames with the sensors' names are "
                "safest).") from None
        tgt = as_series(target, src.sensors, what="target data")
        check_domain_periods(source, target)
        target_scaler = Standardiser.fit(tgt.values)
        source_scaler = (
            target_scaler if self.scaling == "target" else Standardiser.fit(src.values)
        )
        source_windows = self._windows(src, source_scaler, s, "source data", needed=2)
        needed = 2 if s.validation_fraction > 0 else 1
        target_windows = self._windows(tgt, target_scaler, s, "target data", needed=needed)
        refuse_constant(src.values, src.sensors, "source data")
        refuse_constant(tgt.values, tgt.sensors, "target data")
        target_train, validation = self._split(target_windows, s)
        network = self._new_network(s, len(src.sensors))
        generator = torch.Generator().manual_seed(s.seed)
        with deterministic(s.device):
            result = self._train(network, source_windows, target_train, validation, s, generator)
        self.source_scaler_mean_ = source_scaler.mean
        self.source_scaler_scale_ = source_scaler.scale
        calibration = validation if validation is not None else target_train
        period = sample_period("auto", target)  # the source's where the target has none
        self._finish(network, tgt, target_scaler, result, calibration, s,
                     period if period is not None else sample_period("auto", source))
        return self

    def _domain_scaler(self, domain: str) -> Standardiser:
        if domain == "source":
            return Standardiser(self.source_scaler_mean_, self.source_scaler_scale_)
        return self._scaler

    def _extra_to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        header = {"source_scaler": {"mean": self.source_scaler_mean_.tolist(),
                                    "scale": self.source_scaler_scale_.tolist()}}
        return header, {}

    def _extra_from_file(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.source_scaler_mean_, self.source_scaler_scale_ = checked_scaler(
            header, "source_scaler", self.n_features_in_)
