"""The web pages say only what the service said: no text from a crafted link, escaped."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from normalcy.service import flash
from tests.service.conftest import Service

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
