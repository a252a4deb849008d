"""Alarm-load KPIs after EEMUA 191: alarms per 10 minutes, peak, flood, standing alarms,
bad actors, alarms removed by feedback.

EEMUA 191 reference lines: steady operation asks for fewer than 1 alarm per 10
minutes (acceptable), a flood is more than 10 alarms in 10 minutes.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

#: EEMUA 191: acceptable average, and the flood level, in alarms per 10 minutes
ACCEPTABLE_PER_10MIN = 1.0
FLOOD_PER_10MIN = 10.0
BIN_S = 600.0


def kpis(episodes: list[dict[str, Any]], spans: dict[str, tuple[float, float] | None],
         standing_s: float, now: float | None = None) -> dict[str, Any]:
    """KPIs per unit and overall.

    Parameters
    ----------
    episodes : dicts with ``unit``, ``start_t``, ``end_t``, ``active``, ``sensors`` (list),
        ``kind``, ``fault``, ``verdict``.
    spans : per unit, the first and last reading time (epoch s); None for a unit without
        a reading yet, which spans no time (it is listed, and the others' span is
        theirs: not from 1970).
    standing_s : an active episode older than this is standing.

    Examples
    --------
    >>> eps = [{"unit": "a", "start_t": 60.0 * i, "end_t": 60.0 * i + 5, "active": False,
    ...         "sensors": ["x"], "kind": "bound", "fault": None, "verdict": None}
    ...        for i in range(12)]
    >>> k = kpis(eps, {"a": (0.0, 1200.0)}, standing_s=3600, now=1200.0)
    >>> k["overall"]["peak_per_10min"], k["overall"]["flood_percent"]
    (10, 0.0)
    """
    now = time.time() if now is None else now
    units = sorted(spans)
    held = {u: [] if spans[u] is None else [spans[u]] for u in units}
    out = {u: _one([e for e in episodes if e["unit"] == u], held[u], standing_s, now)
           for u in units}
    return {"reference": {"acceptable_per_10min": ACCEPTABLE_PER_10MIN,
                          "flood_per_10min": FLOOD_PER_10MIN},
            "overall": _one(episodes, [s for u in units for s in held[u]], standing_s, now),
            "units": out}


def _one(eps: list[dict[str, Any]], spans: list[Any], standing_s: float,
         now: float) -> dict[str, Any]:
    if spans:
        t0, t1 = min(a for a, _ in spans), max(b for _, b in spans)
    else:
        t0 = t1 = 0.0
    hours = max(t1 - t0, 0.0) / 3600.0
    starts = np.sort(np.array([e["start_t"] for e in eps], dtype=float))
    n_bins = max(1, int(np.ceil((t1 - t0) / BIN_S))) if t1 > t0 else 1
    counts = np.bincount(np.clip(((starts - t0) // BIN_S).astype(int), 0, n_bins - 1),
                         minlength=n_bins) if starts.size else np.zeros(n_bins, int)
    # the peak over any sliding 10-minute window (not only the fixed bins)
    peak = int(max((np.searchsorted(starts, s + BIN_S, side="left") - i
                    for i, s in enumerate(starts)), default=0))
    last_t = t1 if t1 > 0 else now
    standing = [e for e in eps if e["active"] and last_t - e["start_t"] >= standing_s]
    sensors: Counter[str] = Counter(s for e in eps for s in e["sensors"])
    kinds: Counter[str] = Counter(e["kind"] or "-" for e in eps)
    faults: Counter[str] = Counter(e["fault"] for e in eps if e["fault"])
    return {
        "alarms": len(eps),
        "hours": round(hours, 4),
        "average_per_10min": round(len(eps) / max(n_bins, 1), 4) if t1 > t0 else float(len(eps)),
        "peak_per_10min": peak,
        "flood_percent": round(100.0 * float((counts > FLOOD_PER_10MIN).mean()), 2),
        "standing": len(standing),
        "active": sum(1 for e in eps if e["active"]),
        "bad_actor_sensors": sensors.most_common(5),
        "bad_actor_kinds": kinds.most_common(4),
        "faults": faults.most_common(5),
        "removed_by_feedback": sum(1 for e in eps if e["verdict"] == "normal"),
        # no reading yet: no bins (a bin at 1970 drew the chart's axis there)
        "per_10min": ({"start": t0, "counts": counts.tolist()} if spans
                      else {"start": None, "counts": []}),
    }
