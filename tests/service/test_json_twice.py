"""JSON bodies that were taken with a guess: a field named twice (``json.loads`` keeps
the last value in silence, and the service stored it; a CSV header naming a column twice
is refused) and a batch object with a field besides ``rows`` (dropped in silence)."""

from __future__ import annotations

from tests.service.conftest import T0, Service


def test_a_reading_naming_a_sensor_twice_is_refused(sqlite_service: Service,
                                                   model_bytes: bytes) -> None:
    svc = sqlite_service
    c = svc.client
    svc.add_unit(model_bytes)
    headers = {**svc.auth("operator"), "content-type": "application/json"}
    body = f'[{{"time": {T0}, "s0": 1.0, "s1": 0.2, "s0": 2.0, "s2": 0.3}}]'
    r = c.post("/api/units/P-101/readings", headers=headers, content=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == ("a JSON object names 's0' twice (1.0, then 2.0); send each "
                                  "field once.")
    assert c.get("/api/units/P-101").json()["rows"] == 0  # nothing stored
    body = f'{{"rows": [], "rows": [{{"time": {T0}, "s0": 1, "s1": 0.2, "s2": 0.3}}]}}'
    r = c.post("/api/units/P-101/readings", headers=headers, content=body)
    assert r.status_code == 422 and "names 'rows' twice" in r.json()["detail"]
    # the other JSON bodies too
    r = c.post("/api/units/P-101/undo", headers={**svc.auth("engineer"),
                                                 "content-type": "application/json"},
               content='{"to": 1, "to": 2}')
    assert r.status_code == 422 and "names 'to' twice (1, then 2)" in r.json()["detail"]
    body = f'[{{"time": {T0}, "s0": 1.0, "s1": 0.2, "s2": 0.3}}]'
    assert c.post("/api/units/P-101/readings", headers=headers, content=body).status_code == 200


def test_a_batch_object_with_a_field_besides_rows_is_refused(sqlite_service: Service,
                                                            model_bytes: bytes) -> None:
    """{"rows": [...], "timezone": "Europe/Berlin"} was taken and its field dropped in
    silence: the times without an offset were read as UTC, an hour off the sender's."""
    svc = sqlite_service
    svc.add_unit(model_bytes)
    row = {"time": "2027-01-15T09:00:00", "s0": 0.1, "s1": 0.2, "s2": 0.3}
    r = svc.client.post("/api/units/P-101/readings", headers=svc.auth("operator"),
                        json={"rows": [row], "timezone": "Europe/Berlin"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "a batch of readings as an object takes only 'rows'; unknown field(s) ['timezone']: "
        "remove them. A time without a UTC offset is UTC (or the clock time of the zone the "
        "unit was created with); write the offset in each time for another zone.")
    assert svc.client.get("/api/units/P-101").json()["rows"] == 0
    r = svc.client.post("/api/units/P-101/readings", headers=svc.auth("operator"),
                        json={"rows": [row]})
    assert r.status_code == 200, r.text


def test_a_body_nested_too_deep_is_a_400(sqlite_service: Service, model_bytes: bytes) -> None:
    """'[[[[...' 200 000 deep (400 kB, under the body limit) was a 500: Python's JSON
    reader gave up with a RecursionError."""
    svc = sqlite_service
    svc.add_unit(model_bytes)
    body = "[" * 200_000 + "]" * 200_000
    for url, role in (("/api/units/P-101/readings", "operator"),
                      ("/api/units/P-101/feedback", "operator"),
                      ("/api/units/P-101/undo", "engineer")):
        r = svc.client.post(url, content=body, headers={**svc.auth(role),
                                                        "content-type": "application/json"})
        assert r.status_code == 400, (url, r.text)
        assert r.json()["detail"] == ("the body nests JSON lists or objects too deeply; send "
                                      "a list of flat row objects (or a flat object).")
