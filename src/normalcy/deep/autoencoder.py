"""Window autoencoder: trained on healthy windows, score = reconstruction error."""

from __future__ import annotations

import torch

from normalcy.data.validation import as_series
from normalcy.deep.training import deterministic, train_network
from normalcy.deep.window_detector import WindowDetector
from normalcy.deep.windows import Standardiser, refuse_constant
from normalcy.detector.settings import sample_period


class WindowAutoencoder(WindowDetector):
    """Anomaly detector: an autoencoder of sliding windows trained on healthy data.

    Each sensor is standardised with the mean and standard deviation of the
    training data. Training windows of ``window`` rows (never crossing a gap or the
    border between runs) are taken every ``stride`` rows, and at most
    ``max_windows`` of them, spread evenly over time. The last
    ``validation_fraction`` of them (in time order) is held out: it decides early
    stopping and calibrates the threshold.

    Scores, threshold and predictions are described in
    :mod:`normalcy.deep.window_detector`: ``score_samples(X)[t]`` is the mean
    squared reconstruction error of the window ending at ``t`` (NaN where no full
    window ends), and ``predict`` flags ``score > threshold_`` where
    ``threshold_ = threshold_margin * quantile(validation errors, threshold_quantile)``.

    Parameters
    ----------
    architecture : {"mlp", "cnn", "lstm"}, default="mlp"
        The network (:mod:`normalcy.deep.networks`).
    window : int, default=100
        Rows per window.
    latent : int, default=16
        Size of the latent code.
    hidden : int, default=64
        Width of the hidden layers.
    epochs : int, default=30
        Maximum number of passes over the training windows.
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam learning rate.
    validation_fraction : float in [0, 1), default=0.2
        Share of the (latest) windows held out. With 0 there is no early stopping
        and the threshold is calibrated on the training windows.
    patience : int, default=5
        Epochs without a lower validation error before training stops.
    stride : int, default=1
        Step between training windows.
    max_windows : int, default=10000
        Cap on the number of training + validation windows (spread evenly in time),
        which keeps training fast on long records.
    threshold_quantile : float in [0, 1], default=0.99
    threshold_margin : float > 0, default=1.2
    device : str, default="auto"
        ``"auto"`` uses a CUDA GPU when one is present and the CPU otherwise;
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` force one.
    random_state : int or None, default=0
        Seeds the initial weights and the shuffling. With an int, training on the
        CPU is deterministic (same data, same scores).
    progress : bool, default=False
        Show a progress bar (tqdm) over the epochs.

    Attributes
    ----------
    network_ : WindowNetwork
        The trained torch module.
    sensors_ : list of str
        Sensor names, in column order (``s0, s1, ...`` for arrays).
    n_features_in_ : int
    scaler_mean_, scaler_scale_ : ndarray of shape (n_sensors,)
    threshold_ : float
        Scores above it are alarms.
    validation_scores_ : ndarray
        Errors of the windows the threshold was calibrated on.
    history_ : list of dict
        ``train_loss`` (and ``validation_loss``) per epoch.
    n_epochs_, best_epoch_ : int
        Epochs run; the epoch whose weights were kept.
    window_ : int
        Rows per window: a score is the error of a window, so
        :class:`~normalcy.alarms.AlarmPolicy` (``merge_gap="auto"``) continues an
        episode whose alarm returns within it.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy.deep import WindowAutoencoder
    >>> t = np.arange(600)
    >>> X = np.c_[np.sin(t / 10), np.cos(t / 10)]
    >>> det = WindowAutoencoder(window=20, latent=2, hidden=8, epochs=2, max_windows=300)
    >>> scores = det.fit(X).score_samples(X)
    >>> scores.shape, bool(np.isnan(scores[:19]).all()), bool(np.isfinite(scores[19:]).all())
    ((600,), True, True)
    """

    def __init__(
        self,
        *,
        architecture: str = "mlp",
        window: int = 100,
        latent: int = 16,
        hidden: int = 64,
        epochs: int = 30,
        batch_size: int = 128,
        lr: float = 1e-3,
        validation_fraction: float = 0.2,
        patience: int = 5,
        stride: int = 1,
        max_windows: int = 10_000,
        threshold_quantile: float = 0.99,
        threshold_margin: float = 1.2,
        device: str = "auto",
        random_state: int | None = 0,
        progress: bool = False,
    ) -> None:
        self.architecture = architecture
        self.window = window
        self.latent = latent
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.stride = stride
        self.max_windows = max_windows
        self.threshold_quantile = threshold_quantile
        self.threshold_margin = threshold_margin
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def fit(self, X: object, y: object = None) -> WindowAutoencoder:
        """Train on healthy data ``X``.

        Parameters
        ----------
        X : DataFrame, 2-D array or list of them (separate runs)
            Healthy data: sensors in columns, time in rows; NaN rows are gaps.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        InputError
            ``X`` is unusable (no complete row, non-numeric, too short for the window),
            or a parameter is out of range.
        """
        s = self._settings()
        series = as_series(X, what="training data")
        scaler = Standardiser.fit(series.values)
        needed = 2 if s.validation_fraction > 0 else 1
        windows = self._windows(series, scaler, s, "training data", needed=needed)
        refuse_constant(series.values, series.sensors, "training data")
        train, validation = self._split(windows, s)
        network = self._new_network(s, len(series.sensors))
        generator = torch.Generator().manual_seed(s.seed)
        with deterministic(s.device):
            result = train_network(
                network, train.windows,
                validation=None if validation is None else validation.windows,
                epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, patience=s.patience,
                generator=generator, device=s.device, progress=self.progress,
                description=f"{type(self).__name__} ({s.architecture})",
            )
        calibration = validation if validation is not None else train
        self._finish(network, series, scaler, result, calibration, s, sample_period("auto", X))
        return self
