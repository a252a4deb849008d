"""Text a client writes into the database - a verdict's note and fault name, a comment,
a user's name - that no database stores as text (a NUL character, half of a UTF-16
pair as JSON's "\\ud800" writes it) is a 422 naming the field, on SQLite and PostgreSQL;
nothing of it is stored."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import PERIOD, T0, Service, plant, with_fault

SURROGATE = "\ud800"


def _post(service: Service, path: str, body: dict, role: str = "operator") -> tuple[int, str]:
    r = service.client.post(path, content=json.dumps(body).encode(),  # "\ud800" as JSON has it
                            headers={**service.auth(role), "Content-Type": "application/json"})
    return r.status_code, r.text


@pytest.mark.parametrize("bad", ["a\x00b", f"a{SURROGATE}b"])
def test_notes_comments_and_fault_names_hold_text(service: Service, model_bytes: bytes,
                                                  bad: str) -> None:
    """A surrogate was a 500 on both databases (UnicodeEncodeError), a NUL on PostgreSQL
    (it stores no NUL in text); a NUL in a fault name was stored on SQLite."""
    service.add_unit(model_bytes)
    service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    (ep,) = service.client.get("/api/alarms").json()
    a = f"/api/alarms/{ep['id']}"
    for path, body, what in [
            (f"{a}/feedback", {"verdict": "normal", "note": bad}, "the note"),
            (f"{a}/feedback", {"verdict": "fault", "fault": bad}, "the fault name"),
            (f"{a}/acknowledge", {"comment": bad}, "the comment"),
            (f"{a}/shelve", {"minutes": 5, "comment": bad}, "the comment")]:
        code, text = _post(service, path, body)
        assert code == 422, (path, text)
        assert json.loads(text)["detail"].startswith(f"{what} holds the character "), text
    now = service.client.get(a).json()
    assert now["verdict"] is None and now["acknowledged_by"] is None and not now["shelved"]
    versions = service.client.get("/api/units/P-101/versions").json()
    assert [v["version"] for v in versions] == [1]


def test_a_shelving_comment_has_the_length_limit_of_the_others(sqlite_service: Service,
                                                               model_bytes: bytes) -> None:
    """Acknowledging and verdicts refused a comment over 2000 characters; shelving
    stored 100 000."""
    sqlite_service.add_unit(model_bytes)
    sqlite_service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    (ep,) = sqlite_service.client.get("/api/alarms").json()
    code, text = _post(sqlite_service, f"/api/alarms/{ep['id']}/shelve",
                       {"minutes": 5, "comment": "x" * 100_000})
    assert code == 422 and "the comment is longer than 2000 characters" in text


@pytest.mark.parametrize("name", [f"op{SURROGATE}", "op\u200b", "op\u2028x"])
def test_a_user_name_is_printable(service: Service, name: str) -> None:
    """A surrogate was a 500; a zero-width space made a second 'op' that looks like the
    first."""
    code, text = _post(service, "/api/users", {"name": name, "role": "viewer"}, "engineer")
    assert code == 422, text
    assert "use 1 to 64 printable characters" in text
    names = [u["name"] for u in service.client.get("/api/users",
                                                    headers=service.auth("engineer")).json()]
    assert name not in names and len(names) == 4  # the fixture's users only


def test_a_number_past_any_float_is_a_422(sqlite_service: Service, model_bytes: bytes) -> None:
    """JSON holds integers of any size: shelving 10**400 minutes was a 500 (TypeError in
    numpy's isfinite), undoing to version 10**400 a 500 (past SQLite's INTEGER), a
    feedback range starting 10**400 s after 1970 a 500 (OverflowError)."""
    svc = sqlite_service
    svc.add_unit(model_bytes)
    svc.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    (ep,) = svc.client.get("/api/alarms").json()
    huge = "1" + "0" * 400

    def post(path: str, body: str, role: str = "operator") -> tuple[int, str]:
        r = svc.client.post(path, content=body.encode(),
                            headers={**svc.auth(role), "Content-Type": "application/json"})
        return r.status_code, r.json()["detail"]

    code, said = post(f"/api/alarms/{ep['id']}/shelve", f'{{"minutes": {huge}}}')
    assert code == 422 and said.startswith("minutes must be between 0 and 10080"), said
    code, said = post("/api/units/P-101/undo", f'{{"to": {huge}}}', "engineer")
    assert code == 422 and said.startswith("'to' must be a version number"), said
    code, said = post("/api/units/P-101/feedback",
                      f'{{"start": {huge}, "end": 2, "verdict": "normal"}}')
    assert code == 422 and said.startswith("'start' is not a time"), said
    assert [v["version"] for v in svc.client.get("/api/units/P-101/versions").json()] == [1]
