"""The live alarm list in a real browser (Chromium, Playwright) shows a second fault of
an open alarm as it is said: ``also v1 from HH:MM:SS`` under the alarm's sensors, and the
alarm's page says it as ``normalcy monitor``'s ALSO line."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pandas as pd

from normalcy.service.auth import add_user
from normalcy.service.settings import Settings
from tests.service.conftest import T0, LiveServer, as_json
from tests.service.test_browser import _chromium, artefacts, sync_api

__all__ = ["artefacts"]  # the fixture, shared with the operator flow's test


def test_the_live_list_shows_a_second_fault(tmp_path: Path, artefacts: Path,
                                            tank: tuple[bytes, pd.DataFrame]) -> None:
    chromium = _chromium()
    model, rows = tank
    payload = as_json(rows.iloc[:2250], T0)
    with LiveServer(Settings(data=tmp_path / "d", background_fit=False)) as live, \
            httpx2.Client(base_url=live.url, timeout=60) as api:
        db = live.app.state.fleet.db
        op, eng = add_user(db, "olga", "operator"), add_user(db, "emil", "engineer")
        r = api.post("/api/units", headers={"Authorization": f"Bearer {eng}"},
                     data={"name": "T-1", "kind": "model"},
                     files={"file": ("t.normalcy", model)})
        assert r.status_code == 201, r.text

        def send(a: int, b: int) -> dict:
            r = api.post("/api/units/T-1/readings", json=payload[a:b],
                         headers={"Authorization": f"Bearer {op}"})
            assert r.status_code == 200, r.text
            return r.json()

        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live.url}/")
            # a selector, not wait_for_function: its string predicate is polled by eval,
            # which the pages' CSP refuses once the first check comes too early (a loaded host)
            page.wait_for_selector("#live:text-is('live')", timeout=20_000)
            (alarm,) = send(0, 1900)["opened"]
            row = page.locator(f"#alarm-rows tr[data-id='{alarm}']")
            row.wait_for(timeout=20_000)
            assert "h1" in row.inner_text() and "also" not in row.inner_text()
            said = send(1900, 2250)["causes"]
            assert [c["sensor"] for c in said] == ["v1"]
            also = row.locator(".also")
            also.wait_for(timeout=5_000)  # arrives live (the alarm-cause event)
            when = pd.Timestamp(said[0]["start"]).strftime("%H:%M:%S")
            assert also.inner_text() == f"also v1 from {when}"
            page.screenshot(path=str(artefacts / "6-alarm-list-second-fault.png"),
                            full_page=True)
            row.locator("a").click()
            assert "sensor v1 now also reads off" in page.inner_text("#causes")
            browser.close()
