"""``/api/docs`` works offline under the service's Content-Security-Policy: every script
and style is the service's own, and Swagger UI draws the API in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from normalcy.service.routers import api_docs
from normalcy.service.settings import Settings
from tests.service.conftest import LiveServer, Service


def test_the_docs_page_loads_only_the_services_own_scripts(sqlite_service: Service) -> None:
    c = sqlite_service.client
    r = c.get("/api/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    script_src = next(d.split() for d in csp.split(";") if d.split()[0] == "script-src")
    assert script_src == ["script-src", "'self'"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, flags=re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
    urls = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts]  # type: ignore[union-attr]
    urls += re.findall(r'<link[^>]*href="([^"]+)"', r.text)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url  # same origin
        got = c.get(url)
        assert got.status_code == 200 and got.content, url
    assert c.get(api_docs.OPENAPI_URL).json()["paths"]


def test_without_swagger_ui_the_page_points_to_the_description(sqlite_service: Service,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(api_docs, "assets", lambda: None)
    r = sqlite_service.client.get("/api/docs")
    assert r.status_code == 503
    assert "pip install" in r.text and f'href="{api_docs.OPENAPI_URL}"' in r.text


def test_swagger_ui_draws_the_api_in_a_browser_offline(tmp_path: Path) -> None:
    from tests.service.test_browser import _chromium, sync_api  # skips without them

    chromium = _chromium()
    with LiveServer(Settings(data=tmp_path / "d", background_fit=False)) as live:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            outside: list[str] = []
            problems: list[str] = []

            def offline(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith(live.url):
                    route.continue_()
                else:  # a plant's network reaches nothing else
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error"
                    else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{live.url}/api/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            assert "/api/units/{name}/readings" in page.inner_text("#swagger-ui")
            browser.close()
    assert outside == [] and problems == []
