"""What a browser (or a script posing as one) may send the pages' forms and the API's
CSRF header: text that is not ASCII where a number or a token is due is refused with a
message, never a 500."""

from __future__ import annotations

import re

from tests.service.conftest import PERIOD, T0, Service, plant, with_fault


def _logged_in(service: Service, role: str) -> str:
    """Log the client in as ``role``; the session's CSRF token."""
    c = service.client
    assert c.post("/login", data={"token": service.tokens[role]}).status_code == 200
    html = c.get("/units").text
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _alarm(service: Service, model: bytes) -> int:
    service.add_unit(model)
    service.send("P-101", with_fault(plant(PERIOD, 6000), 400, 500), T0)
    (ep,) = service.client.get("/api/alarms").json()
    return int(ep["id"])


def test_a_csrf_token_that_is_not_ascii_is_refused(sqlite_service: Service,
                                                   model_bytes: bytes) -> None:
    """It was a 500: hmac.compare_digest raises TypeError on non-ASCII text."""
    ep = _alarm(sqlite_service, model_bytes)
    _logged_in(sqlite_service, "operator")
    c = sqlite_service.client
    r = c.post(f"/api/alarms/{ep}/acknowledge", json={},
               headers={"X-CSRF-Token": "é".encode("latin-1")})  # type: ignore[dict-item]
    assert r.status_code == 403, r.text
    assert "CSRF token" in r.json()["detail"]
    r = c.post(f"/alarms/{ep}/acknowledge", data={"csrf": "jeton-é"})
    assert r.status_code == 200 and "CSRF token is missing or stale" in r.text
    assert c.get(f"/api/alarms/{ep}").json()["acknowledged_by"] is None


def test_a_version_written_in_superscript_digits_is_refused(sqlite_service: Service,
                                                            model_bytes: bytes) -> None:
    """It was a 500: '²'.isdigit() is True, int('²') a ValueError."""
    ep = _alarm(sqlite_service, model_bytes)
    csrf = _logged_in(sqlite_service, "engineer")
    c = sqlite_service.client
    r = c.post("/units/P-101/undo", data={"csrf": csrf, "to": "²"})
    assert r.status_code == 200 and "is not a version number" in r.text, r.text
    assert [v["version"] for v in c.get("/api/units/P-101/versions").json()] == [1]
    r = c.post(f"/alarms/{ep}/normal", data={"csrf": csrf, "replaces": "²"})
    assert r.status_code == 200 and "marked normal" in r.text, r.text
