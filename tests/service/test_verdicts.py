"""Verdicts on one alarm: a second verdict does not silently replace the first (409
naming who judged it and how, unless it says which verdict it replaces), and an undo
takes back what the undone verdict put on alarms (the fault's name, in the KPIs too),
on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.service.conftest import PERIOD, T0, Service, plant, with_fault


def _alarm(service: Service, model: bytes) -> dict:
    service.add_unit(model)
    service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    (ep,) = service.client.get("/api/alarms").json()
    return ep


def test_a_second_verdict_on_a_judged_alarm_is_a_conflict(service: Service,
                                                          model_bytes: bytes) -> None:
    ep = _alarm(service, model_bytes)
    c, a = service.client, f"/api/alarms/{ep['id']}/feedback"
    r = c.post(a, json={"verdict": "fault", "fault": "F"}, headers=service.auth("operator"))
    assert r.status_code == 200, r.text
    first = r.json()["verdict_version"]
    r = c.post(a, json={"verdict": "normal"}, headers=service.auth("operator2"))
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (
        f"alarm {ep['id']} was already judged fault (F) by operator-1 (model version "
        f"{first}); nothing was changed. To replace that verdict, send yours again with "
        f"\"replaces\": {first} (the earlier verdict stays in the model until an engineer "
        "undoes it).")
    now = c.get(f"/api/alarms/{ep['id']}").json()
    assert (now["verdict"], now["verdict_fault"], now["verdict_by"]) == ("fault", "F",
                                                                         "operator-1")
    assert [v["version"] for v in c.get("/api/units/P-101/versions").json()] == [1, first]
    # a stale 'replaces' (another verdict came in between) is refused the same way
    r = c.post(a, json={"verdict": "normal", "replaces": first - 1},
               headers=service.auth("operator2"))
    assert r.status_code == 409
    r = c.post(a, json={"verdict": "normal", "replaces": "yes"},
               headers=service.auth("operator2"))
    assert r.status_code == 422 and "'replaces' must be" in r.json()["detail"]
    r = c.post(a, json={"verdict": "normal", "replaces": first},
               headers=service.auth("operator2"))
    assert r.status_code == 200, r.text
    assert (r.json()["verdict"], r.json()["verdict_by"]) == ("normal", "operator-2")


def test_undo_takes_a_fault_verdicts_name_off_the_alarms(service: Service,
                                                        model_bytes: bytes) -> None:
    ep = _alarm(service, model_bytes)
    c, op = service.client, service.auth("operator")
    r = c.post(f"/api/alarms/{ep['id']}/feedback", json={"verdict": "fault", "fault": "F"},
               headers=op)
    assert r.status_code == 200, r.text
    # the same fault again: the model names its alarm F
    service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0 + 10_000)
    named = [e for e in c.get("/api/alarms").json() if e["fault"] == "F"]
    assert named, "the fault's signature names the alarm"
    assert dict(c.get("/api/kpis").json()["units"]["P-101"]["faults"]) == {"F": len(named)}
    r = c.post("/api/units/P-101/undo", headers=service.auth("engineer"))
    assert r.status_code == 200, r.text
    for e in c.get("/api/alarms").json():
        assert e["fault"] is None and e["verdict"] is None, e
    assert c.get("/api/kpis").json()["units"]["P-101"]["faults"] == []


def test_the_alarm_page_replaces_only_the_verdict_it_showed(sqlite_service: Service,
                                                            model_bytes: bytes) -> None:
    """A page loaded before another operator's verdict says so; one showing it replaces it."""
    import re

    service = sqlite_service
    ep = _alarm(service, model_bytes)
    c, page = service.client, f"/alarms/{ep['id']}"
    assert c.post("/login", data={"token": service.tokens["operator2"]}).status_code == 200
    html = c.get(page).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert 'name="replaces" value=""' in html
    r = c.post(f"/api/alarms/{ep['id']}/feedback", json={"verdict": "fault", "fault": "F"},
               headers=service.auth("operator"))
    assert r.status_code == 200
    v = r.json()["verdict_version"]
    r = c.post(f"{page}/normal", data={"csrf": csrf, "replaces": ""})  # the stale page
    assert "already judged fault (F) by operator-1" in r.text
    html = c.get(page).text
    assert f'name="replaces" value="{v}"' in html
    r = c.post(f"{page}/normal", data={"csrf": csrf, "replaces": str(v)})
    assert "marked normal" in r.text
    assert c.get(f"/api/alarms/{ep['id']}").json()["verdict_by"] == "operator-2"


def test_a_fault_name_is_taken_without_its_spaces(sqlite_service: Service,
                                                  model_bytes: bytes) -> None:
    """'Leak ' from the API was taught as is: the model named its alarms 'Leak ', and the
    page's 'Leak' (which strips what is typed) was another fault in the KPIs."""
    ep = _alarm(sqlite_service, model_bytes)
    c = sqlite_service.client
    r = c.post(f"/api/alarms/{ep['id']}/feedback", json={"verdict": "fault", "fault": " Leak "},
               headers=sqlite_service.auth("operator"))
    assert r.status_code == 200 and r.json()["verdict_fault"] == "Leak", r.text
    sqlite_service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0 + 10_000)
    named = [e["fault"] for e in c.get("/api/alarms").json() if e["fault"]]
    assert named == ["Leak"]
    assert c.get("/api/kpis").json()["overall"]["faults"] == [["Leak", 1]]
    history = c.get("/api/units/P-101/history").json()
    assert history[-1]["fault"] == "Leak"
