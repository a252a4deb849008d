"""An open alarm keeps the kind and the sensors it opened with: a second fault (or the
monitor's summary as the episode grows) adds sensors after them, never in their place
(README: "its sensor joins the open alarm's sensors"), on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd

from tests.service.conftest import T0, Service, as_json


def test_a_second_fault_keeps_the_alarms_kind_and_first_sensors(
        service: Service, tank: tuple[bytes, pd.DataFrame]) -> None:
    """h1 biased from row 1000 opens the alarm; v1 frozen from row 1800 is said as a
    cause and later leads the summary: the alarm still reads as it opened, v1 after."""
    model, rows = tank
    service.add_unit(model, "T-1")
    c, op = service.client, service.auth("operator")
    payload = as_json(rows, T0)
    alarm, opened, seen = None, None, []
    for i in range(0, len(payload), 50):
        r = c.post("/api/units/T-1/readings", json=payload[i:i + 50], headers=op)
        assert r.status_code == 200, r.text
        if r.json()["opened"]:
            assert alarm is None, "one alarm only"
            alarm = r.json()["opened"][0]
        if alarm is not None:
            ep = c.get(f"/api/alarms/{alarm}").json()
            opened = opened or (ep["kind"], list(ep["sensors"]))
            seen.append((ep["kind"], ep["sensors"]))
    assert opened is not None and opened[1][0] == "h1"
    assert all(kind == opened[0] for kind, _ in seen)  # it was 'step', 'dyn', then 'stuck'
    assert all(sensors[:len(opened[1])] == opened[1] for _, sensors in seen)
    kind, sensors = seen[-1]
    assert "v1" in sensors and sensors.index("v1") >= len(opened[1])  # v1 had come first
    assert not c.get(f"/api/alarms/{alarm}").json()["active"]
