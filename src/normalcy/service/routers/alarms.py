"""``/api/alarms``: the episodes, acknowledge, shelve, feedback, explanation, trend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from normalcy.service import changes, modelops
from normalcy.service.db import Episode, Unit, episode_sensors
from normalcy.service.deps import (
    AlarmId,
    FleetDep,
    Operator,
    Reader,
    body,
    known_fields,
    parse_json,
)
from normalcy.service.errors import ClientError, NotFound
from normalcy.service.fleet import Fleet, stored_runs
from normalcy.service.views import episode_json, iso, nan_none

router = APIRouter(prefix="/api/alarms", tags=["alarms"])


def load_episode(fleet: Fleet, ep_id: int) -> tuple[Episode, str]:
    """The episode ``ep_id`` and its unit's name (NotFound otherwise)."""
    with fleet.db.read() as s:
        row = s.execute(select(Episode, Unit.name).join(Unit, Unit.id == Episode.unit_id)
                        .where(Episode.id == ep_id)).first()
    if row is None:
        raise NotFound(f"alarm {ep_id} does not exist; GET /api/alarms lists them.")
    return row[0], row[1]


def list_episodes(fleet: Fleet, unit: str | None = None, active: bool | None = None,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Episodes, newest first."""
    if not 1 <= limit <= 10_000:
        raise ClientError(f"limit must be between 1 and 10000. Got {limit} instead.", 422)
    if unit is not None:
        with fleet.db.read() as s:
            if s.scalar(select(Unit.id).where(Unit.name == unit)) is None:
                raise NotFound(f"unit {unit!r} does not exist; GET /api/units lists the units.")
    q = select(Episode, Unit.name).join(Unit, Unit.id == Episode.unit_id)
    if unit is not None:
        q = q.where(Unit.name == unit)
    if active is not None:
        q = q.where(Episode.active.is_(active))
    with fleet.db.read() as s:
        rows = s.execute(q.order_by(Episode.start_t.desc(), Episode.id.desc())
                         .limit(limit)).all()
    return [episode_json(ep, name) for ep, name in rows]


def alarms_to_show(fleet: Fleet, limit: int = 200) -> list[dict[str, Any]]:
    """The alarm list's episodes: the newest ``limit`` and, older than those, every one
    still needing the operator (active, or returned unacknowledged), newest first - a
    standing alarm must not leave the list because 200 newer ones came after it."""
    newest = list_episodes(fleet, limit=limit)
    if len(newest) < limit:
        return newest
    q = (select(Episode, Unit.name).join(Unit, Unit.id == Episode.unit_id)
         .where(Episode.state != "normal", Episode.id.not_in([e["id"] for e in newest]))
         .order_by(Episode.start_t.desc(), Episode.id.desc()))
    with fleet.db.read() as s:
        older = [episode_json(ep, name) for ep, name in s.execute(q).all()]
    return newest + older


@router.get("")
def alarms(fleet: FleetDep, _: Reader, unit: str | None = None, active: bool | None = None,
           limit: int = 200) -> list[dict]:
    """Alarm episodes, newest first (``?unit=``, ``?active=true``, ``?limit=``)."""
    return list_episodes(fleet, unit, active, limit)


@router.get("/{ep_id}")
def alarm(ep_id: AlarmId, fleet: FleetDep, _: Reader) -> dict:
    """One episode."""
    ep, name = load_episode(fleet, ep_id)
    return episode_json(ep, name)


async def _object(request: Request, fleet: Fleet, allowed: tuple[str, ...],
                  what: str) -> dict[str, Any]:
    raw = await body(request, fleet.settings.max_body_bytes)
    if not raw.strip():
        return {}
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ClientError("send a JSON object.", 422)
    known_fields(data, allowed, what)
    for k in ("comment", "note", "fault", "verdict"):
        if data.get(k) is not None and not isinstance(data[k], str):
            raise ClientError(f"'{k}' must be a string. Got {data[k]!r} instead.", 422)
    return data


@router.post("/{ep_id}/acknowledge")
async def acknowledge(ep_id: AlarmId, request: Request, fleet: FleetDep,
                      who: Operator) -> dict:
    """Acknowledge (``{"comment": ...}`` optional)."""
    data = await _object(request, fleet, ("comment",), "acknowledging")
    await run_in_threadpool(changes.acknowledge, fleet, ep_id, who, data.get("comment"))
    ep, name = load_episode(fleet, ep_id)
    return episode_json(ep, name)


@router.post("/{ep_id}/shelve")
async def shelve(ep_id: AlarmId, request: Request, fleet: FleetDep,
                 who: Operator) -> dict:
    """Shelve for ``{"minutes": M}`` (0 unshelves), with an optional comment."""
    data = await _object(request, fleet, ("minutes", "comment"), "shelving")
    if "minutes" not in data:
        raise ClientError("shelving needs 'minutes' (0 to unshelve).", 422)
    await run_in_threadpool(changes.shelve, fleet, ep_id, who, data["minutes"],
                            data.get("comment"))
    ep, name = load_episode(fleet, ep_id)
    return episode_json(ep, name)


@router.post("/{ep_id}/feedback")
async def feedback(ep_id: AlarmId, request: Request, fleet: FleetDep,
                   who: Operator) -> dict:
    """``{"verdict": "normal"}`` or ``{"verdict": "fault", "fault": NAME}``, with a note:
    the unit's model learns it at once (a new version). An alarm judged already takes a
    verdict only with ``"replaces": V``, the version of the verdict it shows (409
    otherwise, naming who judged it and how)."""
    data = await _object(request, fleet, ("verdict", "fault", "note", "replaces"), "feedback")
    replaces = data.get("replaces")
    if replaces is not None and (isinstance(replaces, bool) or not isinstance(replaces, int)
                                 or replaces < 1):
        raise ClientError("'replaces' must be the model version of the alarm's verdict (a "
                          f"whole number from 1). Got {replaces!r} instead.", 422)
    ep, name = load_episode(fleet, ep_id)
    rt = fleet.runtime(name)
    v = await run_in_threadpool(changes.feedback_range, fleet, rt, ep.start_seq, ep.end_seq,
                                data.get("verdict") or "", data.get("fault"),
                                data.get("note"), who, ep_id, replaces)
    ep, name = load_episode(fleet, ep_id)
    said = changes.signature_said(rt, data.get("verdict") or "", data.get("fault"))
    return {**episode_json(ep, name), "version": v, "signature": said}


def _context(fleet: Fleet, ep: Episode, name: str, pad: int) -> tuple[Any, Any, int, int]:
    rt = fleet.runtime(name)
    keep = modelops.context_rows(rt.det)
    frame, first = fleet.rows(rt, max(0, ep.start_seq - keep - pad), ep.end_seq + keep + pad,
                              around=ep.start_seq)
    if len(frame) == 0 or first > ep.start_seq:
        raise ClientError("the rows of this alarm are no longer stored.", 409)
    return rt, frame, first, keep


@router.get("/{ep_id}/explanation")
def explanation(ep_id: AlarmId, fleet: FleetDep, _: Reader, top: int = 5) -> dict:
    """What made the episode abnormal, in words and the sensors' units (current model)."""
    if not 1 <= top <= 50:
        raise ClientError(f"top must be between 1 and 50. Got {top} instead.", 422)
    ep, name = load_episode(fleet, ep_id)
    rt, frame, first, keep = _context(fleet, ep, name, 0)
    s0 = max(0, ep.start_seq - keep - first)
    e0 = min(len(frame), ep.end_seq + 1 - first)
    u_period = None
    with fleet.db.read() as s:
        u_period = s.scalar(select(Unit.period_s).where(Unit.name == name))
    try:
        stamps = frame["time"].to_numpy(dtype=float)
        runs = stored_runs(frame, rt.sensors, getattr(rt.det, "sample_period_", None))
        out = modelops.explain(rt.det, runs, s0, e0, top, u_period, first, stamps)
    except ValueError as e:
        raise ClientError(f"cannot explain this alarm: {e}", 409) from None
    return {"alarm": ep_id, "unit": name, "version": rt.version, **out}


@router.get("/{ep_id}/trend")
def trend(ep_id: AlarmId, fleet: FleetDep, _: Reader, pad: int = 300) -> dict:
    """The sensors around the episode (``pad`` rows each side), each with the band where
    it normally reads (``band``: "expected", what the other sensors predict, or
    "bounds", the learned bounds; ``band_text`` says which)."""
    from normalcy.operator.bands import BAND_WORDS

    if not 0 <= pad <= 20_000:
        raise ClientError(f"pad must be between 0 and 20000. Got {pad} instead.", 422)
    ep, name = load_episode(fleet, ep_id)
    rt, frame, _first, _keep = _context(fleet, ep, name, pad)
    data = frame[rt.sensors]
    band = modelops.band(rt.det, data)
    series = {}
    for sname in rt.sensors:
        lo, hi = band.of(rt.det, sname)
        series[sname] = {"value": nan_none(data[sname].to_numpy()), "lo": nan_none(lo),
                         "hi": nan_none(hi)}
    return {"alarm": ep_id, "unit": name, "time": [float(t) for t in frame["time"]],
            "time_iso": [iso(frame["time"].iloc[0]), iso(frame["time"].iloc[-1])],
            "episode": [ep.start_t, ep.end_t],
            "sensors": episode_sensors(ep.sensors) or rt.sensors[:3],
            "band": band.kind, "band_text": BAND_WORDS[band.kind], "series": series}

