"""Checks of a window detector's model file before anything is built from it.

A damaged or crafted file must not load as a detector that silently detects
nothing (a zero or NaN scale, a NaN threshold, NaN weights), that scores with a
standardisation of another width (numpy broadcasts one mean over every sensor),
that fails at scoring with torch's words (a window that is not the network's), or
that asks torch for terabytes. Each check raises ``ValueError`` or ``TypeError``
saying what is wrong; :func:`normalcy.load` reports it as a damaged model file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from normalcy.deep.networks import ARCHITECTURES, WindowNetwork

#: the largest number of weights a model file may declare (a network of 100 sensors,
#: a window of 1000 rows and 1000 hidden units has 2e8)
MAX_WEIGHTS = 10**9


def checked_sensors(header: Mapping[str, Any]) -> list[str]:
    """The file's sensor names: a non-empty list of distinct non-empty strings."""
    sensors = header["sensors"]
    if not isinstance(sensors, list) or not sensors or not all(
            isinstance(s, str) and s for s in sensors) or len(set(sensors)) != len(sensors):
        raise ValueError("'sensors' must be a non-empty list of distinct names")
    return sensors


def checked_scaler(header: Mapping[str, Any], key: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``header[key]``'s mean and scale: ``n`` finite numbers each, scales > 0."""
    entry = header[key]
    if not isinstance(entry, dict):
        raise TypeError(f"{key!r} must be a dict of 'mean' and 'scale'")
    mean = np.asarray(entry["mean"], dtype=np.float64)
    scale = np.asarray(entry["scale"], dtype=np.float64)
    if mean.shape != (n,) or scale.shape != (n,):
        raise ValueError(f"{key!r} must hold a mean and a scale per sensor ({n} each), "
                         f"not {mean.shape} and {scale.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"{key!r} must hold finite means and scales > 0")
    return mean, scale


def checked_number(header: Mapping[str, Any], key: str, low: float = 0.0) -> float:
    """``header[key]`` as a finite number >= ``low``."""
    v = header[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < low:
        raise ValueError(f"{key!r} must be a finite number >= {low:g}, got {v!r}")
    return float(v)


def checked_network(header: Mapping[str, Any], n_sensors: int,
                    arrays: Mapping[str, np.ndarray], prefix: str) -> WindowNetwork:
    """The network the file describes, its shapes checked against the sensors and the
    weights (on torch's meta device: nothing allocated) before it is built."""
    config = header["network"]
    if not isinstance(config, dict):
        raise TypeError("'network' must be a dict")
    if config.get("architecture") not in ARCHITECTURES:
        raise ValueError(f"'network' architecture must be one of {list(ARCHITECTURES)}, "
                         f"got {config.get('architecture')!r}")
    for key, low in (("window", 2), ("latent", 1), ("hidden", 1)):
        v = config.get(key)  # the parameters may differ: set after fit, for the next one
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"the network's {key} must be an int >= {low}, got {v!r}")
    if config.get("n_sensors") != n_sensors:
        raise ValueError(f"the network has {config.get('n_sensors')!r} sensors, the model "
                         f"{n_sensors}")
    shape = (str(config["architecture"]), n_sensors, int(config["window"]),
             int(config["latent"]), int(config["hidden"]))
    with torch.device("meta"):
        expected = WindowNetwork(*shape).state_dict()
    if sum(t.numel() for t in expected.values()) > MAX_WEIGHTS:
        raise ValueError(f"the network would hold more than {MAX_WEIGHTS:.0e} weights")
    for name, t in expected.items():
        a = arrays[prefix + name]
        if a.shape != tuple(t.shape) or a.dtype.kind != "f" or not np.isfinite(a).all():
            raise ValueError(f"weights {prefix + name!r} must be finite numbers of shape "
                             f"{tuple(t.shape)}")
    return WindowNetwork(*shape)


def checked_scores(arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    """``arrays[key]``: a non-empty 1-D array of finite numbers."""
    a = np.asarray(arrays[key])
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "fiu" or not np.isfinite(a).all():
        raise ValueError(f"array {key!r} must be a non-empty 1-D array of finite numbers")
    return a.astype(np.float64)
