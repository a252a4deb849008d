"""How far apart source and target latent codes are: penalties and measures.

The same functions serve as training penalties (mapping transfer, on torch
batches) and as measurements on a fitted model (:func:`latent_discrepancy`), so
a test can check that training with a penalty lowers what is measured.

- **MMD**: squared maximum mean discrepancy with a Gaussian kernel
  ``k(x, y) = exp(-|x - y|^2 / (2 m))``, ``m`` the median squared distance of the
  pooled codes (median heuristic; not differentiated). The bandwidth follows the
  scale of the codes, so shrinking the codes does not lower it.
- **CORAL**: ``|C_s - C_t|_F^2 / (4 d^2)`` between the covariance matrices of the
  two sets of ``d``-dimensional codes (Sun & Saenko, 2016), divided by the square
  of the mean pooled variance so that it, too, ignores the overall scale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from normalcy.data.params import Integral, Interval, StrOptions, validate
from normalcy.deep.training import latent_codes as _network_codes
from normalcy.deep.window_detector import WindowDetector
from normalcy.deep.windows import thin_ends
from normalcy.exceptions import InputError

KINDS = ("mmd", "coral")


def gaussian_mmd2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Biased estimate of the squared MMD between the rows of ``a`` and ``b``.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x, y = torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g)
    >>> bool(gaussian_mmd2(x, y) < gaussian_mmd2(x, y + 2))
    True
    """
    pooled = torch.cat([a, b])
    sq = (pooled**2).sum(dim=1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * pooled @ pooled.T).clamp_min(0.0)
    n = len(pooled)
    off = d2.detach()[~torch.eye(n, dtype=torch.bool, device=d2.device)]
    m = off.median().clamp_min(1e-12) if len(off) else torch.ones((), device=d2.device)
    k = torch.exp(-d2 / (2.0 * m))
    na = len(a)
    return k[:na, :na].mean() + k[na:, na:].mean() - 2.0 * k[:na, na:].mean()


def coral_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Scale-free CORAL distance between the covariances of ``a`` and ``b``.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x, y = torch.randn(500, 3, generator=g), torch.randn(500, 3, generator=g)
    >>> bool(coral_distance(x, y) < coral_distance(x, y * torch.tensor([1.0, 3.0, 0.2])))
    True
    """
    d = a.shape[1]

    def cov(x: torch.Tensor) -> torch.Tensor:
        c = x - x.mean(dim=0, keepdim=True)
        return c.T @ c / len(x)

    scale = torch.cat([a, b]).var(dim=0, unbiased=False).mean().clamp_min(1e-12)
    return ((cov(a) - cov(b)) ** 2).sum() / (4.0 * d * d) / scale**2


PENALTIES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mmd": gaussian_mmd2,
    "coral": coral_distance,
}


_MEASURE_CONSTRAINTS: dict[str, list[Any]] = {
    "domain": [StrOptions({"source", "target"})],
    "max_windows": [Interval(Integral, 2, None, closed="left")],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
}


def _check_measure(model: object, owner: str, **params: Any) -> None:
    """A fitted window detector and the measure's parameters, or an error naming them."""
    if not isinstance(model, WindowDetector):
        raise InputError(f"{owner} measures the latent codes of a window detector "
                         "(WindowAutoencoder or a transfer family); got a "
                         f"{type(model).__name__}.")
    check_is_fitted(model, "network_")
    validate(_MEASURE_CONSTRAINTS, params, owner)


def latent_codes(
    model: WindowDetector, X: object, *, domain: str = "target", max_windows: int = 2000
) -> np.ndarray:
    """Latent codes of the windows of ``X`` (at most ``max_windows``, evenly spread).

    Parameters
    ----------
    model : a fitted WindowAutoencoder or transfer estimator
    X : DataFrame, 2-D array or list of them
    domain : {"target", "source"}
        Which standardisation to use (they differ for ``scaling="per_domain"``).
    max_windows : int

    Returns
    -------
    ndarray of shape (n_windows, latent), in time order.
    """
    _check_measure(model, "latent_codes", domain=domain, max_windows=max_windows)
    windows = model._scoring_windows(X, model._domain_scaler(domain), f"{domain} data")
    keep = thin_ends(np.arange(len(windows)), 1, max_windows)
    device = model._scoring_device()
    return _network_codes(model.network_.to(device), windows.take(keep).windows, device)


def latent_discrepancy(
    model: WindowDetector,
    source: object,
    target: object,
    kind: str = "mmd",
    *,
    max_windows: int = 1000,
) -> float:
    """Measured distance between the latent codes of ``source`` and ``target`` windows.

    Parameters
    ----------
    model : a fitted WindowAutoencoder or transfer estimator
    source, target : data of the two domains (same sensors)
    kind : {"mmd", "coral"}
        :func:`gaussian_mmd2` or :func:`coral_distance`.
    max_windows : int
        Windows used per domain (spread evenly in time).

    Returns
    -------
    float
        Lower = the two domains look more alike to the encoder.
    """
    if kind not in PENALTIES:
        raise InputError(f"kind must be one of {KINDS}. Got {kind!r} instead.")
    _check_measure(model, "latent_discrepancy", max_windows=max_windows)
    zs = latent_codes(model, source, domain="source", max_windows=max_windows)
    zt = latent_codes(model, target, domain="target", max_windows=max_windows)
    value = PENALTIES[kind](torch.from_numpy(zs), torch.from_numpy(zt))
    return float(value)


def latent_domain_accuracy(
    model: WindowDetector,
    source: object,
    target: object,
    *,
    max_windows: int = 2000,
    n_neighbors: int = 5,
) -> float:
    """How well a fresh probe tells source from target by the latent code alone.

    A k-nearest-neighbour classifier is trained on the codes of the first half (in
    time) of each domain's windows and tested on the second half, so that
    overlapping neighbours of a test window are never in the training half.

    Returns
    -------
    float
        Balanced accuracy on the held-out halves: 0.5 = the codes carry no domain
        information, 1.0 = fully separable.
    """
    _check_measure(model, "latent_domain_accuracy", max_windows=max_windows,
                   n_neighbors=n_neighbors)
    zs = latent_codes(model, source, domain="source", max_windows=max_windows)
    zt = latent_codes(model, target, domain="target", max_windows=max_windows)
    hs, ht = len(zs) // 2, len(zt) // 2
    if min(hs, ht, len(zs) - hs, len(zt) - ht) < n_neighbors:
        raise InputError(
            f"too few windows to probe the codes ({len(zs)} source, {len(zt)} target); "
            f"give at least {2 * n_neighbors} windows of each domain."
        )
    train = np.concatenate([zs[:hs], zt[:ht]])
    labels = np.r_[np.zeros(hs), np.ones(ht)]
    scaler = StandardScaler().fit(train)
    probe = KNeighborsClassifier(n_neighbors=n_neighbors).fit(scaler.transform(train), labels)
    acc_s = float((probe.predict(scaler.transform(zs[hs:])) == 0).mean())
    acc_t = float((probe.predict(scaler.transform(zt[ht:])) == 1).mean())
    return 0.5 * (acc_s + acc_t)
