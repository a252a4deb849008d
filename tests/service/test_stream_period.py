"""A gateway posting a few rows at a time, at another sampling period than the unit's
model: each batch was too short for the batch's period check (9 rows or more), so the
stream was scored as if each step were the model's - a transition over 5 steps of 2 s
read as one over 5 s. Now the stream's last steps are checked with each batch's."""

from __future__ import annotations

from pathlib import Path

from tests.service.conftest import T0, Service, as_json, plant
from tests.service.test_unit_creation import timed_model


def test_single_rows_at_another_period_are_refused(sqlite_service: Service,
                                                   tmp_path: Path) -> None:
    svc = sqlite_service
    c, op = svc.client, svc.auth("operator")
    svc.add_unit(timed_model(tmp_path), "T")  # sampled every 1 s
    url = "/api/units/T/readings"
    rows = as_json(plant(60), 0)
    for i in range(20):  # one row a request, every second: scored
        r = c.post(url, json=[{**rows[i], "time": T0 + i}], headers=op)
        assert r.status_code == 200, r.text
    said = []
    for i in range(20, 40):  # the gateway now sends every 2 s
        r = c.post(url, json=[{**rows[i], "time": T0 + 19 + 2 * (i - 19)}], headers=op)
        said.append(r.status_code)
        if r.status_code != 200:
            break
    assert said[-1] == 422 and len(said) <= 9, said  # caught within 9 rows
    assert r.json()["detail"] == (
        "the unit's readings arrive every 2 s (the median step of its last 17 rows, this "
        "batch's included), but the model was fitted on data sampled every 1 s: its "
        "transitions and windows would mean other durations. Send the unit's readings at "
        "its period, or create a unit from a history at their period. Nothing of the batch "
        "was stored.")
    stored = c.get("/api/units/T").json()["rows"]
    assert stored == 20 + len(said) - 1
    # the gateway mended: rows every second are taken again, one a request
    t = T0 + 19 + 2 * (len(said) - 1) + 1  # a second after the last stored row
    for i in range(5):
        r = c.post(url, json=[{**rows[40 + i], "time": t + i}], headers=op)
        assert r.status_code == 200, r.text
