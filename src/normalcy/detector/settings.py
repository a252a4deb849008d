"""Settings derived from the training data when left to ``"auto"``.

The paper's defaults (``n_levels=20``, ``delta=20``) suit its Lorenz example
(dt 0.01, 20 000 samples) and are among the worst settings on other plants
(SPEC §1.11). ``"auto"`` derives them from the data instead:

- ``n_levels``: with ``n`` training transitions per sensor and ``n_levels**2``
  codes, a transition is seen about ``n / n_levels**2`` times, and its bounds and
  configurations live in ``nse = ns + delta - 1`` dimensions. We ask for about
  ``max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)`` samples per code:
  ``n_levels = sqrt(n / that)``, clipped to ``[4, 20]``. (20 000 Lorenz samples,
  ``nse = 21``, give 20, the paper's value; 50 sensors need more samples per code.)
- ``delta``: the time scale of the signals. A transition says most when the
  signal has moved appreciably but not forgotten where it was: we take the
  smallest lag at which the autocorrelation of the fastest-moving sensor
  falls to ``ACF_LEVEL``, clipped to ``[1, MAX_DELTA]`` and to a tenth of the
  longest gap-free segment.
- ``window``: 100 samples (the paper's), shortened to a fifth of the longest
  segment's transitions for short training series.
"""

from __future__ import annotations

import numpy as np

SAMPLES_PER_CODE = 50
SAMPLES_PER_DIM = 2
ACF_LEVEL = 0.0
MAX_DELTA = 50


def auto_levels(n_transitions: int, nse: int = 1) -> int:
    """``round(sqrt(n / max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)))`` in ``[4, 20]``.

    Examples
    --------
    >>> auto_levels(20000, 21), auto_levels(400, 9), auto_levels(10**7, 60)
    (20, 4, 20)
    >>> auto_levels(20000, 60)
    13
    """
    per_code = max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)
    return int(np.clip(round(np.sqrt(n_transitions / per_code)), 4, 20))


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of each column of ``x`` at lags ``0 .. max_lag`` (FFT)."""
    x = x - x.mean(axis=0)
    n = x.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, n=size, axis=0)
    acf = np.fft.irfft(f * np.conj(f), n=size, axis=0)[: max_lag + 1]
    acf /= np.maximum(acf[:1], 1e-300)
    return acf / (1.0 - np.arange(max_lag + 1)[:, None] / n)


def auto_delta(segments: list[np.ndarray]) -> int:
    """Smallest lag at which some sensor's autocorrelation falls to ``ACF_LEVEL``.

    Computed on the longest gap-free segment (``(T, ns)`` scaled values).
    """
    seg = max(segments, key=len)
    limit = int(min(MAX_DELTA, max(1, len(seg) // 10)))
    if limit <= 1:
        return 1
    acf = autocorrelation(seg, limit)
    below = np.asarray((acf <= ACF_LEVEL).any(axis=1))
    below[0] = False
    hit = np.flatnonzero(below)
    return int(hit[0]) if hit.size else limit


def auto_window(longest_segment_transitions: int) -> int:
    """100, or a fifth of the transitions of the longest segment when shorter."""
    return int(max(10, min(100, longest_segment_transitions // 5)))
