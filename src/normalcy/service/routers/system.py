"""``/healthz``, ``/metrics`` (Prometheus), ``/api/events`` (server-sent events),
``/api/kpis`` and ``/api/writes`` (the audit log)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlalchemy import func, select

from normalcy.service.db import Episode, ModelVersion, Reading, Unit, Write, episode_sensors
from normalcy.service.deps import Engineer, FleetDep, Reader, reader
from normalcy.service.errors import ClientError
from normalcy.service.fleet import Fleet
from normalcy.service.kpis import kpis
from normalcy.service.views import iso

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(fleet: FleetDep) -> dict:
    """200 when the database answers and every ready unit is loaded."""
    with fleet.db.read() as s:
        s.execute(select(1))
    return {"status": "ok", "units": len(fleet.units)}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(fleet: FleetDep) -> str:
    """Prometheus text format."""
    m = fleet.metrics
    with fleet.db.read() as s:
        open_alarms = s.scalar(select(func.count()).select_from(Episode)
                               .where(Episode.active.is_(True))) or 0
        versions = s.scalar(select(func.count()).select_from(ModelVersion)) or 0
    lines = []

    def add(name: str, kind: str, text: str, value: float) -> None:
        v = "NaN" if math.isnan(value) else repr(float(value))
        lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {v}"])

    add("normalcy_readings_total", "counter", "Rows scored since start.", m.readings)
    add("normalcy_readings_per_second", "gauge", "Rows scored per second, last minute.",
        m.rate())
    add("normalcy_scoring_latency_seconds_p50", "gauge",
        "Median time from a batch's arrival to its commit.", m.latency(0.5))
    add("normalcy_scoring_latency_seconds_p99", "gauge",
        "99th percentile of the time from a batch's arrival to its commit.", m.latency(0.99))
    add("normalcy_open_alarms", "gauge", "Alarm episodes still active.", open_alarms)
    add("normalcy_model_versions", "gauge", "Model versions stored, all units.", versions)
    add("normalcy_units", "gauge", "Units running.", len(fleet.units))
    return "\n".join(lines) + "\n"


@router.get("/api/events")
async def events(request: Request, fleet: FleetDep,
                 _: Reader) -> StreamingResponse:
    """Server-sent events: alarm-opened/closed/acknowledged/shelved, alarm-cause (a
    second fault in an open alarm), model, unit."""
    q = fleet.events.subscribe()

    async def may_read() -> bool:
        """Whether the caller may still read: a user revoked (``normalcy user revoke``,
        also by another process) while the stream is open gets no further event."""
        try:
            await run_in_threadpool(reader, request, fleet)
        except ClientError:
            return False
        return True

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    text = await asyncio.wait_for(q.get(), timeout=15.0)
                    line = f"data: {text}\n\n"
                except asyncio.TimeoutError:
                    line = ": keep-alive\n\n"
                if not await may_read():
                    return  # the stream ends; reconnecting gets the 401 that says why
                yield line
        finally:
            fleet.events.unsubscribe(q)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def kpi_data(fleet: Fleet) -> dict[str, Any]:
    """The KPIs of every unit (see :mod:`normalcy.service.kpis`)."""
    with fleet.db.read() as s:
        rows = s.execute(select(Episode, Unit.name).join(Unit, Unit.id == Episode.unit_id)).all()
        # a unit without a reading spans no time (None), not 1970 to now
        spans: dict[str, tuple[float, float] | None] = {
            name: None if a is None else (float(a), float(b)) for name, a, b in s.execute(
                select(Unit.name, func.min(Reading.t), func.max(Reading.t))
                .join(Reading, Reading.unit_id == Unit.id, isouter=True)
                .group_by(Unit.name))}
    eps = [{"unit": n, "start_t": e.start_t, "end_t": e.end_t, "active": e.active,
            "sensors": episode_sensors(e.sensors), "kind": e.kind,
            "fault": e.fault, "verdict": e.verdict} for e, n in rows]
    return kpis(eps, spans, fleet.settings.standing_s)


@router.get("/api/kpis")
def api_kpis(fleet: FleetDep, _: Reader) -> dict:
    """Alarm-load KPIs per unit and overall, with the EEMUA 191 reference levels."""
    return kpi_data(fleet)


@router.get("/api/writes")
def writes(fleet: FleetDep, _: Engineer, limit: int = 200) -> list:
    """The audit log, newest first: every write with its user."""
    if not 1 <= limit <= 10_000:
        raise ClientError(f"limit must be between 1 and 10000. Got {limit} instead.", 422)
    with fleet.db.read() as s:
        return [{"time": iso(w.t), "user": w.user, "action": w.action, "unit": w.unit,
                 "detail": json.loads(w.detail)}
                for w in s.scalars(select(Write).order_by(Write.id.desc()).limit(limit))]
