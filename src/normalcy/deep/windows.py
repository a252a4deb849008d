"""Sliding windows of standardised sensor data, cut so that none crosses a gap.

A window *ending* at row ``t`` holds rows ``t - window + 1 .. t``; it exists only
when all those rows lie in one gap-free segment of one run (see
:meth:`normalcy.data.validation.Series.valid_starts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from normalcy.data.validation import Series
from normalcy.exceptions import InputError


@dataclass(frozen=True)
class Standardiser:
    """Per-sensor standardisation ``(x - mean) / scale`` learnt on healthy data.

    A sensor that is constant in the data it was fitted on gets ``scale = 1``
    (it is only centred): it carries no information but does no harm.

    Examples
    --------
    >>> s = Standardiser.fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.transform(np.array([[1.0, 6.0]])).tolist()
    [[0.0, 1.0]]
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardiser:
        """Learn mean and standard deviation of the complete rows of ``values``."""
        rows = values[np.isfinite(values).all(axis=1)]
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
        return cls(mean.astype(np.float64), scale.astype(np.float64))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardise ``values`` (NaN rows stay NaN)."""
        out: np.ndarray = (values - self.mean) / self.scale
        return out


def refuse_constant(values: np.ndarray, sensors: list[str], what: str) -> None:
    """InputError when every sensor of ``values`` is constant: a network of such windows
    learns nothing of how the machine moves, and its threshold would call any movement
    an alarm.

    Examples
    --------
    >>> refuse_constant(np.array([[5.0, 2.0], [5.0, 2.0]]), ["a", "b"], "training data")
    Traceback (most recent call last):
    ...
    normalcy.exceptions.InputError: every sensor of the training data is constant (a=5, b=2 ...
    """
    rows = values[np.isfinite(values).all(axis=1)]
    if len(rows) and (rows.max(axis=0) - rows.min(axis=0) == 0).all():
        readings = ", ".join(f"{s}={v:g}" for s, v in zip(sensors[:5], rows[0], strict=False))
        raise InputError(
            f"every sensor of the {what} is constant ({readings}"
            f"{', ...' if len(sensors) > 5 else ''} in every complete row): there is "
            "nothing to learn of how the machine moves. Fit on a history where it runs "
            "(not a stop or a shutdown).")


def window_ends(series: Series, window: int) -> np.ndarray:
    """Rows at which a full gap-free window of ``window`` rows ends (ascending)."""
    return np.flatnonzero(series.valid_starts(window - 1, 0))


def longest_stretch(series: Series) -> int:
    """Length in rows of the longest gap-free stretch of ``series``."""
    ok = series.segment >= 0
    if not ok.any():
        return 0
    return int((series.seg_stop[ok] - series.seg_start[ok]).max())


def require_windows(series: Series, window: int, needed: int, what: str) -> np.ndarray:
    """Return :func:`window_ends`, or raise :class:`InputError` if fewer than ``needed``.

    The message says how long the longest gap-free stretch is and what to change.
    """
    ends = window_ends(series, window)
    if len(ends) < needed:
        longest = longest_stretch(series)
        raise InputError(
            f"{what} is too short for the window: it needs at least {needed} window(s) of "
            f"{window} consecutive gap-free rows (at least {window + needed - 1} rows in one "
            f"stretch), but its longest gap-free stretch has {longest} rows and it holds "
            f"{len(ends)} window(s) (n_samples={series.n_rows}). Give more data or choose a "
            "smaller 'window'."
        )
    return ends


def thin_ends(ends: np.ndarray, stride: int, max_windows: int) -> np.ndarray:
    """Keep every ``stride``-th window end, then at most ``max_windows`` spread evenly.

    Time order is kept, so the last windows are still the latest ones.

    Examples
    --------
    >>> thin_ends(np.arange(10), stride=2, max_windows=3).tolist()
    [0, 4, 8]
    """
    kept = ends[::stride]
    if len(kept) > max_windows:
        pick = np.unique(np.linspace(0, len(kept) - 1, max_windows).round().astype(np.int64))
        kept = kept[pick]
    return kept


def cut_windows(values: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    """Windows of ``values`` ending at ``ends``: array of shape (n, window, n_sensors).

    ``values`` must be standardised already; the result is float32 (what the
    networks take).
    """
    if len(ends) == 0:
        return np.empty((0, window, values.shape[1]), dtype=np.float32)
    view = sliding_window_view(values, window, axis=0)  # (T - w + 1, ns, w)
    out = view[ends - (window - 1)].transpose(0, 2, 1)
    return np.ascontiguousarray(out, dtype=np.float32)
