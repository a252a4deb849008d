"""Readings the service refuses before it scores them: times ahead of the server's
clock (a gateway's clock glitch), which would set the unit's clock past every real
reading, a stream at another sampling period than the model's, and values too far from
the sensor's healthy range for the model to score."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from normalcy.data.periods import MIN_CHECKED_STEPS, check_steps, same_period, steps_tolerance
from normalcy.detector.scaling import FILL_RANGES
from normalcy.exceptions import InputError
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


#: the steps between a unit's last rows whose median must be its model's period
RECENT_STEPS = 2 * MIN_CHECKED_STEPS


def recent_steps(before: np.ndarray, times: np.ndarray,
                 last: float | None = None) -> np.ndarray:
    """The last :data:`RECENT_STEPS` steps of a unit's stream, seconds: ``before`` (the
    steps up to the row at ``last``) and those of ``times``, from ``last`` on.

    >>> recent_steps(np.array([1.0, 1.0]), np.array([12.0, 14.0]), last=10.0)
    array([1., 1., 2., 2.])
    """
    d = np.diff(np.asarray(times, dtype=float) if last is None else np.r_[last, times])
    return np.r_[before, d][-RECENT_STEPS:]


def refuse_other_period(before: np.ndarray, times: np.ndarray, last: float | None,
                        period: float | None) -> None:
    """Refuse (422) a batch sampled at another period than the model's: by its own steps
    from :data:`~normalcy.data.periods.MIN_CHECKED_STEPS` rows on, and by the stream's last
    steps (``before``, up to the row at ``last``) with the batch's - a gateway posting one
    row at a time at another period is caught as a batch of many is, not scored as if
    each step were the model's."""
    fix = "Send the unit's readings at its period, or create a unit from a history at "
    try:
        check_steps(np.diff(times), period, "the batch is sampled every {own}",
                    fix + "this period.")
        own = recent_steps(np.empty(0), times, last)  # the steps this batch adds
        steps = recent_steps(before, times, last)
        if period is not None and own.size and times.size <= MIN_CHECKED_STEPS and \
                not same_period(float(np.median(own)), period, steps_tolerance(steps)):
            # (rows back at the period pass: a stream caught and mended is taken again)
            check_steps(steps, period, "the unit's readings arrive every {own} (the median "
                        f"step of its last {steps.size + 1} rows, this batch's included)",
                        fix + "their period. Nothing of the batch was stored.")
    except InputError as e:
        raise ClientError(str(e), 422) from None


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
