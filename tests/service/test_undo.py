"""Undo by two engineers at once: an undo says which version it was made on ("from",
the unit page's version), and one made on a version another change replaced is a 409
that changes nothing - not a second undo that takes back a change nobody chose."""

from __future__ import annotations

import re
import threading

from tests.service.conftest import PERIOD, T0, Service, plant, with_fault


def _two_verdicts(service: Service, model: bytes) -> None:
    """Unit P-101 at version 3: an upload (1) and two "normal" verdicts on ranges (2, 3)."""
    service.add_unit(model)
    service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    for a, b in ((T0 + 100, T0 + 200), (T0 + 600, T0 + 700)):
        r = service.client.post("/api/units/P-101/feedback", headers=service.auth("operator"),
                                json={"start": a, "end": b, "verdict": "normal"})
        assert r.status_code == 200, r.text


def _versions(service: Service) -> list[tuple[int, str]]:
    got = service.client.get("/api/units/P-101/versions").json()
    return [(v["version"], v["action"]) for v in got]


def test_two_undos_made_on_one_version_take_back_one_change(service: Service,
                                                           model_bytes: bytes) -> None:
    _two_verdicts(service, model_bytes)
    c, eng = service.client, service.auth("engineer")
    go = threading.Barrier(2)
    said: list[tuple[int, str]] = []

    def undo() -> None:
        go.wait()
        r = c.post("/api/units/P-101/undo", json={"from": 3}, headers=eng)
        said.append((r.status_code, r.json().get("detail", "")))

    both = [threading.Thread(target=undo) for _ in range(2)]
    for t in both:
        t.start()
    for t in both:
        t.join()
    assert sorted(code for code, _ in said) == [200, 409], said
    assert _versions(service) == [(1, "upload"), (2, "feedback"), (3, "feedback"), (4, "undo")]
    (detail,) = [d for code, d in said if code == 409]
    assert detail == ("unit 'P-101' is at model version 4 (undo by engineer-1), not at "
                      "version 3 that you saw; nothing was changed. Look at its versions, "
                      "and undo again from version 4 if it is still needed.")
    assert c.post("/api/units/P-101/undo", json={"from": 4}, headers=eng).status_code == 200
    r = c.post("/api/units/P-101/undo", json={"from": "4"}, headers=eng)
    assert r.status_code == 422 and "'from' must be a version number" in r.json()["detail"]


def test_the_unit_page_undoes_only_the_version_it_showed(sqlite_service: Service,
                                                        model_bytes: bytes) -> None:
    service = sqlite_service
    _two_verdicts(service, model_bytes)
    c = service.client
    assert c.post("/login", data={"token": service.tokens["engineer"]}).status_code == 200
    html = c.get("/units/P-101").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert 'name="from" value="3"' in html
    # another engineer undoes first; this page still shows version 3
    r = c.post("/api/units/P-101/undo", headers={"Authorization": "Bearer "
                                                  + service.tokens["engineer"]})
    assert r.status_code == 200
    r = c.post("/units/P-101/undo", data={"csrf": csrf, "from": "3", "to": ""})
    assert "is at model version 4 (undo by engineer-1), not at version 3" in r.text
    assert len(_versions(service)) == 4
    r = c.post("/units/P-101/undo", data={"csrf": csrf, "from": "4", "to": ""})
    assert "model version 5 in force" in r.text


def test_undoing_the_verdict_that_closed_an_alarm_in_force_opens_it(
        sqlite_service: Service, model_bytes: bytes) -> None:
    """A fault going on, an operator's "normal" verdict closed its alarm, and an engineer
    undid the verdict: the unit was in alarm again (the readings' answers said
    "in_alarm": true) but no alarm was open - the monitor, primed again on the stored
    rows, was in the episode already, so no reading opened one until the fault ended and
    came back. Now the undo opens it."""
    service = sqlite_service
    c, op = service.client, service.auth("operator")
    service.add_unit(model_bytes)
    rows = with_fault(plant(PERIOD, 6000), 400, PERIOD)  # the fault does not end
    service.send("P-101", rows.iloc[:600], T0)
    (ep,) = c.get("/api/alarms").json()
    assert ep["active"]
    r = c.post(f"/api/alarms/{ep['id']}/feedback", json={"verdict": "normal"}, headers=op)
    assert r.status_code == 200 and not r.json()["active"], r.text
    service.send("P-101", rows.iloc[600:800], T0 + 600)
    before = {e["id"] for e in c.get("/api/alarms").json()}
    assert not [e for e in c.get("/api/alarms").json() if e["active"]]
    r = c.post("/api/units/P-101/undo", headers=service.auth("engineer"))
    assert r.status_code == 200, r.text
    (now,) = [e for e in c.get("/api/alarms").json() if e["active"]]
    assert now["id"] not in before and now["state"] == "active-unacknowledged"
    assert "s0" in now["sensors"] and now["start_row"] >= 600
    out = service.send("P-101", rows.iloc[800:1100], T0 + 800)
    assert all(o["in_alarm"] and not o["opened"] for o in out)  # it goes on
    assert [e["id"] for e in c.get("/api/alarms").json() if e["active"]] == [now["id"]]
