"""JSON shapes of units and alarm episodes, shared by the API and the pages."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np

from normalcy.service.db import Episode, Unit, episode_sensors


def nan_none(a: np.ndarray) -> list[float | None]:
    """Floats for JSON: None (null) where a value is missing (NaN)."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


def iso(t: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC (None stays None)."""
    if t is None:
        return None
    return datetime.fromtimestamp(round(t, 6), tz=timezone.utc).isoformat()


#: what a unit without a sampling period means (``period_s`` null)
NO_PERIOD = ("unknown: the model was fitted on rows without times, so the readings' "
             "sampling period is not checked, a pause between readings does not start a "
             "new run, and explanations give durations in samples only; fit the model on "
             "a history with a time column (or a time index) to give it one")


def sampling(period: float | None) -> str:
    """The sampling period in words: ``every 1 s``, or why it is unknown."""
    from normalcy.data.timeaxis import duration

    return NO_PERIOD if period is None else f"every {duration(period)}"


def unit_json(u: Unit) -> dict[str, Any]:
    """A unit as the API shows it (``sampling``: its period in words, or why unknown)."""
    return {"name": u.name, "sensors": json.loads(u.sensors), "status": u.status,
            "status_detail": u.status_detail, "version": u.current_version,
            "rows": u.rows_seen, "last_time": iso(u.last_time),
            "period_s": u.period_s, "sampling": sampling(u.period_s),
            "timezone": u.timezone, "created_by": u.created_by,
            "created_at": iso(u.created_at)}


def episode_json(ep: Episode, unit: str) -> dict[str, Any]:
    """An alarm episode as the API shows it (``shelved`` is true until the expiry)."""
    shelved = ep.shelved_until is not None and ep.shelved_until > time.time()
    return {"id": ep.id, "unit": unit, "start": iso(ep.start_t), "end": iso(ep.end_t),
            "start_row": ep.start_seq, "end_row": ep.end_seq,
            "duration_s": ep.end_t - ep.start_t, "peak": ep.peak, "kind": ep.kind,
            "sensors": episode_sensors(ep.sensors), "fault": ep.fault,
            "active": ep.active, "state": ep.state, "shelved": shelved,
            "shelved_until": iso(ep.shelved_until) if shelved else None,
            "shelved_by": ep.shelved_by if shelved else None,
            "shelve_comment": ep.shelve_comment if shelved else None,
            "acknowledged_by": ep.acked_by, "acknowledged_at": iso(ep.acked_at),
            "ack_comment": ep.ack_comment, "verdict": ep.verdict,
            "verdict_fault": ep.verdict_fault, "verdict_by": ep.verdict_by,
            "verdict_version": ep.verdict_version, "model_version": ep.model_version,
            "causes": causes_json(ep)}


def causes_json(ep: Episode) -> list[dict[str, Any]]:
    """The second faults said while the episode was open (``fleet.Fleet._cause``): the
    sensor, the term that named it, its first row in the lead and that row's time (when it
    started to read off), the row it was said at, its part and the score then, and
    ``text``, worded as ``normalcy monitor``'s ALSO line."""
    from normalcy.alarms.policy import kind_words

    out = []
    for c in json.loads(ep.causes or "[]"):
        what = f"{c['kind']} ({kind_words(c['kind'])})" if c["kind"] else "-"
        text = (f"row {c['start_row']} ({iso(c['start_t'])}): score {c['score']:.3g}, {what},"
                f" sensor {c['sensor']} now also reads off, in the episode open since row "
                f"{ep.start_seq}")
        out.append({"sensor": c["sensor"], "kind": c["kind"], "start": iso(c["start_t"]),
                    "start_row": c["start_row"], "said_row": c["said_row"],
                    "part": c["part"], "score": c["score"], "text": text})
    return out
