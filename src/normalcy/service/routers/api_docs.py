"""``/api/docs``: the interactive API documentation (Swagger UI), served by the service.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script: the
service's Content-Security-Policy (``script-src 'self'``) refuses both, and a plant's
network often reaches no CDN, so the page stayed blank. Here Swagger UI's files come
from the ``fastapi-offline`` package (a dependency of the ``service`` extra, which ships
them) under ``/api/docs/assets``, and the page starts it with ``/static/api-docs.js``:
every script is the service's own. Without that package the page says so and points to
``/api/openapi.json``, the API's description, which any OpenAPI tool reads.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

ASSETS_URL = "/api/docs/assets"
OPENAPI_URL = "/api/openapi.json"
router = APIRouter(include_in_schema=False)


def assets() -> Path | None:
    """The folder of Swagger UI's files (``fastapi-offline``'s), or None without it."""
    try:
        folder = Path(str(resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>normalcy API</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
<link rel="icon" href="{ASSETS_URL}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{OPENAPI_URL}"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""

MISSING = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>normalcy API</title></head>
<body>
<h1>normalcy API</h1>
<p>The interactive documentation needs the <code>fastapi-offline</code> package, which
ships Swagger UI: <code>pip install 'normalcy[service]'</code>, then restart the service.</p>
<p>The API's description is at <a href="{OPENAPI_URL}">{OPENAPI_URL}</a> (OpenAPI).</p>
</body>
</html>
"""


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    """Swagger UI over ``/api/openapi.json``, every script served by the service."""
    if assets() is None:
        return HTMLResponse(MISSING, status_code=503)
    return HTMLResponse(PAGE)
