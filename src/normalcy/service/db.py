"""The alarm database: tables (SQLAlchemy 2), engines, migrations at start-up.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``: a transaction that
committed survives ``kill -9`` of the server. Write transactions on SQLite start with
``BEGIN IMMEDIATE`` (one writer at a time, waiting up to 30 s) so that a read followed
by a write never fails half-way; PostgreSQL uses the same code with row locks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

ROLES = ("viewer", "operator", "engineer")


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class Unit(Base):
    """A machine: its sensors, its current model version and its stream position."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    sensors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    status: Mapped[str] = mapped_column(String(16), default="ready")  # fitting/ready/failed
    status_detail: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rows_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    last_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    # the IANA zone whose local clock time the unit's times without a UTC offset are in
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ModelVersion(Base):
    """One saved model version of a unit (the file is written before this row commits)."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("unit_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class Reading(Base):
    """One scored row of a unit: its position in the unit's stream, time and values."""

    __tablename__ = "readings"
    __table_args__ = (UniqueConstraint("unit_id", "seq"), Index("ix_readings_unit_t",
                                                                "unit_id", "t"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    t: Mapped[float] = mapped_column(Float)
    vals: Mapped[str] = mapped_column(Text)  # JSON list, in the unit's sensor order
    score: Mapped[float | None] = mapped_column(Float, nullable=True)


class Episode(Base):
    """An alarm episode with its ISA-18.2 state."""

    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    start_seq: Mapped[int] = mapped_column(BigInteger)
    end_seq: Mapped[int] = mapped_column(BigInteger)
    start_t: Mapped[float] = mapped_column(Float)
    end_t: Mapped[float] = mapped_column(Float)
    peak: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), default="")
    sensors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list (migration 0005)
    fault: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    state: Mapped[str] = mapped_column(String(32), default="active-unacknowledged")
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ack_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    shelved_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    shelved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shelve_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    verdict_fault: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # JSON list: the sensors that took the lead while it was open, a second fault each
    # (normalcy.alarms.policy.Cause; fleet.Fleet._cause), in the order they were said
    causes: Mapped[str | None] = mapped_column(Text, nullable=True)


class User(Base):
    """A person or a client, with a role and the hash of their token."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    # set when an engineer revoked the user's access: their token and sessions are refused
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class WebSession(Base):
    """A logged-in browser: hash of the cookie's value, CSRF token, expiry."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)


class Write(Base):
    """The audit log: every write with its user."""

    __tablename__ = "writes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    t: Mapped[float] = mapped_column(Float, default=time.time)
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Database:
    """Two session factories over one database: ``read()`` and ``write()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            path = url.split("///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, immediate=False)
            self.write_engine = _sqlite_engine(url, immediate=True)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10,
                                        max_overflow=20)
            self.write_engine = self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (rolled back at the end)."""
        with self._read() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._write() as s, s.begin():
            yield s

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def episode_sensors(text: str | None) -> list[str]:
    """An episode's stored sensors (``Episode.sensors``, a JSON list) as a list."""
    return [str(x) for x in json.loads(text or "[]")]


def sensors_text(names: Any) -> str:
    """The stored form of an episode's sensors: a JSON list (a name may hold a comma)."""
    return json.dumps([str(x) for x in names])
