"""The web pages say only what the service said: no text from a crafted link, escaped."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest

from normalcy.service import flash
from tests.service.conftest import T0, Service

LURE = "Call 555-0100 to reset your password"


@pytest.mark.parametrize("path", ["/", "/units", "/login", "/kpis"])
def test_a_crafted_link_makes_no_page_say_anything(sqlite_service: Service, path: str) -> None:
    c = sqlite_service.client
    r = c.get(path, params={"error": LURE, "msg": LURE, "message": LURE, "notice": LURE})
    assert r.status_code == 200
    assert "555-0100" not in r.text
    assert 'class="error"' not in r.text and 'class="msg"' not in r.text


def test_a_failed_login_says_so_once(sqlite_service: Service) -> None:
    c = sqlite_service.client
    r = c.post("/login", data={"token": "nrm_not-a-token"})
    assert r.status_code == 200 and r.url.path == "/login" and not r.url.query
    assert '<p class="error" role="alert">that token is not valid' in r.text
    again = c.get("/login")
    assert "not valid" not in again.text  # shown once, then spent


def test_a_message_naming_what_a_user_typed_is_escaped(sqlite_service: Service) -> None:
    c = sqlite_service.client
    name = "<img src=x onerror=alert(1)>"
    r = c.get(f"/units/{quote(name)}")
    assert r.url.path == "/units"
    assert "unit &#39;&lt;img src=x onerror=alert(1)&gt;&#39; does not exist" in r.text
    assert "<img src=x" not in r.text


def test_only_a_fresh_cookie_the_service_signed_is_shown(sqlite_service: Service) -> None:
    c = sqlite_service.client
    key = c.app.state.flash_key  # type: ignore[attr-defined]
    good = flash.seal(key, "msg", "ok")
    forged = {"another key": flash.seal(b"k" * 32, "error", LURE),
              "an hour old": flash.seal(key, "error", LURE, now=time.time() - 3600),
              "tampered": good[:-1] + ("1" if good.endswith("0") else "0"),
              "not a seal": LURE}
    for why, value in forged.items():
        c.cookies.set(flash.COOKIE, value)
        assert "555-0100" not in c.get("/units").text, why
    c.cookies.set(flash.COOKIE, flash.seal(key, "error", LURE))
    r = c.get("/units")
    assert f'<p class="error" role="alert">{LURE}</p>' in r.text
    assert f'{flash.COOKIE}=""' in r.headers["set-cookie"]  # the page spent it


def test_the_key_is_kept_in_the_data_folder(tmp_path) -> None:
    key = flash.load_key(tmp_path)
    assert len(key) == 32 and flash.load_key(tmp_path) == key
    assert (tmp_path / flash.KEY_FILE).stat().st_mode & 0o077 == 0
    (tmp_path / flash.KEY_FILE).write_text("broken")
    with pytest.raises(OSError, match="delete it and restart"):
        flash.load_key(tmp_path)


def test_a_standing_alarm_stays_on_the_list_after_200_newer_ones(
        sqlite_service: Service, model_bytes: bytes) -> None:
    """The alarm list showed the newest 200 alarms only: an alarm still active and
    unacknowledged, with 200 newer (cleared) ones after it on a chattering unit, left the
    operator's list while it was in force."""
    from normalcy.service.db import Episode

    svc = sqlite_service
    svc.add_unit(model_bytes)
    fleet = svc.client.app.state.fleet  # type: ignore[attr-defined]
    rt = fleet.units["P-101"]
    with fleet.db.write() as s:
        standing = Episode(unit_id=rt.unit_id, start_seq=0, end_seq=0, start_t=T0,
                           end_t=T0, peak=9.0, active=True, state="active-unacknowledged")
        s.add(standing)
        for i in range(1, 206):
            s.add(Episode(unit_id=rt.unit_id, start_seq=i, end_seq=i, start_t=T0 + i,
                          end_t=T0 + i, peak=1.0, active=False, state="normal"))
        s.flush()
        sid = standing.id
    for page in ("/", "/fragments/alarms"):
        html = svc.client.get(page).text
        ids = re.findall(r'data-id="(\d+)"', html)
        assert str(sid) in ids, page
        assert len(ids) == 201 and ids[-1] == str(sid)  # the newest 200, then it
