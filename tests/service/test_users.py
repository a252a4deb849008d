"""Revoking a user: the token and the browser sessions are refused at once, by the API
and the pages, on SQLite and PostgreSQL; the audit log says who did it."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalcy.service.auth import hash_token, revoke_user, user_for_token
from normalcy.service.db import Database
from tests.service.conftest import T0, Service, as_json, backend_url, plant, schema_at


def test_a_revoked_user_is_refused_at_once(service: Service, model_bytes: bytes) -> None:
    c, eng = service.client, service.auth("engineer")
    service.add_unit(model_bytes, "U")
    token = c.post("/api/users", json={"name": "nina", "role": "operator"},
                   headers=eng).json()["token"]
    nina = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=nina).json()["name"] == "nina"
    c.post("/login", data={"token": token})  # a browser session too
    assert c.get("/api/me").json()["name"] == "nina"
    assert "nina (operator)" in c.get("/").text

    assert c.post("/api/users/nina/revoke", headers=service.auth("operator")).status_code == 403
    r = c.post("/api/users/nina/revoke", headers=eng)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_by"] == "engineer-1" and r.json()["already"] is False

    r = c.get("/api/me", headers=nina)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    r = c.post("/api/units/U/readings", json=as_json(plant(5), T0), headers=nina)
    assert r.status_code == 401
    assert c.get("/api/me").json()["logged_in"] is False  # the session ended with it
    assert "nina (operator)" not in c.get("/").text
    assert "not valid" in c.post("/login", data={"token": token}).text

    listed = {u["name"]: u for u in c.get("/api/users", headers=eng).json()}
    assert listed["nina"]["revoked_by"] == "engineer-1" and listed["nina"]["revoked_at"]
    assert listed["operator-1"]["revoked_at"] is None
    log = c.get("/api/writes", headers=eng).json()
    assert (log[0]["action"], log[0]["user"], log[0]["detail"]) == (
        "revoke-user", "engineer-1", {"user": "nina", "role": "operator"})

    again = c.post("/api/users/nina/revoke", headers=eng)
    assert again.status_code == 200 and again.json()["already"] is True
    assert len(c.get("/api/writes", headers=eng).json()) == len(log)  # logged once
    r = c.post("/api/users/nobody/revoke", headers=eng)
    assert r.status_code == 404 and "GET /api/users" in r.json()["detail"]
    r = c.post("/api/users", json={"name": "nina", "role": "viewer"}, headers=eng)
    assert r.status_code == 409 and "revoked" in r.json()["detail"]


def test_user_revoke_on_the_command_line_reaches_a_running_service(
        sqlite_service: Service, tmp_path: Path, capsys) -> None:
    from normalcy.cli.main import main

    c, op = sqlite_service.client, sqlite_service.auth("operator")
    data = str(sqlite_service.settings.data)
    assert c.get("/api/me", headers=op).status_code == 200
    assert main(["user", "revoke", "operator-1", "--data", data]) == 0
    assert "revoked: their token and browser sessions are refused" in capsys.readouterr().out
    assert c.get("/api/me", headers=op).status_code == 401
    log = c.get("/api/writes", headers=sqlite_service.auth("engineer")).json()
    assert log[0]["action"] == "revoke-user" and log[0]["user"].endswith("(command line)")
    assert main(["user", "revoke", "operator-1", "--data", data]) == 0
    assert "was already revoked on" in capsys.readouterr().out
    assert main(["user", "revoke", "nobody", "--data", data]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["user", "revoke", "x", "--data", str(tmp_path / "elsewhere")]) == 2
    assert "no service database in" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere").exists()


def test_user_add_on_the_command_line_is_in_the_audit_log(sqlite_service: Service,
                                                          capsys) -> None:
    """A user added from the command line is recorded as one added through the API is:
    who added them, the name and the role (never the token)."""
    from normalcy.cli.main import main

    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    data = str(sqlite_service.settings.data)
    assert main(["user", "add", "piet", "--role", "operator", "--data", data]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    log = c.get("/api/writes", headers=eng).json()
    assert (log[0]["action"], log[0]["detail"]) == ("add-user",
                                                    {"user": "piet", "role": "operator"})
    assert log[0]["user"].endswith("(command line)") and token not in str(log)
    r = c.post("/api/users", json={"name": "tess", "role": "viewer"}, headers=eng)
    assert r.status_code == 201
    log = c.get("/api/writes", headers=eng).json()
    assert (log[0]["action"], log[0]["user"], log[0]["detail"]) == (
        "add-user", "engineer-1", {"user": "tess", "role": "viewer"})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_from_before_revocation_upgrades(request, tmp_path: Path,
                                                    backend: str) -> None:
    from sqlalchemy import text

    url = backend_url(request, tmp_path, backend)
    with schema_at("0002", url) as conn:
        conn.execute(text("INSERT INTO users (name, role, token_hash, created_at) "
                          "VALUES ('old', 'operator', :h, 0)"), {"h": hash_token("nrm_old")})
    database = Database(url)
    try:
        database.migrate()
        assert user_for_token(database, "nrm_old") is not None
        assert revoke_user(database, "old", "ana").before is False
        assert user_for_token(database, "nrm_old") is None
    finally:
        database.dispose()


def test_a_new_token_replaces_a_lost_one_at_once(sqlite_service: Service, capsys) -> None:
    """A leaked token is replaced, not the user: the old token and the user's browser
    session are refused at once, the new one works, the audit log says who did it; a
    revoked user gets none."""
    from normalcy.cli.main import main

    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    old = sqlite_service.auth("operator")
    assert c.get("/api/me", headers=old).status_code == 200
    assert c.post("/login", data={"token": old["Authorization"][7:]}).status_code in (200, 303)
    assert c.get("/api/me").json()["logged_in"] is True  # a browser session of the old token
    r = c.post("/api/users/operator-1/token", headers=eng)
    assert r.status_code == 201
    new = {"Authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/api/me", headers=old).status_code == 401
    assert c.get("/api/me").json()["logged_in"] is False
    assert c.get("/api/me", headers=new).json()["name"] == "operator-1"
    log = c.get("/api/writes", headers=eng).json()
    assert (log[0]["action"], log[0]["user"], log[0]["detail"]) == (
        "new-token", "engineer-1", {"user": "operator-1", "role": "operator"})
    assert r.json()["token"] not in str(log)
    data = str(sqlite_service.settings.data)
    assert main(["user", "token", "operator-1", "--data", data]) == 0
    third = capsys.readouterr().out.strip().splitlines()[-1]
    assert c.get("/api/me", headers=new).status_code == 401
    assert c.get("/api/me", headers={"Authorization": f"Bearer {third}"}).status_code == 200
    assert c.post("/api/users/nobody/token", headers=eng).status_code == 404
    assert c.post("/api/users/operator-1/revoke", headers=eng).status_code == 200
    r = c.post("/api/users/operator-1/token", headers=eng)
    assert r.status_code == 409 and "revoked" in r.json()["detail"]
    assert c.post("/api/users/engineer-1/token",
                  headers=sqlite_service.auth("viewer")).status_code == 403  # engineers


def test_adding_a_user_with_a_field_it_does_not_take_is_refused(
        sqlite_service: Service) -> None:
    """{"name": "bob", "role": "operator", "units": ["P-101"]} added bob with the field
    dropped in silence: an operator of every unit, where the engineer meant one."""
    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    r = c.post("/api/users", headers=eng,
               json={"name": "bob", "role": "operator", "units": ["P-101"]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == ("adding a user takes name, role; unknown field(s) "
                                  "['units'].")
    assert "bob" not in [u["name"] for u in c.get("/api/users", headers=eng).json()]
    r = c.post("/api/users", headers=eng, json={"name": "bob", "role": "operator"})
    assert r.status_code == 201, r.text
