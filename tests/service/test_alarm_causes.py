"""A second fault inside an open alarm reaches the operator: the monitor's new cause
(``MonitorUpdate.causes``) joins the open episode's sensors, is published as an
``alarm-cause`` event and shown in the alarm's JSON and page - once, also across a
restart of the service."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from normalcy.alarms.policy import Cause
from normalcy.service.app import create_app
from tests.service.conftest import T0, Service, as_json


def _published(app: Any) -> list[dict[str, Any]]:
    """Every event the app's fleet publishes from now on."""
    events = app.state.fleet.events
    seen: list[dict[str, Any]] = []
    publish = events.publish

    def record(kind: str, **data: Any) -> None:
        seen.append({"kind": kind, **data})
        publish(kind, **data)

    events.publish = record
    return seen


def _send(client: TestClient, op: dict[str, str], rows: pd.DataFrame, first: int,
          batch: int = 250) -> list[dict[str, Any]]:
    out = []
    payload = as_json(rows, T0)
    for i in range(first, len(rows), batch):
        r = client.post("/api/units/T-1/readings", json=payload[i:i + batch], headers=op)
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def test_a_second_fault_in_an_open_alarm_is_shown(service: Service,
                                                  tank: tuple[bytes, pd.DataFrame]) -> None:
    """h1 biased, then v1 frozen: one alarm, and v1 said in it as the CLI's ALSO line."""
    model, rows = tank
    service.add_unit(model, "T-1")
    c, op = service.client, service.auth("operator")
    seen = _published(c.app)  # type: ignore[attr-defined]
    out = _send(c, op, rows.iloc[:2250], 0)
    (alarm,) = [e for o in out for e in o["opened"]]
    said = [x for o in out for x in o["causes"]]
    assert [(x["alarm"], x["sensor"], x["kind"]) for x in said] == [(alarm, "v1", "stuck")]
    cause = {k: v for k, v in said[0].items() if k != "alarm"}
    assert [e for e in seen if e["kind"] == "alarm-cause"] == [
        {"kind": "alarm-cause", "unit": "T-1", "alarm": alarm, "cause": cause}]
    ep = c.get(f"/api/alarms/{alarm}").json()
    assert ep["active"] and ep["sensors"][0] == "h1" and "v1" in ep["sensors"]
    (cause,) = ep["causes"]
    assert cause["sensor"] == "v1" and 1800 <= cause["start_row"] < cause["said_row"] <= 2250
    assert cause["start"] == pd.Timestamp(T0 + cause["start_row"], unit="s",
                                          tz="UTC").isoformat()
    assert cause["text"] == (
        f"row {cause['start_row']} ({cause['start']}): score {cause['score']:.3g}, stuck "
        "(a reading stuck at one value), sensor v1 now also reads off, in the episode open "
        f"since row {ep['start_row']}")
    page = c.get(f"/alarms/{alarm}").text
    assert "sensor v1 now also reads off" in page
    said = page.split('id="explanation">')[1].split("</pre>")[0]  # sensors in <code>
    assert "<code>h1</code>" in said and "`" not in said, said
    assert "also v1 from" in c.get("/fragments/alarms").text  # the live list
    # to its end: the alarm closes naming both, v1 said once
    out = _send(c, op, rows, 2250)
    assert not [x for o in out for x in o["causes"]] and not [e for o in out for e in o["opened"]]
    ep = c.get(f"/api/alarms/{alarm}").json()
    assert not ep["active"] and {"h1", "v1"} <= set(ep["sensors"]) and len(ep["causes"]) == 1


def test_a_cause_survives_a_restart_and_is_said_once(service: Service,
                                                     tank: tuple[bytes, pd.DataFrame]
                                                     ) -> None:
    """After a restart the stored alarm still names v1, and the monitor primed on the
    stored rows (which finds v1's cause again in them) does not say it twice."""
    model, rows = tank
    service.add_unit(model, "T-1")
    op = service.auth("operator")
    out = _send(service.client, op, rows.iloc[:2050], 0, 250)
    (alarm,) = [e for o in out for e in o["opened"]]
    assert [x["sensor"] for o in out for x in o["causes"]] == ["v1"]
    with TestClient(create_app(service.settings)) as c:  # a second start on the same data
        fleet = c.app.state.fleet  # type: ignore[attr-defined]
        ep = c.get(f"/api/alarms/{alarm}").json()
        assert ep["active"] and "v1" in ep["sensors"] and len(ep["causes"]) == 1
        seen = _published(c.app)  # type: ignore[attr-defined]
        out = _send(c, op, rows, 2050, 100)
        assert not [x for o in out for x in o["causes"]]
        assert not [e for e in seen if e["kind"] == "alarm-cause"]
        ep = c.get(f"/api/alarms/{alarm}").json()
        assert "v1" in ep["sensors"] and [x["sensor"] for x in ep["causes"]] == ["v1"]
        # the monitor saying it again (it sees the episode from later on) changes nothing
        rt = fleet.units["T-1"]
        rt.open_episode = alarm
        with fleet.db.write() as s:
            got = fleet._episodes(s, rt, [], [], np.array([T0]), rt.rows_seen,
                                  [Cause(0, 0, 0, "v1", "stuck", 3.0, 3.0)])
        assert got == []
        assert c.get(f"/api/alarms/{alarm}").json()["causes"] == ep["causes"]


def test_a_batch_cut_into_runs_keeps_its_causes(tank: tuple[bytes, pd.DataFrame],
                                                tmp_path) -> None:
    """A batch with a pause is fed run by run (``feed_runs``): the update rebuilt from the
    runs carries the cause said in the first."""
    from normalcy import Monitor, load
    from normalcy.service.fleet import feed_runs

    model, rows = tank
    (tmp_path / "t.normalcy").write_bytes(model)
    mon = Monitor(load(tmp_path / "t.normalcy"))
    times = np.arange(2400, dtype=float)
    times[2200:] += 3600.0  # an hour's pause after the cause: a second run
    out = feed_runs(mon, times, rows.iloc[:2400], 1.0, None)
    assert [(c.sensor, c.kind) for c in out.causes] == [("v1", "stuck")]


def test_a_restart_keeps_the_sensors_the_alarm_named(service: Service,
                                                     tank: tuple[bytes, pd.DataFrame]) -> None:
    """A monitor primed again after a restart sees the open alarm from later on (the
    context rows it reads back), where v1's freeze leads: the alarm still names h1, whose
    bias opened it, first - what the later view names joins the stored sensors."""
    model, rows = tank
    service.add_unit(model, "T-1")
    op = service.auth("operator")
    out = _send(service.client, op, rows.iloc[:2400], 0)
    (alarm,) = [e for o in out for e in o["opened"]]
    before = service.client.get(f"/api/alarms/{alarm}").json()["sensors"]
    assert before[0] == "h1" and "v1" in before
    with TestClient(create_app(service.settings)) as c:
        _send(c, op, rows.iloc[:2900], 2400, 100)
        ep = c.get(f"/api/alarms/{alarm}").json()
        assert ep["active"] and ep["sensors"][:len(before)] == before
