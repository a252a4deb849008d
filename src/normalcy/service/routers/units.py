"""``/api/units``: list, create (from a history or a model file), readings, versions,
history, feedback on a time range, undo."""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from normalcy.exceptions import InputError
from normalcy.service import changes, creation
from normalcy.service.auth import Who
from normalcy.service.db import ModelVersion, Unit
from normalcy.service.deps import (
    Engineer,
    FleetDep,
    Operator,
    Reader,
    body,
    form_columns,
    json_body,
    known_fields,
    parse_json,
)
from normalcy.service.errors import ClientError, NotFound
from normalcy.service.fleet import Fleet
from normalcy.service.plausible import refuse_future, refuse_implausible
from normalcy.service.readings import TIME_RANGE, parse_readings
from normalcy.service.views import iso, nan_none, unit_json

router = APIRouter(prefix="/api/units", tags=["units"])


def _unit(fleet: Fleet, name: str) -> Unit:
    with fleet.db.read() as s:
        u = s.scalar(select(Unit).where(Unit.name == name))
    if u is None:
        raise NotFound(f"unit {name!r} does not exist; GET /api/units lists the units.")
    return u


@router.get("")
def list_units(fleet: FleetDep, _: Reader) -> list[dict]:
    """Every unit, by name."""
    with fleet.db.read() as s:
        return [unit_json(u) for u in s.scalars(select(Unit).order_by(Unit.name))]


@router.get("/{name}")
def get_unit(name: str, fleet: FleetDep,
             _: Reader) -> dict:
    """One unit."""
    return unit_json(_unit(fleet, name))


@router.post("", status_code=201)
async def create_unit(request: Request, fleet: FleetDep,
                      who: Engineer) -> dict:
    """Multipart form: ``name``, ``file`` and ``kind`` ("history": a CSV or Parquet
    healthy history, fitted in the background; "model": a model file), and optional
    fit settings ``n_levels``, ``delta``, ``window``, ``threshold`` and, for a
    history, ``time_column``, ``sensors`` (comma-separated) and ``timezone`` (the IANA
    zone of times written without a UTC offset), as ``normalcy fit`` takes them."""
    limit = fleet.settings.max_upload_bytes
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > limit:
        raise ClientError(f"the upload is {int(size)} bytes; the limit is {limit}.", 413)
    ctype = request.headers.get("content-type", "")
    if "multipart/form-data" not in ctype and "x-www-form-urlencoded" not in ctype:
        raise ClientError("send a multipart form with 'name', 'kind' and 'file'.", 415)
    form = await request.form()
    try:
        await _create(fleet, form, who)
    finally:
        await form.close()
    name = form.get("name")
    return unit_json(_unit(fleet, str(name)))


#: the fields of the form that creates a unit
FORM_FIELDS = ("name", "kind", "file", *creation.FIT_PARAMS, "time_column", "sensors",
               "timezone")


async def _create(fleet: Fleet, form: Any, who: Who) -> None:
    unknown = sorted(set(form.keys()) - set(FORM_FIELDS))
    if unknown:  # a misspelt 'timezone' read the history's clock times as UTC
        raise ClientError(f"the form has unknown field(s) {unknown}; a unit is created from "
                          f"{', '.join(FORM_FIELDS)}. Correct or remove them; nothing was "
                          "created.", 422)
    name, kind, upload = form.get("name"), form.get("kind", "history"), form.get("file")
    if not isinstance(name, str) or not name:
        raise ClientError("the form has no 'name'.", 422)
    if kind not in ("history", "model"):
        raise ClientError(f"kind must be 'history' or 'model'. Got {kind!r} instead.", 422)
    if upload is None or isinstance(upload, str):
        raise ClientError("the form has no 'file' upload.", 422)
    creation.history_only(kind, {k: form.get(k) for k in FORM_FIELDS[3:]})
    params = creation.fit_params({k: form.get(k) for k in creation.FIT_PARAMS})  # type: ignore[misc]
    fname = upload.filename or "upload"
    fd, tmp = tempfile.mkstemp(suffix=upload_suffix(fname, kind), dir=fleet.settings.data)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(await upload.read())
        if kind == "model":
            await run_in_threadpool(creation.create_from_model, fleet, name, tmp, who, fname)
        else:
            await run_in_threadpool(
                creation.create_from_history, fleet, name, tmp, who, params,
                fleet.settings.background_fit, columns=form_columns(form), shown=fname)
    finally:
        os.unlink(tmp)


def upload_suffix(filename: str, kind: Any) -> str:
    """The suffix of an upload's temporary copy, by which it is read: a model file, a
    Parquet history (``.parquet`` or ``.pq``, in any case) or a CSV one.

    >>> upload_suffix("H.PQ", "history"), upload_suffix("h.csv", "model")
    ('.parquet', '.normalcy')
    """
    if kind == "model":
        return ".normalcy"
    return ".parquet" if filename.lower().endswith((".parquet", ".pq")) else ".csv"


@router.post("/{name}/readings")
async def post_readings(name: str, request: Request, fleet: FleetDep,
                        _: Operator) -> dict:
    """Score a batch of rows (JSON or CSV) at once; returns scores and alarm changes."""
    raw = await body(request, fleet.settings.max_body_bytes)
    rt = fleet.runtime(name)
    times, values = parse_readings(raw, request.headers.get("content-type", ""), rt.sensors,
                                   zone=rt.zone, last=rt.last_time)
    refuse_future(times, getattr(rt.det, "sample_period_", None), fleet.settings.clock_skew_s)
    refuse_implausible(values, rt.det, rt.sensors)
    return await fleet.ingest_async(name, times, values)


@router.get("/{name}/readings")
def get_readings(name: str, fleet: FleetDep, _: Reader, last: int = 600) -> dict:
    """The last ``last`` stored rows (at most 20 000) with their scores."""
    if not 1 <= last <= 20_000:
        raise ClientError(f"last must be between 1 and 20000. Got {last} instead.", 422)
    rt = fleet.runtime(name)
    frame, _first = fleet.rows(rt, max(0, rt.rows_seen - last), rt.rows_seen - 1)
    return {"unit": name, "rows": [int(i) for i in frame.index],
            "time": [iso(t) for t in frame["time"]],
            "values": {s: nan_none(frame[s].to_numpy()) for s in rt.sensors}}


@router.get("/{name}/versions")
def versions(name: str, fleet: FleetDep, _: Reader) -> list:
    """Every model version of the unit, oldest first."""
    u = _unit(fleet, name)
    with fleet.db.read() as s:
        rows = s.scalars(select(ModelVersion).where(ModelVersion.unit_id == u.id)
                         .order_by(ModelVersion.version))
        return [{"version": v.version, "action": v.action, "by": v.by, "note": v.note,
                 "time": iso(v.created_at), "current": v.version == u.current_version}
                for v in rows]


@router.get("/{name}/history")
def history(name: str, fleet: FleetDep, _: Reader) -> list:
    """The current model's own change log (who, when, verdict, note and the rows a
    verdict covered: ``start``/``end`` times and ``start_row``/``end_row``, as an alarm
    shows its span)."""
    return changes.history(fleet, fleet.runtime(name))


def _text(data: dict, key: str) -> str | None:
    v = data.get(key)
    if v is not None and not isinstance(v, str):
        raise ClientError(f"'{key}' must be a string. Got {v!r} instead.", 422)
    return v


@router.post("/{name}/feedback")
async def feedback(name: str, request: Request, fleet: FleetDep,
                   who: Operator) -> dict:
    """A verdict on a time range: ``{"start", "end", "verdict", "fault", "note"}``."""
    data = await json_body(request, fleet.settings.max_body_bytes)
    if not isinstance(data, dict):
        raise ClientError("send a JSON object.", 422)
    known_fields(data, ("start", "end", "verdict", "fault", "note"), "feedback")
    rt = fleet.runtime(name)
    t = []
    for key in ("start", "end"):
        if key not in data:
            raise ClientError(f"the feedback needs '{key}' (a time).", 422)
        t.append(_time(data[key], key, rt.zone))
    if t[1] < t[0]:
        raise ClientError(f"'end' ({iso(t[1])}) is before 'start' ({iso(t[0])}); swap them.",
                          422)
    a, b = await run_in_threadpool(changes.range_rows, fleet, rt, t[0], t[1])
    verdict, fault = _text(data, "verdict") or "", _text(data, "fault")
    v = await run_in_threadpool(changes.feedback_range, fleet, rt, a, b, verdict, fault,
                                _text(data, "note"), who)
    return {"unit": name, "version": v, "rows": [a, b],
            "signature": changes.signature_said(rt, verdict, fault)}


def _time(v: Any, key: str, zone: str | None) -> float:
    """A feedback range's end: epoch seconds, or ISO 8601 (without an offset: the unit's
    zone's local clock time, else UTC; a clock time the zone shows twice needs its
    offset)."""
    t = _instant(v, key, zone)
    low, high = TIME_RANGE  # the readings' times: no stored row lies outside
    if not low <= t <= high:  # (nor could a message say such a time: a 500 once)
        ms = " (it looks like epoch milliseconds: divide by 1000)" if \
            low <= t / 1000.0 <= high else ""
        raise ClientError(f"'{key}' ({v!r}) is not between 1970 and 2200, where the unit's "
                          f"readings lie{ms}; send a time of its stored rows (ISO 8601 or "
                          "epoch seconds).", 422)
    return t


def _instant(v: Any, key: str, zone: str | None) -> float:
    """:func:`_time` before its range is checked."""
    import pandas as pd

    from normalcy.data.localtime import instant

    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            t = float(v)
        except OverflowError:  # an integer past any float
            t = math.inf
        if math.isfinite(t):
            return t
    if isinstance(v, str):
        try:  # ISO 8601 only, as the readings' times: '01/02/2027' is no guess at the
            # order of day and month, 'now' and '12:00' no guess at the day
            ts = pd.to_datetime(v, format="ISO8601") if v.strip()[:4].isdigit() else None
        except (ValueError, OverflowError):
            ts = None
        if ts is pd.NaT:  # "", "NaT", "nan": no time
            ts = None
        if ts is not None and ts.tzinfo is None:
            try:
                ts = ts.tz_localize("UTC") if zone is None else instant(ts, zone, f"'{key}'")
            except InputError as e:
                raise ClientError(str(e), 422) from None
        if ts is not None:
            return float(ts.timestamp())
    raise ClientError(f"'{key}' is not a time: {v!r}; send ISO 8601 (year first, like "
                      "2027-02-01T10:00:00, or with its UTC offset) or epoch seconds.", 422)


@router.post("/{name}/undo")
async def undo(name: str, request: Request, fleet: FleetDep,
               who: Engineer) -> dict:
    """Undo the latest change, or ``{"to": VERSION}`` to go back to a version; with
    ``"from": VERSION``, the version the caller saw in force, a 409 (nothing changed)
    when another change came first."""
    raw = await body(request, fleet.settings.max_body_bytes)
    got: dict[str, Any] = {}
    if raw.strip():
        data = parse_json(raw)
        if not isinstance(data, dict):
            raise ClientError('undo takes an empty body, or {"to": VERSION} and/or '
                              '{"from": VERSION}.', 422)
        got = known_fields(data, ("to", "from"), "undo")
        for key in ("to", "from"):
            v = got.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1
                                  or v > 2**31 - 1):  # the database's INTEGER
                raise ClientError(f"'{key}' must be a version number. Got {v!r} instead.",
                                  422)
    rt = fleet.runtime(name)
    v = await run_in_threadpool(changes.undo, fleet, rt, got.get("to"), who, got.get("from"))
    return {"unit": name, "version": v}
