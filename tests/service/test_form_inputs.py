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


def _chunks(total: int, size: int = 2**16):  # type: ignore[no-untyped-def]
    """A body of ``total`` bytes sent in chunks, without a Content-Length."""
    head = (b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n'
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="h.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\ntime,s0\r\n")
    yield head
    sent = len(head)
    while sent < total:
        yield b"\x00" * size  # not a CSV: without the limit, a quick 422
        sent += size
    yield b"\r\n--B--\r\n"


def test_a_chunked_upload_past_the_limit_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A body sent in chunks has no Content-Length for the upload's check: a 3 MB history
    was read whole past a 1 MB limit (the API answered 201 or 422 after it), and the units
    page read an anonymous caller's whole form before saying 'log in first'."""
    from normalcy.service.settings import Settings
    from tests.service.conftest import start_service

    gen = start_service(Settings(data=tmp_path / "d", background_fit=False,
                                 max_upload_bytes=2**20, max_body_bytes=2**16))
    svc = next(gen)
    c, ctype = svc.client, {"Content-Type": "multipart/form-data; boundary=B"}
    r = c.post("/api/units", content=_chunks(3 * 2**20),
               headers={**svc.auth("engineer"), **ctype})
    assert r.status_code == 413, r.text
    assert r.json()["detail"] == ("the body is over the limit of 1048576 bytes; send a "
                                  "smaller file or batch.")
    assert c.get("/api/units").json() == []
    r = c.post("/units", content=_chunks(3 * 2**20), headers=ctype, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/units"  # log in first
    r = c.post("/api/units/P-101/readings", content=(b"x" * 2**14 for _ in range(8)),
               headers={**svc.auth("operator"), "Content-Type": "text/csv"})
    assert r.status_code == 413, r.text  # a batch: max_body_bytes
    _logged_in(svc, "engineer")
    r = c.post("/units", content=_chunks(3 * 2**20), headers=ctype)
    assert r.status_code == 200 and "over the limit of 1048576 bytes" in r.text
    gen.close()


def test_a_unit_name_refused_on_the_units_page_is_said_there(sqlite_service: Service,
                                                             model_bytes: bytes) -> None:
    """The page answered the API's JSON ({"detail": "unit name '../x' is not valid ..."},
    422) in place of the units page with the message."""
    csrf = _logged_in(sqlite_service, "engineer")
    r = sqlite_service.client.post("/units", data={"csrf": csrf, "name": "../x",
                                                   "kind": "model"},
                                   files={"file": ("m.normalcy", model_bytes)})
    assert r.status_code == 200 and r.url.path == "/units", r.text
    assert "unit name &#39;../x&#39; is not valid" in r.text


def test_pages_that_need_a_login_read_nothing_first(tmp_path, model_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    """With NORMALCY_ANONYMOUS_READ=false an anonymous caller was sent to the login page
    only after the page was made: /alarms/999 went to '/' saying 'alarm 999 does not
    exist' and /units/NAME to /units saying whether the unit exists, while /alarms/1 had
    its explanation computed."""
    from normalcy.service.settings import Settings
    from tests.service.conftest import start_service

    gen = start_service(Settings(data=tmp_path / "d", background_fit=False,
                                 anonymous_read=False))
    svc = next(gen)
    svc.add_unit(model_bytes)
    c = svc.client
    for path in ("/alarms/999", "/units/P-101", "/units/nope", "/", "/units", "/kpis",
                 "/fragments/alarms"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", (path, r.headers)
        assert "normalcy_flash" not in r.headers.get("set-cookie", ""), path
    gen.close()


def test_a_flash_cookie_that_is_not_ascii_is_ignored(sqlite_service: Service) -> None:
    """Every page was a 500 while the browser held it (hmac.compare_digest raises
    TypeError on non-ASCII text): a cookie set by a sibling host, or garbled on the way."""
    r = sqlite_service.client.get("/", headers={"Cookie": "normalcy_flash=a.\xe9".encode(
        "latin-1")})  # type: ignore[dict-item]
    assert r.status_code == 200, r.text


def test_the_units_page_reads_a_pq_history_as_parquet(sqlite_service: Service) -> None:
    """The page took only names ending '.parquet' (in lower case) for Parquet: a history
    'H.PQ' was read as CSV and refused as 'a binary file' (the API read it)."""
    import io

    import numpy as np

    hist = plant(1200).assign(time=T0 + np.arange(1200.0))
    buf = io.BytesIO()
    hist.to_parquet(buf)
    csrf = _logged_in(sqlite_service, "engineer")
    r = sqlite_service.client.post("/units", data={"csrf": csrf, "name": "pq",
                                                   "kind": "history"},
                                   files={"file": ("H.PQ", buf.getvalue())})
    assert r.status_code == 200 and r.url.path == "/units/pq", r.text
    assert sqlite_service.client.get("/api/units/pq").json()["status"] == "ready"


def test_shelving_with_the_minutes_emptied_changes_nothing(sqlite_service: Service,
                                                           model_bytes: bytes) -> None:
    """'Shelve' pressed with the minutes box emptied unshelved the alarm (an empty box was
    read as 0), the page saying 'unshelved'."""
    ep = _alarm(sqlite_service, model_bytes)
    csrf = _logged_in(sqlite_service, "operator")
    c = sqlite_service.client
    r = c.post(f"/alarms/{ep}/shelve", data={"csrf": csrf, "minutes": "60", "note": "x"})
    assert "shelved for 60 min" in r.text
    r = c.post(f"/alarms/{ep}/shelve", data={"csrf": csrf, "minutes": " ", "note": ""})
    assert "give the minutes to shelve the alarm for (0 unshelves it); nothing was " \
        "changed." in r.text, r.text
    got = c.get(f"/api/alarms/{ep}").json()
    assert got["shelved"] and got["shelve_comment"] == "x"
    r = c.post(f"/alarms/{ep}/shelve", data={"csrf": csrf, "minutes": "0"})
    assert "unshelved" in r.text and not c.get(f"/api/alarms/{ep}").json()["shelved"]


def test_the_alarm_page_says_the_zone_of_its_shelving(sqlite_service: Service,
                                                      model_bytes: bytes) -> None:
    """The badge said 'shelved until 2027-01-15T09:00:00', a UTC time without its zone,
    which an operator reads as the plant's clock."""
    ep = _alarm(sqlite_service, model_bytes)
    csrf = _logged_in(sqlite_service, "operator")
    c = sqlite_service.client
    r = c.post(f"/alarms/{ep}/shelve", data={"csrf": csrf, "minutes": "60"})
    until = c.get(f"/api/alarms/{ep}").json()["shelved_until"]
    assert f"{until[:19].replace('T', ' ')} UTC</time>" in r.text, r.text
