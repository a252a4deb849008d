"""The service's settings: one object, read from arguments and ``NORMALCY_*`` variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from normalcy.exceptions import InputError

_ENV = "NORMALCY_"


@dataclass
class Settings:
    """Everything the service is told at start-up.

    Each field can also be set by an environment variable ``NORMALCY_<FIELD>``
    (upper case), e.g. ``NORMALCY_DATABASE=postgresql+psycopg://...``; arguments win.

    Parameters
    ----------
    data : folder of the SQLite database and of the model files.
    database : SQLAlchemy URL; None = SQLite (WAL mode) at ``data/normalcy.db``.
    retention_days : days of scored rows kept (rows of alarm episodes are kept longer).
    max_body_bytes : largest request body for readings and other JSON writes.
    max_upload_bytes : largest uploaded history or model file.
    anonymous_read : whether reading (GET) needs no login.
    standing_s : an alarm active longer than this is "standing" (KPIs).
    cors_origins : origins allowed by CORS (none by default).
    demo : replay the three-tank demo.
    background_fit : fit uploaded histories in a background thread (False: in the request).
    demo_speed : demo rows per second of wall time.
    scoring_threads : threads that score readings as they arrive (the others wait their
        turn). Scoring holds Python's lock on the interpreter: 100 units sending a row
        each per second to 16 scoring threads took 11.3 ms of server CPU per row and
        fell behind (86 of 100 rows/s), to one thread 7.5 ms (all ingested;
        ``normalcy bench serve``, ``docs/benchmarks.md``).
    clock_skew_s : seconds a reading's time may be ahead of the server's clock (the
        gateway's clock running fast), besides 3 sampling periods of the unit; a row
        further ahead is refused (422), as one wrong future time would otherwise refuse
        every real row after it. 300 s: an unsynchronised clock's drift over weeks; an
        NTP-synchronised one is within a second.

    Examples
    --------
    >>> s = Settings.from_env(data="/tmp/x", environ={"NORMALCY_RETENTION_DAYS": "7"})
    >>> s.retention_days, s.database_url.startswith("sqlite")
    (7.0, True)
    """

    data: Path = Path("normalcy-data")
    database: str | None = None
    retention_days: float = 30.0
    max_body_bytes: int = 10 * 2**20
    max_upload_bytes: int = 200 * 2**20
    anonymous_read: bool = True
    standing_s: float = 3600.0
    cors_origins: list[str] = field(default_factory=list)
    demo: bool = False
    background_fit: bool = True
    demo_speed: float = 20.0
    scoring_threads: int = 1
    clock_skew_s: float = 300.0

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in force."""
        if self.database:
            return self.database
        return f"sqlite:///{(Path(self.data) / 'normalcy.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        """Folder of the model files (one sub-folder per unit)."""
        return Path(self.data) / "models"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **given: Any) -> Settings:
        """Defaults, overridden by ``NORMALCY_*`` variables, overridden by ``given``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(_ENV + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in given.items() if v is not None})
        if "data" in values:
            values["data"] = Path(values["data"])
        s = cls(**values)
        for name in ("retention_days", "max_body_bytes", "max_upload_bytes", "standing_s",
                     "demo_speed", "scoring_threads", "clock_skew_s"):
            if not getattr(s, name) > 0:
                raise InputError(f"setting {name} must be > 0. Got {getattr(s, name)!r} instead.")
        return s


def _parse(name: str, raw: str, kind: Any) -> Any:
    kind = str(kind)
    try:
        if "bool" in kind:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
        if "list" in kind:
            return [o.strip() for o in raw.split(",") if o.strip()]
    except ValueError:
        raise InputError(f"environment variable {_ENV}{name.upper()}={raw!r} is not a valid "
                         f"{kind}.") from None
    return raw
