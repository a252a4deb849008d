"""The REST API on SQLite and PostgreSQL: every endpoint, role and client mistake."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from normalcy.service.settings import Settings
from tests.service.conftest import PERIOD, T0, Service, as_json, plant, start_service, with_fault


def alarm_rows() -> tuple:
    """Healthy lead-in, an unseen offset of s0, healthy tail: one alarm episode. The
    block is one common period of the plant's oscillations (1257 rows), so that sending
    it again continues the signals smoothly."""
    rows = with_fault(plant(PERIOD, 6000), 400, 500)
    return rows, as_json(rows, T0)


def test_health_metrics_and_contract_lists(service: Service, model_bytes: bytes) -> None:
    c = service.client
    assert c.get("/healthz").json()["status"] == "ok"
    assert c.get("/api/units").json() == []
    service.add_unit(model_bytes)
    units = c.get("/api/units").json()
    assert [u["name"] for u in units] == ["P-101"]
    assert units[0]["sensors"] == ["s0", "s1", "s2"] and units[0]["version"] == 1
    rows, _ = alarm_rows()
    service.send("P-101", rows, T0)
    alarms = c.get("/api/alarms").json()
    assert alarms and {"unit", "start", "state"} <= set(alarms[0])
    assert alarms[0]["unit"] == "P-101"
    assert alarms[0]["state"] in ("active-unacknowledged", "returned-unacknowledged")
    text = c.get("/metrics").text
    for name in ("normalcy_readings_total 1257.0", "normalcy_scoring_latency_seconds_p99",
                 "normalcy_open_alarms", "normalcy_model_versions 1.0"):
        assert name in text
    assert c.get("/api/alarms", params={"unit": "P-101", "active": "false"}).status_code == 200
    assert c.get("/api/alarms", params={"limit": 0}).status_code == 422


def test_roles_on_writes(service: Service, model_bytes: bytes) -> None:
    c = service.client
    form = {"name": "U", "kind": "model"}
    files = {"file": ("m.normalcy", model_bytes)}
    assert c.post("/api/units", data=form, files=files).status_code == 401
    for role in ("viewer", "operator"):
        r = c.post("/api/units", data=form, files=files, headers=service.auth(role))
        assert r.status_code == 403 and "engineer" in r.json()["detail"]
    service.add_unit(model_bytes, "U")
    body = as_json(plant(10), T0)
    url = "/api/units/U/readings"
    assert c.post(url, json=body).status_code == 401
    assert c.post(url, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.post(url, json=body, headers={"Authorization": "Basic abc"}).status_code == 401
    assert c.post(url, json=body, headers=service.auth("viewer")).status_code == 403
    assert c.post(url, json=body, headers=service.auth("operator")).status_code == 200
    assert c.post("/api/units/U/undo", headers=service.auth("operator")).status_code == 403
    assert c.get("/api/users", headers=service.auth("operator")).status_code == 403
    assert c.get("/api/writes", headers=service.auth("viewer")).status_code == 403
    assert c.get("/api/me", headers=service.auth("viewer")).json()["role"] == "viewer"
    assert c.get("/api/me").json()["logged_in"] is False


def test_users_endpoint(service: Service) -> None:
    c, eng = service.client, service.auth("engineer")
    r = c.post("/api/users", json={"name": "nina", "role": "operator"}, headers=eng)
    assert r.status_code == 201
    token = r.json()["token"]
    me = c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "nina", "role": "operator", "logged_in": True}
    names = [u["name"] for u in c.get("/api/users", headers=eng).json()]
    assert "nina" in names and all("token" not in u for u in c.get("/api/users",
                                                                  headers=eng).json())
    assert c.post("/api/users", json={"name": "nina", "role": "viewer"},
                  headers=eng).status_code == 409
    assert c.post("/api/users", json={"name": "x", "role": "boss"},
                  headers=eng).status_code == 422
    assert c.post("/api/users", json=["x"], headers=eng).status_code == 422
    log = c.get("/api/writes", headers=eng).json()
    assert log[0]["action"] == "add-user" and log[0]["user"] == "engineer-1"


@pytest.mark.parametrize("mutate, status, words", [
    (lambda b: [{k: v for k, v in r.items() if k != "s1"} for r in b], 422, "lacks"),
    (lambda b: [{**r, "s9": 1.0} for r in b], 422, "unknown column"),
    (lambda b: [{**r, "s0": [1.0]} for r in b], 422, "not a number"),
    (lambda b: [{**r, "s0": "1.0"} for r in b], 422, "not a number"),
    (lambda b: [{k: v for k, v in r.items() if k != "time"} for r in b], 422, "no 'time'"),
    (lambda b: b[:3] + [{**b[3], "time": b[1]["time"]}], 422, "earlier"),
    (lambda b: b[:3] + [{**b[3], "time": b[2]["time"]}], 422, "same time"),
    (lambda b: [], 422, "no row"),
    (lambda b: {"rows": "x"}, 422, "list of rows"),
    (lambda b: [1, 2], 422, "not a JSON object"),
    (lambda b: [{**r, "time": "yesterday"} for r in b], 422, "ISO 8601"),
    (lambda b: [{**r, "time": r["time"] * 1000} for r in b], 422, "epoch milliseconds"),
    (lambda b: [{**r, "time": 1e20} for r in b], 422, "not between 1970 and 2200"),
    (lambda b: [{**r, "time": "1960-01-01T00:00:00Z"} for r in b], 422, "not between"),
    (lambda b: [b[0], {**b[1], "time": "2026-01-01T00:00:00Z"}], 422, "all be ISO"),
])
def test_bad_readings_are_4xx(service: Service, model_bytes: bytes, mutate, status,
                              words) -> None:
    service.add_unit(model_bytes, "U")
    body = as_json(plant(5), T0)
    r = service.client.post("/api/units/U/readings", json=mutate(body),
                            headers=service.auth("operator"))
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_bad_reading_bodies(service: Service, model_bytes: bytes) -> None:
    c, op = service.client, service.auth("operator")
    service.add_unit(model_bytes, "U")
    url = "/api/units/U/readings"
    inf = b'[{"time": 1, "s0": Infinity, "s1": 0, "s2": 0}]'
    r = c.post(url, content=inf, headers={**op, "Content-Type": "application/json"})
    assert r.status_code == 422 and "infinite" in r.json()["detail"]
    r = c.post(url, content=b'[{"time": 1,', headers={**op, "Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    assert c.post(url, content=b"", headers=op).status_code == 400
    big = b"[" + b" " * (service.settings.max_body_bytes + 10) + b"]"
    r = c.post(url, content=big, headers={**op, "Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    csv_ok = plant(20).assign(time=[T0 + i for i in range(20)]).to_csv(index=False).encode()
    r = c.post(url, content=csv_ok, headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["scored"] == 20
    spaced = b"time, s0, s1, s2\n" + b"".join(  # spaces around names, as files may have
        f"{T0 + 20 + i}, 0.1, 0.2, 0.3\n".encode() for i in range(3))
    r = c.post(url, content=spaced, headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["scored"] == 3, r.text
    shifted = f"time,s0,s1,s2\n{T0 + 30},0.1,0.2,0.3,9\n".encode()  # one field too many
    r = c.post(url, content=shifted, headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "more fields than its header" in r.json()["detail"]
    r = c.post(url, content=b"time,s0,s1,s2\n", headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "no row" in r.json()["detail"]
    r = c.post(url, content=b"s0,s1\n1,2\n", headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "time" in r.json()["detail"]
    r = c.post(url, content=b"time,s0,s1,s2\n9e9,a,1,1\n", headers={**op,
                                                                    "Content-Type": "text/csv"})
    assert r.status_code == 422
    r = c.post(url, json=as_json(plant(3), T0), headers=op)  # older than the stored rows
    assert r.status_code == 409 and "not after" in r.json()["detail"]
    iso = [{"time": f"2030-01-01T00:00:0{i}Z", "s0": 0.1, "s1": 0.2, "s2": 0.3}
           for i in range(3)]
    assert c.post(url, json={"rows": iso}, headers=op).status_code == 200
    r = c.post("/api/units/nowhere/readings", json=iso, headers=op)
    assert r.status_code == 404 and "GET /api/units" in r.json()["detail"]


def test_create_units(service: Service, model_bytes: bytes) -> None:
    c, eng = service.client, service.auth("engineer")
    hist = plant(1200).assign(time=[T0 + i for i in range(1200)]).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("h.csv", hist)},
               data={"name": "fitted", "kind": "history", "n_levels": "6", "delta": "5",
                     "window": "30"})
    assert r.status_code == 201, r.text
    u = c.get("/api/units/fitted").json()
    assert u["status"] == "ready" and u["version"] == 1 and u["period_s"] == 1.0
    bad = [
        ({"name": "fitted", "kind": "model"}, ("m", model_bytes), 409),
        ({"name": "a/b", "kind": "model"}, ("m", model_bytes), 422),
        ({"kind": "model"}, ("m", model_bytes), 422),
        ({"name": "x", "kind": "pickle"}, ("m", model_bytes), 422),
        ({"name": "x", "kind": "model"}, ("m", b"not a model"), 422),
        ({"name": "x", "kind": "history"}, ("h.csv", b""), 422),
        ({"name": "x", "kind": "history", "delta": "many"}, ("h.csv", hist), 422),
    ]
    for form, file, status in bad:
        r = c.post("/api/units", headers=eng, data=form, files={"file": file})
        assert r.status_code == status, (form, r.text)
        assert r.json()["detail"]
    r = c.post("/api/units", headers=eng, files={"file": ("h.csv", "a,b\n1,2\n")},
               data={"name": "tiny", "kind": "history"})
    assert r.status_code == 201 and r.json()["status"] == "failed"  # too short to fit
    assert r.json()["status_detail"]
    r = c.post("/api/units", headers=eng, data={"name": "tiny", "kind": "model"},
               files={"file": ("m", model_bytes)})
    assert r.status_code == 201 and r.json()["status"] == "ready"  # a failed name is free
    assert c.post("/api/units", headers=eng, data={"name": "x"}).status_code == 422
    assert c.post("/api/units", headers=eng, json={"name": "x"}).status_code == 415
    assert c.get("/api/units/x").status_code == 404
    assert [u["name"] for u in c.get("/api/units").json()] == ["fitted", "tiny"]
    # a time column the reader does not know by name: refused as a sensor, in the
    # form's words, then named with the form's field
    counted = plant(1200).assign(t=range(1200)).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("plant.csv", counted)},
               data={"name": "counted", "kind": "history"})
    assert r.status_code == 422 and "column 't' of plant.csv" in r.json()["detail"]
    assert "the field time_column" in r.json()["detail"] and "--" not in r.json()["detail"]
    r = c.post("/api/units", headers=eng, files={"file": ("plant.csv", counted)},
               data={"name": "counted", "kind": "history", "time_column": "t",
                     "n_levels": "6", "delta": "5", "window": "30"})
    assert r.status_code == 201 and r.json()["status"] == "ready", r.text
    assert "t" not in r.json()["sensors"] and r.json()["period_s"] == 1.0
    r = c.post("/api/units", headers=eng, files={"file": ("plant.csv", counted)},
               data={"name": "two", "kind": "history", "sensors": "s0, s1", "time_column": "t",
                     "n_levels": "6", "delta": "5", "window": "30"})
    assert r.status_code == 201 and r.json()["sensors"] == ["s0", "s1"], r.text
    # local clock times across the end of daylight saving time: said in the form's words,
    # then read in the zone the field names
    t = pd.date_range("2026-10-25 01:30", periods=1200, freq="5s", tz="Europe/Berlin")
    local = plant(1200).assign(time=t.strftime("%Y-%m-%d %H:%M:%S")).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("local.csv", local)},
               data={"name": "local", "kind": "history"})
    detail = r.json()["detail"]
    assert r.status_code == 422 and "daylight saving" in detail and "field timezone" in detail
    assert "--" not in detail
    r = c.post("/api/units", headers=eng, files={"file": ("local.csv", local)},
               data={"name": "local", "kind": "history", "timezone": "Europe/Berlin",
                     "n_levels": "6", "delta": "5", "window": "30"})
    assert r.status_code == 201 and r.json()["period_s"] == 5.0, r.text


def test_alarm_lifecycle_feedback_and_undo(service: Service, model_bytes: bytes) -> None:
    c, op, eng = service.client, service.auth("operator"), service.auth("engineer")
    service.add_unit(model_bytes)
    rows, _ = alarm_rows()
    service.send("P-101", rows, T0)
    (ep,) = c.get("/api/alarms").json()
    assert ep["state"] == "returned-unacknowledged" and ep["kind"] and ep["sensors"]
    assert ep["sensors"][0] == "s0"
    a = f"/api/alarms/{ep['id']}"
    ex = c.get(f"{a}/explanation").json()
    assert "s0" in ex["text"] and ex["records"]
    lo, last = map(int, re.match(r"rows (\d+) to (\d+) \(\d{4}-", ex["text"]).groups())
    hi = last + 1  # both ends said (b96779b)
    assert f"to {ep['end']})" in ex["text"].splitlines()[0]  # dated as the alarm list
    assert lo <= ep["start_row"] and hi == ep["end_row"] + 1  # the stream's rows, as listed
    assert all(lo <= r["sample"] < hi for r in ex["records"] if r["sample"] is not None)
    # the rows the sentences name are the stream's too (a step's said its row in the slice)
    assert all(lo <= int(n) < hi for n in re.findall(r"at row (\d+)", ex["text"]))
    recent = c.get("/units/P-101").text.split("Recent alarms")[1]  # with its columns named
    assert "<th>peak score</th>" in recent and f'href="/alarms/{ep["id"]}"' in recent
    tr = c.get(f"{a}/trend", params={"pad": 50}).json()
    assert len(tr["time"]) == len(tr["series"]["s0"]["value"])
    assert any(v is not None for v in tr["series"]["s1"]["lo"])
    assert c.get(f"{a}/trend", params={"pad": -1}).status_code == 422
    assert c.get(f"{a}/explanation", params={"top": 0}).status_code == 422
    r = c.post(f"{a}/acknowledge", json={"comment": "seen it"}, headers=op)
    assert r.json()["state"] == "normal" and r.json()["acknowledged_by"] == "operator-1"
    assert c.post(f"{a}/acknowledge", headers=op).status_code == 409
    r = c.post(f"{a}/shelve", json={"minutes": 30, "comment": "maintenance"}, headers=op)
    assert r.json()["shelved"] and r.json()["shelved_by"] == "operator-1"
    assert not c.post(f"{a}/shelve", json={"minutes": 0}, headers=op).json()["shelved"]
    for body in ({}, {"minutes": -1}, {"minutes": "ten"}, {"minutes": 1e9},
                 {"minutes": 5, "reason": "x"}):
        assert c.post(f"{a}/shelve", json=body, headers=op).status_code == 422
    for body, words in (({"verdict": "maybe"}, "verdict"), ({"verdict": "fault"}, "name"),
                        ({"verdict": "normal", "fault": "x"}, "no fault"),
                        ({"verdict": "normal", "note": 5}, "string"),
                        ({"verdict": "normal", "comment": "x"}, "unknown field(s) ['comment']")):
        r = c.post(f"{a}/feedback", json=body, headers=op)
        assert r.status_code == 422 and words in r.json()["detail"], r.text
    r = c.post(f"{a}/feedback", json={"verdict": "normal", "note": "valve test"}, headers=op)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["verdict"] == "normal" and r.json()["verdict_by"] == "operator-1"
    assert r.json()["signature"] is None  # a "normal" verdict teaches no signature
    hist = c.get("/api/units/P-101/history").json()
    assert hist[-1]["by"] == "operator-1" and hist[-1]["note"] == "valve test"
    # the same condition again: no alarm now
    out = service.send("P-101", rows, T0 + 10_000)
    assert not any(o["opened"] for o in out)
    # an engineer undoes it: the alarm returns
    assert c.post("/api/units/P-101/undo", headers=eng).json()["version"] == 3
    undone = c.get(a).json()  # the verdict taken back leaves the alarm, the ack stays
    assert undone["verdict"] is None and undone["acknowledged_by"] == "operator-1"
    out = service.send("P-101", rows, T0 + 20_000)
    assert any(o["opened"] for o in out)
    assert c.post("/api/units/P-101/undo", json={"to": 2}, headers=eng).json()["version"] == 4
    back = c.get(a).json()  # a revert to the verdict's version brings it back
    assert back["verdict"] == "normal" and back["verdict_by"] == "operator-1"
    assert c.post("/api/units/P-101/undo", json={"to": 99}, headers=eng).status_code == 404
    assert c.post("/api/units/P-101/undo", json={"to": "x"}, headers=eng).status_code == 422
    r = c.post("/api/units/P-101/undo", json={"version": 2}, headers=eng)
    assert r.status_code == 422 and "takes to, from; unknown field(s) ['version']" in r.text
    versions = c.get("/api/units/P-101/versions").json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4] and versions[-1]["current"]
    # a time range from the trend, named as a fault
    (last, *_) = c.get("/api/alarms").json()
    r = c.post("/api/units/P-101/feedback", headers=op, json={
        "start": last["start"], "end": last["end"], "verdict": "fault", "fault": "s0 drift"})
    assert r.status_code == 200 and r.json()["version"] == 5
    assert "'s0 drift' will" in r.json()["signature"]  # what its signature will do
    r = c.post("/api/units/P-101/feedback", headers=op, json={
        "start": "1990-01-01T00:00:00Z", "end": "1990-01-02T00:00:00Z", "verdict": "normal"})
    assert r.status_code == 422 and "no stored row" in r.json()["detail"]
    assert c.post("/api/units/P-101/feedback", headers=op, json={"verdict": "normal"}
                  ).status_code == 422
    r = c.post("/api/units/P-101/feedback", headers=op, json={
        "start": last["start"], "end": last["end"], "verdict": "normal", "from": 1})
    assert r.status_code == 422 and "unknown field(s) ['from']" in r.text
    for url in ("/api/alarms/999", "/api/alarms/999/explanation", "/api/alarms/999/trend"):
        assert c.get(url).status_code == 404
    assert c.post("/api/alarms/999/acknowledge", headers=op).status_code == 404
    actions = [w["action"] for w in c.get("/api/writes", headers=eng).json()]
    assert {"acknowledge", "shelve", "unshelve", "feedback", "undo", "revert"} <= set(actions)
    kpis = c.get("/api/kpis").json()
    assert kpis["overall"]["alarms"] == 2 and kpis["overall"]["removed_by_feedback"] == 1
    assert kpis["reference"] == {"acceptable_per_10min": 1.0, "flood_per_10min": 10.0}
    assert kpis["units"]["P-101"]["bad_actor_sensors"][0][0] == "s0"


def test_restart_recovers_units_and_episodes(tmp_path, model_bytes: bytes) -> None:
    settings = Settings(data=tmp_path / "d", background_fit=False)
    rows = with_fault(plant(600, 6000), 400, 600)  # ends in alarm
    gen = start_service(settings)
    svc = next(gen)
    svc.add_unit(model_bytes)
    svc.send("P-101", rows, T0)
    before = svc.client.get("/api/alarms").json()
    ep = before[0]  # the newest: still in alarm when the rows end
    assert ep["active"]
    gen.close()
    gen = start_service(Settings(data=tmp_path / "d", background_fit=False))
    with pytest.raises(Exception, match="exists already"):
        next(gen)  # the users of the first run are still there
    from fastapi.testclient import TestClient

    from normalcy.service.app import create_app

    with TestClient(create_app(settings)) as c:
        assert [u["name"] for u in c.get("/api/units").json()] == ["P-101"]
        after = c.get("/api/alarms").json()
        assert [a["id"] for a in after] == [a["id"] for a in before]
        again = after[0]
        assert again["start"] == ep["start"] and again["active"]  # the fault goes on
        assert again["state"] == "active-unacknowledged"
        more = with_fault(plant(200, 6600), 0, 200)  # the same fault, after the restart
        op = {"Authorization": f"Bearer {svc.tokens['operator']}"}
        r = c.post("/api/units/P-101/readings", json=as_json(more, T0 + 600), headers=op)
        assert r.status_code == 200 and r.json()["opened"] == [] and r.json()["in_alarm"]
        (cont,) = [a for a in c.get("/api/alarms").json() if a["active"]]
        assert cont["id"] == ep["id"] and cont["end_row"] > ep["end_row"]


def test_a_model_change_keeps_the_alarm_in_force_open(service: Service,
                                                      model_bytes: bytes) -> None:
    """Feedback on another range, and its undo, rebuild the unit's monitor: the alarm
    of a fault still going on stays the one open alarm (no false return, no second)."""
    c, op, eng = service.client, service.auth("operator"), service.auth("engineer")
    service.add_unit(model_bytes)
    service.send("P-101", with_fault(plant(600, 6000), 400, 600), T0)
    (ep,) = c.get("/api/alarms").json()
    assert ep["active"]
    r = c.post("/api/units/P-101/feedback", headers=op,
               json={"start": T0 + 50, "end": T0 + 250, "verdict": "normal"})
    assert r.status_code == 200, r.text
    assert c.post("/api/units/P-101/undo", headers=eng).status_code == 200
    t = T0 + 600
    for k in range(3):  # the fault goes on, batch after batch
        more = with_fault(plant(100, 6600 + 100 * k), 0, 100)
        r = c.post("/api/units/P-101/readings", json=as_json(more, t), headers=op)
        assert r.status_code == 200 and r.json()["opened"] == [] and r.json()["in_alarm"]
        t += 100
    (now,) = c.get("/api/alarms").json()
    assert now["id"] == ep["id"] and now["active"] and now["state"] == "active-unacknowledged"


def test_reads_can_require_login(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from normalcy.service.app import create_app

    settings = Settings(data=tmp_path / "d", anonymous_read=False)
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/units").status_code == 401
        assert c.get("/api/alarms").status_code == 401
        assert c.get("/healthz").status_code == 200


def test_cors_closed_by_default(sqlite_service: Service) -> None:
    r = sqlite_service.client.options("/api/units", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    r = sqlite_service.client.get("/api/units", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


def test_settings_from_environment(tmp_path) -> None:
    s = Settings.from_env(environ={"NORMALCY_RETENTION_DAYS": "3", "NORMALCY_ANONYMOUS_READ":
                                   "false", "NORMALCY_DATA": str(tmp_path)})
    assert s.retention_days == 3.0 and s.anonymous_read is False and s.data == tmp_path
    with pytest.raises(ValueError, match="NORMALCY_RETENTION_DAYS"):
        Settings.from_env(environ={"NORMALCY_RETENTION_DAYS": "soon"})
    with pytest.raises(ValueError, match="retention_days"):
        Settings.from_env(environ={}, retention_days=-1.0)
    assert json.dumps(Settings.from_env(environ={}).database_url).startswith('"sqlite')


def test_retention_keeps_the_rows_of_alarms(tmp_path, model_bytes: bytes) -> None:
    settings = Settings(data=tmp_path / "d", retention_days=0.01, background_fit=False)
    gen = start_service(settings)
    svc = next(gen)
    svc.add_unit(model_bytes)
    rows, _ = alarm_rows()
    svc.send("P-101", rows, T0)
    (ep,) = svc.client.get("/api/alarms").json()
    svc.send("P-101", plant(PERIOD, 6000), T0 + 5000)  # 0.01 days = 864 s are kept
    fleet = svc.client.app.state.fleet  # type: ignore[attr-defined]
    frame, first = fleet.rows(fleet.units["P-101"], 0, 10_000)
    with fleet.db.read() as s:
        from sqlalchemy import func, select

        from normalcy.service.db import Reading

        stored = s.scalar(select(func.count()).select_from(Reading))
    assert stored < 2 * PERIOD
    assert first > PERIOD  # old healthy rows are gone, the recent ones kept
    ex = svc.client.get(f"/api/alarms/{ep['id']}/explanation")
    assert ex.status_code == 200 and "s0" in ex.json()["text"]  # the alarm's rows kept
    gen.close()


@pytest.fixture(scope="module")
def timed_model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The test plant's model fitted on rows one second apart: it knows its period."""
    import pandas as pd

    from normalcy import TransitionDetector, operator, save

    rows = plant(4000, 0)
    rows.index = pd.date_range("2026-01-01", periods=len(rows), freq="s")
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"),
                       rows, by="lab")
    assert det.sample_period_ == 1.0
    path = tmp_path_factory.mktemp("timed") / "plant.normalcy"
    save(det, path)
    return path.read_bytes()


def test_readings_keep_time_a_pause_starts_a_run_another_period_is_refused(
        service: Service, timed_model: bytes) -> None:
    """Time is data in the service as in ``normalcy score``: a stream that stopped for
    an hour starts a new run (no transition or window spans the hour), and a batch at
    another sampling period is a 422 that names both periods."""
    c, op = service.client, service.auth("operator")
    service.add_unit(timed_model, "T")
    url = "/api/units/T/readings"
    rows = plant(300, 4000)
    first = c.post(url, json=as_json(rows.iloc[:200], T0), headers=op).json()
    assert first["scores"][-1] is not None
    went_on = c.post(url, json=as_json(rows.iloc[200:220], T0 + 200), headers=op).json()
    assert went_on["scores"][0] is not None  # one second later: the same run
    back = c.post(url, json=as_json(rows.iloc[220:260], T0 + 3820), headers=op).json()
    assert back["scored"] == 40
    assert back["scores"][0] is None and back["scores"][-1] is not None  # a new run
    inner = as_json(rows.iloc[260:300], T0 + 3860)  # goes on from the last batch
    for r in inner[20:]:
        r["time"] += 3600  # a pause inside one batch
    cut = c.post(url, json=inner, headers=op).json()
    assert cut["scores"][19] is not None and cut["scores"][20] is None
    slow = [{**r, "time": T0 + 9000 + 2 * i} for i, r in enumerate(as_json(plant(20), 0))]
    r = c.post(url, json=slow, headers=op)
    assert r.status_code == 422, r.text
    assert "sampled every 2 s" in r.json()["detail"] and "every 1 s" in r.json()["detail"]
    jitter = [{**r, "time": T0 + 9000 + i + 0.2 * (-1) ** i}
              for i, r in enumerate(as_json(plant(20), 0))]
    assert c.post(url, json=jitter, headers=op).status_code == 200
    # a verdict on a range across the pause teaches the two runs, not a transition
    # spanning the hour
    r = c.post(url.replace("readings", "feedback"), headers=op, json={
        "start": T0 + 150, "end": T0 + 3850, "verdict": "normal"})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text


def test_stored_rows_are_cut_into_runs_at_pauses() -> None:
    import pandas as pd

    from normalcy.service.fleet import stored_runs

    frame = pd.DataFrame({"time": np.r_[np.arange(10.0), 3700 + np.arange(10.0)],
                          "a": np.arange(20.0), "b": -np.arange(20.0)})
    runs = stored_runs(frame, ["a", "b"], 1.0)
    assert [len(r) for r in runs] == [10, 10] and list(runs[1].columns) == ["a", "b"]
    assert runs[1]["a"].iloc[0] == 10.0
    assert isinstance(stored_runs(frame, ["a", "b"], None), pd.DataFrame)  # no period
    assert isinstance(stored_runs(frame.iloc[:10], ["a", "b"], 1.0), pd.DataFrame)


def test_a_missing_reading_is_a_gap_stored_and_shown_as_null(
        service: Service, timed_model: bytes) -> None:
    """A historian's row with a missing reading (JSON null or NaN, an empty CSV cell, PI's
    "I/O Timeout") is a gap, as in a file: not scored, no window crosses it, stored and
    shown as null; before, the whole batch was refused and its rows lost."""
    c, op = service.client, service.auth("operator")
    service.add_unit(timed_model, "G")
    url = "/api/units/G/readings"
    body = as_json(plant(200, 4000), T0)
    body[50]["s1"] = None
    got = c.post(url, json=body, headers=op)
    assert got.status_code == 200, got.text
    out = got.json()
    assert out["scored"] == 200 and out["missing"] == 1
    assert out["scores"][49] is not None and out["scores"][50] is None
    assert out["scores"][51] is None  # a new run after the gap: it warms up again
    assert out["scores"][-1] is not None
    rows = plant(20, 4200).assign(time=[T0 + 200 + i for i in range(20)])
    text = rows[["time", "s0", "s1", "s2"]].astype(object)
    text.loc[3, "s2"], text.loc[7, "s0"] = "", "I/O Timeout"
    r = c.post(url, content=text.to_csv(index=False).encode(),
               headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["missing"] == 2, r.text
    text.loc[9, "s1"] = "broken"
    r = c.post(url, content=text.assign(time=text["time"] + 20).to_csv(index=False).encode(),
               headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "row 9, sensor 's1': 'broken'" in r.json()["detail"]
    stored = c.get(url, params={"last": 220}, headers=op).json()["values"]
    assert stored["s1"][50] is None and stored["s2"][203] is None and stored["s0"][207] is None
    assert stored["s1"][49] == pytest.approx(body[49]["s1"])
    r = c.post(url.replace("readings", "feedback"), headers=op, json={  # across the gap
        "start": T0 + 20, "end": T0 + 180, "verdict": "normal"})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text


def test_an_alarm_with_a_missing_reading_keeps_its_trend_and_explanation(
        service: Service, model_bytes: bytes) -> None:
    c, op = service.client, service.auth("operator")
    service.add_unit(model_bytes, "U")
    rows, body = alarm_rows()
    body[450]["s2"] = None  # inside the alarm
    for i in range(0, len(body), 250):
        assert c.post("/api/units/U/readings", json=body[i:i + 250],
                      headers=op).status_code == 200
    alarm = c.get("/api/alarms", params={"unit": "U"}).json()[0]
    trend = c.get(f"/api/alarms/{alarm['id']}/trend", params={"pad": 100})
    assert trend.status_code == 200, trend.text
    series = trend.json()["series"]["s2"]["value"]
    assert None in series and sum(v is None for v in series) == 1
    why = c.get(f"/api/alarms/{alarm['id']}/explanation")
    assert why.status_code == 200 and "s0" in why.text, why.text


def test_client_mistakes_are_4xx_not_crashes(service: Service, model_bytes: bytes) -> None:
    """Inputs that had crashed the service (500): a range end that is no time, a number
    past any float, an alarm id past the database's integers."""
    c, op = service.client, service.auth("operator")
    service.add_unit(model_bytes, "U")
    assert c.post("/api/units/U/readings", json=as_json(plant(30), T0),
                  headers=op).status_code == 200
    for start in ("", "NaT", "nan"):
        r = c.post("/api/units/U/feedback", headers=op,
                   json={"start": start, "end": T0 + 20, "verdict": "normal"})
        assert r.status_code == 422 and "is not a time" in r.json()["detail"], (start, r.text)
    huge = f'[{{"time": {T0 + 40}, "s0": 1{"0" * 400}, "s1": 0, "s2": 0}}]'.encode()
    r = c.post("/api/units/U/readings", content=huge,
               headers={**op, "Content-Type": "application/json"})
    assert r.status_code == 422 and "too large" in r.json()["detail"]
    big = 10**20
    for method, url in (("get", f"/api/alarms/{big}"), ("post", f"/api/alarms/{big}/acknowledge"),
                        ("get", f"/alarms/{big}"), ("get", "/api/alarms/0")):
        r = getattr(c, method)(url, headers=op)
        assert r.status_code == 422, (url, r.status_code)


def test_loose_inputs_are_refused(service: Service, model_bytes: bytes) -> None:
    """Names and bodies the service had taken with a guess."""
    c, op, eng = service.client, service.auth("operator"), service.auth("engineer")
    service.add_unit(model_bytes)
    for name in ("anonymous", "Anonymous"):  # the audit log's name of callers without login
        r = c.post("/api/users", json={"name": name, "role": "operator"}, headers=eng)
        assert r.status_code == 422 and "without a login" in r.json()["detail"]
    for name in (".", ".."):  # their pages' addresses would leave /units
        r = c.post("/api/units", headers=eng, data={"name": name, "kind": "model"},
                   files={"file": ("plant.normalcy", model_bytes)})
        assert r.status_code == 422 and "not '.' or '..'" in r.json()["detail"], r.text
    r = c.get("/api/alarms", params={"unit": "no-such-unit"})
    assert r.status_code == 404 and "GET /api/units" in r.json()["detail"]
    r = c.post("/api/units/P-101/undo", json=[3], headers=eng)
    assert r.status_code == 422 and '{"to": VERSION}' in r.json()["detail"]
    service.send("P-101", with_fault(plant(600, 6000), 400, 600), T0)
    (ep,) = c.get("/api/alarms").json()
    r = c.post(f"/api/alarms/{ep['id']}/shelve", json={"minutes": True}, headers=op)
    assert r.status_code == 422 and "minutes must be" in r.json()["detail"]
