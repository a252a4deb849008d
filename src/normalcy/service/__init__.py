"""The operator service: ``normalcy serve`` (REST API, operator web page, alarm database).

Needs the ``service`` extra (``pip install 'normalcy[service]'``): FastAPI, uvicorn,
SQLAlchemy 2, Alembic (and psycopg for PostgreSQL). Nothing outside this package
imports it, so the core works without the extra.

Layout: :mod:`~normalcy.service.settings` (one settings object),
:mod:`~normalcy.service.db` (tables, engines, migrations), :mod:`~normalcy.service.modelops`
(the one adapter to the detector's operator functions), :mod:`~normalcy.service.units`
(per-unit streaming monitors, locks and the writes that change a model),
:mod:`~normalcy.service.auth` (users, tokens, sessions, CSRF), ``routers/`` (one router per
resource), :mod:`~normalcy.service.app` (the FastAPI application) and
:mod:`~normalcy.service.cli` (``normalcy serve``, ``normalcy user``).
"""
