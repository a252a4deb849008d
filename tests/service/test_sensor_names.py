"""Sensor names the service keeps whole: a name with a comma (a historian's tag
description) names its alarms, trends and KPIs as itself, also in a database of before
(migration 0005); a sensor named as the readings' time field is refused at creation."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalcy import TransitionDetector, operator, save
from normalcy.service.db import Database
from tests.service.conftest import T0, Service, backend_url, plant, schema_at, with_fault

TAG = "LI101, tank 1 level"


def _model(tmp_path: Path, names: list[str]) -> bytes:
    rows = plant(4000, 0)
    rows.columns = names
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"),
                       rows, by="lab")
    save(det, tmp_path / "m.normalcy")
    return (tmp_path / "m.normalcy").read_bytes()


def test_a_sensor_named_with_a_comma_names_its_alarm(service: Service, tmp_path: Path
                                                     ) -> None:
    service.add_unit(_model(tmp_path, [TAG, "s1", "s2"]), "C-1")
    rows = with_fault(plant(700), 400, 500)
    rows.columns = [TAG, "s1", "s2"]
    out = service.send("C-1", rows, T0)
    (alarm,) = [e for o in out for e in o["opened"]]
    c = service.client
    ep = c.get(f"/api/alarms/{alarm}").json()
    assert ep["sensors"][0] == TAG and set(ep["sensors"]) <= {TAG, "s1", "s2"}
    trend = c.get(f"/api/alarms/{alarm}/trend").json()
    assert trend["sensors"][0] == TAG and set(trend["sensors"]) <= set(trend["series"])
    k = c.get("/api/kpis").json()["units"]["C-1"]
    names = [s for s, _ in k["bad_actor_sensors"]]
    assert TAG in names and "LI101" not in names


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_comma_separated_episode_sensors_of_before_are_read_whole(
        request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    from sqlalchemy import text

    from normalcy.service import db as dbmod

    url = backend_url(request, tmp_path, backend)
    with schema_at("0004", url) as conn:
        conn.execute(text("INSERT INTO units (name, sensors, status, status_detail, rows_seen, "
                          "created_by, created_at) VALUES ('old', :s, 'ready', '', 0, 'x', 0)"),
                     {"s": f'["{TAG}", "s1", "x,y"]'})
        for sensors in (f"s1,{TAG}", "x,y,s1", ""):
            conn.execute(text(
                "INSERT INTO episodes (unit_id, start_seq, end_seq, start_t, end_t, peak, "
                "kind, sensors, active, state) SELECT id, 0, 1, 0, 1, 1, 'dyn', :s, false, "
                "'normal' FROM units"), {"s": sensors})
    database = Database(url)
    try:
        database.migrate()
        with database.read() as s:
            got = [dbmod.episode_sensors(x) for x in s.scalars(
                text("SELECT sensors FROM episodes ORDER BY id"))]
        assert got == [["s1", TAG], ["x,y", "s1"], []]
    finally:
        database.dispose()


def test_a_sensor_named_time_is_refused(service: Service, tmp_path: Path) -> None:
    r = service.client.post("/api/units", headers=service.auth("engineer"),
                            data={"name": "T-9", "kind": "model"},
                            files={"file": ("m.normalcy", _model(tmp_path, ["time", "a", "b"]))})
    assert r.status_code == 422, r.text
    assert "a sensor is named 'time'" in r.json()["detail"]
    assert "rename the sensor" in r.json()["detail"]
    assert service.client.get("/api/units/T-9").status_code == 404
