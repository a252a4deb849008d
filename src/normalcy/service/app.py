"""The FastAPI application: routers, error answers, lifespan (database, models, demo)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from normalcy.exceptions import InputError, ModelFileError
from normalcy.service.db import Database
from normalcy.service.errors import ClientError
from normalcy.service.flash import load_key
from normalcy.service.fleet import Fleet
from normalcy.service.settings import Settings

log = logging.getLogger("normalcy.service")
HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app; the database is migrated and the models loaded at start-up.

    Examples
    --------
    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(Settings(data=tempfile.mkdtemp()))
    >>> with TestClient(app) as client:
    ...     client.get("/healthz").json()["status"]
    'ok'
    """
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        Path(settings.data).mkdir(parents=True, exist_ok=True)
        app.state.flash_key = load_key(settings.data)
        db = Database(settings.database_url)
        db.migrate()
        fleet = Fleet(settings, db)
        fleet.start()
        app.state.fleet = fleet
        replay = None
        if settings.demo:
            from normalcy.service.demo import start_demo

            replay = start_demo(fleet)
        try:
            yield
        finally:
            if replay is not None:
                replay.stop()
            db.dispose()

    from normalcy.service.routers import alarms, api_docs, pages, system, units, users

    # /api/docs is api_docs's page: FastAPI's loads Swagger UI from a CDN, which the CSP
    # (and a plant's network) refuses
    app = FastAPI(title="normalcy", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=api_docs.OPENAPI_URL)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    from normalcy.service.bodylimit import BodyLimit

    app.add_middleware(BodyLimit, settings=settings)  # type: ignore[arg-type]

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(ClientError)
    async def client_error(request: Request, exc: ClientError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ModelFileError)
    async def model_error(request: Request, exc: ModelFileError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}"
                 for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"},
                            status_code=422)

    app.include_router(system.router)
    app.include_router(units.router)
    app.include_router(alarms.router)
    app.include_router(users.router)
    app.include_router(pages.router)
    app.include_router(api_docs.router)
    swagger = api_docs.assets()
    if swagger is not None:
        app.mount(api_docs.ASSETS_URL, StaticFiles(directory=swagger), name="api-docs")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
