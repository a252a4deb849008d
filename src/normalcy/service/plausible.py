"""Readings the service refuses before it scores them: times ahead of the server's
clock (a gateway's clock glitch), which would set the unit's clock past every real
reading."""

from __future__ import annotations

import time

import numpy as np

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
