"""The error of a fit without a stretch of rows long enough, saying what cut the rows:
too few of them, a sensor's empty cells, or a time index too irregular for its median
step (an exception-based historian export)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.data.timeaxis import GAP_PERIODS, duration, median_step
from normalcy.exceptions import SensorsError


class TooShort(SensorsError):
    """Training data without a gap-free stretch long enough; ``sensors`` names the
    sensors whose empty cells cut it (most first; empty when gaps are not the cause)."""


def too_short(series: Any, longest: int, needed: int, delta: int, window: int,
              floor: int) -> TooShort:
    """The error of a fit whose longest gap-free stretch (``longest`` rows) is under the
    ``needed`` rows (``2*delta - 1 + 2*window``, never under ``floor``); where the data
    hold that many rows but empty cells cut them, it names the sensors whose cells they
    are (a sensor logged less often than the others leaves a gap every few rows)."""
    text = (f"training data is too short: its longest gap-free stretch has {longest} rows, "
            f"but needs {max(needed, floor)} (2*delta - 1 + 2*window = {needed} with "
            f"delta={delta}, window={window}; never under {floor}).")
    gaps = series.gap_cells()
    irregular = time_cuts(series, max(needed, floor))
    if irregular:
        return TooShort(f"{text} {irregular}", [])
    if not gaps or series.n_rows < max(needed, floor):
        how = ("Give more healthy rows, or lower delta/window." if needed > floor else
               f"Give more healthy rows: at least {floor} in a stretch without gaps "
               "(a lower delta or window would not lower that).")
        return TooShort(f"{text} {how}", [])
    said = ", ".join(f"{s!r} ({100 * n / series.n_rows:.0f} % of the rows)" for s, n in gaps[:3])
    more = " and more" if len(gaps) > 3 else ""
    return TooShort(
        f"{text} The {series.n_rows} rows are cut by empty cells of {said}{more}: "
        "a sensor logged less often than the others leaves a gap every few rows. Leave it "
        "out of the sensors, or export every sensor on one time grid (the historian's "
        "interpolated values).", [s for s, _ in gaps])



def time_cuts(series: Any, needed: int) -> str:
    """Why a time-indexed series (:class:`~normalcy.data.validation.Series`) without
    empty cells and with ``needed`` rows or more has no stretch that long: steps of its
    time index longer than ``GAP_PERIODS`` times its median step cut it into many runs
    (irregular sampling, as a historian's exception-based or compressed export logs a
    tag only when it changes); "" otherwise."""
    index = series.index
    runs = len(series.spans())
    if (not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) or runs < 2
            or series.n_rows < needed or series.gap_cells()):
        return ""
    seconds = pd.TimedeltaIndex(index - index[0]).total_seconds().to_numpy(np.float64)
    step = median_step(seconds)
    if not step:
        return ""
    rule = f"{step:.3g}s" if step >= 1 else f"{1000 * step:.3g}ms"
    said = duration(float(f"{step:.3g}"))
    return (f"The {series.n_rows} rows are cut into {runs} runs by steps of their time index "
            f"longer than {GAP_PERIODS:g} times its median step ({said}): the sampling "
            "is irregular, as a historian's exception-based (compressed) export logs a tag "
            "only when it changes. Export the sensors on a regular time grid (the "
            f"historian's interpolated values), or resample: X.resample('{rule}').mean()"
            ".interpolate().")
