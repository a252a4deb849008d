"""The operator page in a real browser: Debian's Chromium driven by Playwright.

The flow of the issue: an operator logs in, sees the alarm arrive, opens it, reads the
explanation, clicks "this was normal"; the same condition again raises no alarm; an
engineer undoes it and the alarm returns; a fault named ``<script>alert(1)</script>``
shows as text. Screenshots go to ``test-artefacts/`` (or ``$NORMALCY_ARTEFACTS``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx2
import pytest

from normalcy.service.auth import add_user
from normalcy.service.settings import Settings
from tests.service.conftest import PERIOD, T0, LiveServer, as_json, plant, with_fault

try:
    from playwright import sync_api
except ImportError:  # pragma: no cover
    if os.environ.get("CI"):
        raise  # CI installs playwright (make test): never skip there
    sync_api = pytest.importorskip("playwright.sync_api")

XSS = "<script>alert(1)</script>"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    msg = "Debian's chromium is not installed: run tests/service/system_packages.sh"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture
def artefacts() -> Path:
    root = Path(os.environ.get("NORMALCY_ARTEFACTS", "test-artefacts")) / "browser"
    root.mkdir(parents=True, exist_ok=True)
    return root


def test_operator_flow_in_a_browser(tmp_path: Path, model_bytes: bytes,
                                    artefacts: Path) -> None:
    chromium = _chromium()  # first: a skip must leave no server or socket behind
    rows = as_json(with_fault(plant(PERIOD, 6000), 400, 500), 0.0)
    settings = Settings(data=tmp_path / "d", background_fit=False)
    with LiveServer(settings) as live, httpx2.Client(base_url=live.url, timeout=60) as api:
        db = live.app.state.fleet.db
        op, eng = add_user(db, "olga", "operator"), add_user(db, "emil", "engineer")
        r = api.post("/api/units", headers={"Authorization": f"Bearer {eng}"},
                     data={"name": "tank <B>", "kind": "model"},
                     files={"file": ("m.normalcy", model_bytes)})
        assert r.status_code == 201, r.text
        sent = {"t": T0}

        def replay() -> list[int]:
            batch = [{**r, "time": sent["t"] + k} for k, r in enumerate(rows)]
            sent["t"] += len(rows)
            r = api.post("/api/units/tank <B>/readings", json=batch,
                         headers={"Authorization": f"Bearer {op}"})
            assert r.status_code == 200, r.text
            return r.json()["opened"]

        dialogs: list[str] = []
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            def login(token: str) -> None:
                page.goto(f"{live.url}/login")
                page.fill("#token", token)
                page.keyboard.press("Enter")  # the keyboard is enough
                page.wait_for_url(lambda u: u.split("?")[0] == f"{live.url}/")

            login(op)
            assert "olga (operator)" in page.inner_text("header")
            cookie = next(c for c in page.context.cookies() if c["name"] == "normalcy_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert "No alarm" in page.inner_text("#alarm-rows")
            opened = replay()
            assert opened
            row = page.locator(f"#alarm-rows tr[data-id='{opened[0]}']")
            row.wait_for(timeout=20_000)  # arrives live (server-sent events)
            assert "tank <B>" in row.inner_text()
            page.screenshot(path=str(artefacts / "1-alarm-list.png"), full_page=True)
            row.locator("a").click()
            page.wait_for_selector("#trend .chart canvas", timeout=20_000)
            assert "s0" in page.inner_text("#explanation")
            band = api.get(f"/api/alarms/{opened[0]}/trend").json()["band_text"]
            assert f"Grey band: {band};" in page.inner_text("#trend-hint")  # says which band
            page.screenshot(path=str(artefacts / "2-alarm-page.png"), full_page=True)
            page.fill("#normal-note", "pump test, expected")
            page.click("#mark-normal")
            page.wait_for_selector("p.msg")
            assert "marked normal: model version 2" in page.inner_text("p.msg")
            assert not replay()  # the same condition: no alarm now
            page.goto(f"{live.url}/")
            assert len(page.locator("#alarm-rows tr").all()) == 1

            login(eng)
            page.goto(f"{live.url}/units/tank%20%3CB%3E")
            assert "peak score" in page.inner_text("table.alarms thead")  # columns named
            page.fill("#undo-to", "1")
            page.click("#undo")
            page.wait_for_selector("p.msg")
            assert "model version 3" in page.inner_text("p.msg")
            page.screenshot(path=str(artefacts / "3-unit-after-undo.png"), full_page=True)
            again = replay()
            assert again  # the alarm returns
            page.goto(f"{live.url}/alarms/{again[0]}")
            page.fill("#fault-name", XSS)
            page.click("#mark-fault")
            page.wait_for_selector("p.msg")
            assert XSS in page.inner_text("#verdict")
            assert XSS in page.inner_text("p.msg")
            # the operator is told what the signature will do, and how to stop it
            assert "will name its alarms" in page.inner_text("p.msg")
            page.screenshot(path=str(artefacts / "4-fault-named.png"), full_page=True)
            page.goto(f"{live.url}/")
            assert XSS in page.inner_text("#alarm-rows")
            page.goto(f"{live.url}/kpis")
            page.wait_for_selector("#kpi-chart canvas", timeout=20_000)
            assert "peak in any 10 min" in page.inner_text("thead")  # a sliding window
            page.screenshot(path=str(artefacts / "5-kpis.png"), full_page=True)
            # a form without the session's CSRF token is refused
            r = page.request.post(f"{live.url}/alarms/{again[0]}/acknowledge",
                                  form={"csrf": "forged"})
            assert r.url == f"{live.url}/alarms/{again[0]}"  # the message is in no address
            assert "CSRF token is missing or stale" in r.text()
            browser.close()
        assert dialogs == []  # no script ran
        api.close()
