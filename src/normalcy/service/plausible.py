"""Readings the service refuses before it scores them: times ahead of the server's
clock (a gateway's clock glitch), which would set the unit's clock past every real
reading, and values too far from the sensor's healthy range for the model to score."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from normalcy.detector.scaling import FILL_RANGES
from normalcy.service.errors import ClientError
from normalcy.service.views import iso

#: sampling periods a reading may be ahead of the server's clock besides the clock skew
#: allowed (a gateway stamps a row at the end of its period, or sends it a little late)
AHEAD_PERIODS = 3


def server_time() -> float:
    """The server's clock, epoch seconds (tests set it)."""
    return time.time()


def ahead_limit(period: float | None, clock_skew_s: float) -> float:
    """How far a reading's time may be ahead of the server's clock, in seconds:
    ``clock_skew_s`` (the setting) plus :data:`AHEAD_PERIODS` sampling periods of the
    unit (none where its model has no period).

    Examples
    --------
    >>> ahead_limit(1.0, 300.0), ahead_limit(None, 300.0)
    (303.0, 300.0)
    """
    return clock_skew_s + AHEAD_PERIODS * (period or 0.0)


def refuse_future(times: np.ndarray, period: float | None, clock_skew_s: float) -> None:
    """Refuse a batch with a row whose time is ahead of the server's clock by more than
    :func:`ahead_limit` - a 422 naming the row, its time, the server's time and the fix."""
    now = server_time()
    limit = ahead_limit(period, clock_skew_s)
    ahead = np.flatnonzero(times > now + limit)
    if ahead.size == 0:
        return
    i = int(ahead[0])
    more = f" (and {ahead.size - 1} more row(s))" if ahead.size > 1 else ""
    raise ClientError(
        f"row {i}: its time {iso(times[i])} is {times[i] - now:.0f} s ahead of the server's "
        f"clock ({iso(now)}){more}; a reading may be at most {limit:g} s ahead "
        f"(NORMALCY_CLOCK_SKEW_S={clock_skew_s:g} s plus {AHEAD_PERIODS} sampling periods). "
        "Nothing of the batch was stored. Check the clock of the gateway or historian that "
        "stamps the readings (NTP), then send the rows again with their true times.", 422)


#: the central range (1st to 99th percentile) of normally distributed readings in
#: interquartile ranges, the model's scale: 2 x 2.326 / 1.349
CENTRAL_PER_SCALE = 3.45

#: a live reading this many central ranges from its sensor's healthy median is refused:
#: the limit :func:`normalcy.detector.scaling.fit_robust_scale` puts on training values
#: however many rows hold them (``FILL_RANGES``, 100). Not that module's
#: ``OUTLIER_RANGES``: a training value a few ranges out blinds a fit, while a live
#: reading a few ranges out is the fault the model is there to raise; only one too far to
#: score (1e300, a unit mix-up) is refused
LIVE_RANGES = FILL_RANGES


def value_limits(det: Any) -> tuple[np.ndarray, np.ndarray]:
    """The readings the model can score, per sensor: ``center ± limit``,
    :data:`LIVE_RANGES` central ranges from the median, the central range taken from the
    model's scaler (:data:`CENTRAL_PER_SCALE` of its scale). Returns ``(center, limit)``."""
    center = np.asarray(det.center_, dtype=float)
    return center, LIVE_RANGES * CENTRAL_PER_SCALE * np.asarray(det.scale_, dtype=float)


def refuse_implausible(values: np.ndarray, det: Any, sensors: list[str]) -> None:
    """Refuse (422) a batch with a reading the model cannot score meaningfully (1e300 on a
    level of 0-2 m: its explanation said ±inf), naming the row, the sensor and the range."""
    if det is None or getattr(det, "center_", None) is None:
        return
    center, limit = value_limits(det)
    with np.errstate(invalid="ignore", over="ignore"):
        far = np.abs(values - center) > limit
    if not far.any():
        return
    i, j = (int(x) for x in np.argwhere(far)[0])
    raise ClientError(
        f"row {i}, sensor {sensors[j]!r}: {values[i, j]:.6g} is more than {limit[j]:.6g} from "
        f"its healthy median {center[j]:.6g} ({LIVE_RANGES:g} times the range its healthy "
        "readings lie in), too far for the model to score; it looks like a wrong reading (a "
        "unit mix-up, a historian's fill value). Nothing of the batch was stored. Send the "
        "row again with the right value, or null (JSON) / an empty cell (CSV) for a missing "
        "reading.", 422)
