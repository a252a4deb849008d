"""``normalcy serve``, ``normalcy user add``, ``normalcy user revoke`` and ``normalcy user
token`` (registered by ``add_service_commands``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from normalcy.exceptions import InputError


def _settings(a: argparse.Namespace) -> Any:
    from normalcy.service.settings import Settings

    return Settings.from_env(data=a.data, database=a.database)


def cmd_serve(a: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise InputError("normalcy serve needs the service extra: "
                         "pip install 'normalcy[service]'") from None
    from normalcy.service.app import create_app

    settings = _settings(a)
    settings.demo = bool(a.demo)
    if a.demo_speed is not None:
        settings.demo_speed = a.demo_speed
    app = create_app(settings)
    print(f"normalcy: serving on http://{a.host}:{a.port} (data {settings.data}, database "
          f"{settings.database_url.split('@')[-1]})", flush=True)
    uvicorn.run(app, host=a.host, port=a.port, log_level=a.log_level, access_log=False,
                timeout_graceful_shutdown=5)
    return 0


def cmd_user_add(a: argparse.Namespace) -> int:
    from normalcy.service.auth import add_user

    with _database(a, existing=False) as db:
        token = add_user(db, a.name, a.role, _by())
    print(f"user {a.name!r} ({a.role}) added; their token, shown only this once:")
    print(token)
    return 0


def cmd_user_revoke(a: argparse.Namespace) -> int:
    from normalcy.service.auth import revoke_user
    from normalcy.service.views import iso

    with _database(a) as db:
        done = revoke_user(db, a.name, _by())
    when = str(iso(done.at))[:19].replace("T", " ")
    if done.before:
        print(f"user {a.name!r} ({done.role}) was already revoked on {when} UTC by {done.by}.")
    else:
        print(f"user {a.name!r} ({done.role}) revoked: their token and browser sessions are "
              "refused from now on, also by a running service.")
    return 0


def cmd_user_token(a: argparse.Namespace) -> int:
    from normalcy.service.auth import new_user_token

    with _database(a) as db:
        token = new_user_token(db, a.name, _by())
    print(f"user {a.name!r} has a new token; the old one and their browser sessions are "
          "refused from now on. The new token, shown only this once:")
    print(token)
    return 0


def _by() -> str:
    """Who acts from the command line, for the audit log: the login and where."""
    import getpass

    return f"{getpass.getuser()} (command line)"[:64]


@contextmanager
def _database(a: argparse.Namespace, existing: bool = True) -> Iterator[Any]:
    """The service's database of ``--data`` / ``--database``, migrated, disposed on
    leaving. ``existing``: an InputError where ``--data`` holds none (a wrong folder:
    no empty database made there); else the folder is made."""
    from normalcy.service.db import Database

    settings = _settings(a)
    if not existing:
        settings.data.mkdir(parents=True, exist_ok=True)
    elif settings.database is None and not (settings.data / "normalcy.db").exists():
        raise InputError(f"no service database in {settings.data}: give the --data folder "
                         "(or --database URL) the service runs on.")
    db = Database(settings.database_url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def add_service_commands(sub: Any) -> None:
    """Add ``serve`` and ``user`` to the ``normalcy`` command's subparsers."""
    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", default=None,
                       help="folder of the database and models (default ./normalcy-data)")
        p.add_argument("--database", help="SQLAlchemy URL, e.g. postgresql+psycopg://... "
                                          "(default: SQLite in --data)")

    s = sub.add_parser("serve", help="run the operator service (REST API and web page)")
    data_args(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--demo", action="store_true",
                   help="create a three-tank unit and replay a day with faults")
    s.add_argument("--demo-speed", type=float, help="demo rows per second (20)")
    s.add_argument("--log-level", default="warning")
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage the service's users")
    usub = u.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="add a user; prints their token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["viewer", "operator", "engineer"])
    data_args(add)
    add.set_defaults(func=cmd_user_add)
    rev = usub.add_parser("revoke", help="revoke a user's access at once (their token and "
                                         "browser sessions); recorded in the audit log")
    rev.add_argument("name")
    data_args(rev)
    rev.set_defaults(func=cmd_user_revoke)
    tok = usub.add_parser("token", help="give a user a new token (a lost or leaked one): "
                                        "the old one is refused at once; prints the new one "
                                        "once; recorded in the audit log")
    tok.add_argument("name")
    data_args(tok)
    tok.set_defaults(func=cmd_user_token)
