"""The unit's feedback history says the rows a verdict covered as an alarm says its span:
the times of its first and last rows and their stream positions - not the positions in
the slice the service handed the model (0 and the slice's length), which mean nothing to
an operator."""

from __future__ import annotations

import json

from sqlalchemy import select

from normalcy.service.db import Write
from tests.service.conftest import T0, Service, plant, with_fault


def test_feedback_history_says_times_and_stream_rows(service: Service,
                                                     model_bytes: bytes) -> None:
    service.add_unit(model_bytes)
    c, op = service.client, service.auth("operator")
    service.send("P-101", with_fault(plant(1200, 6000), 400, 500), T0)
    (alarm, *_) = [a for a in c.get("/api/alarms").json() if not a["active"]]
    assert alarm["start_row"] > 300  # far from the slice's 0
    r = c.post(f"/api/alarms/{alarm['id']}/feedback", json={"verdict": "normal"}, headers=op)
    assert r.status_code == 200, r.text
    r = c.post("/api/units/P-101/feedback", headers=op, json={
        "start": T0 + 900, "end": T0 + 1000.5, "verdict": "fault", "fault": "drift"})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [900, 1000]
    fit, on_alarm, on_range = c.get("/api/units/P-101/history").json()
    assert fit["action"] == "fit" and fit["start"] is None and fit["start_row"] is None
    span = {k: alarm[k] for k in ("start", "end", "start_row", "end_row")}
    assert {k: on_alarm[k] for k in span} == span  # the alarm's span, as the alarm says it
    assert {k: on_range[k] for k in span} == {
        "start": "2027-01-15T08:15:00+00:00", "end": "2027-01-15T08:16:40+00:00",
        "start_row": 900, "end_row": 1000}  # T0 + 900 s and T0 + 1000 s
    page = c.get("/units/P-101").text
    assert "2027-01-15 08:15:00</time> - <time datetime=\"2027-01-15T08:16:40+00:00\">" \
        "2027-01-15 08:16:40</time> (rows 900-1000)" in page
    assert f"(rows {alarm['start_row']}-{alarm['end_row']})" in page
    # a verdict recorded before the rows were (its audit entry without them): its alarm's
    db = c.app.state.fleet.db  # type: ignore[attr-defined]
    with db.write() as s:
        for w in s.scalars(select(Write).where(Write.action == "feedback")):
            w.detail = json.dumps({k: v for k, v in json.loads(w.detail).items()
                                   if k not in span})
    _, on_alarm, on_range = c.get("/api/units/P-101/history").json()
    assert {k: on_alarm[k] for k in span} == span
    assert on_range["start"] is None and on_range["start_row"] is None
