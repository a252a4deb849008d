"""The units the service runs: one streaming monitor and one lock per unit.

Readings are scored at once by the unit's :class:`normalcy.Monitor`; the rows, the
unit's stream position and the alarm episodes they open or close are written in one
transaction. Model changes (feedback, undo) and readings of a unit are serialised by
the unit's lock (in-process) and by a row lock on the unit (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite has one writer at a time). Requests score their readings in
``Settings.scoring_threads`` threads (one by default: scoring holds the interpreter's
lock, and more threads only contend for it).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from normalcy import Monitor
from normalcy.alarms.monitor import MonitorUpdate
from normalcy.alarms.policy import Cause
from normalcy.alarms.policy import Episode as PolicyEpisode
from normalcy.data.timeaxis import run_starts
from normalcy.exceptions import ModelFileError
from normalcy.service import modelops, plausible
from normalcy.service.db import (
    Database,
    Episode,
    ModelVersion,
    Reading,
    Unit,
    Write,
    episode_sensors,
    sensors_text,
)
from normalcy.service.errors import Conflict, NotFound
from normalcy.service.events import Broadcaster
from normalcy.service.metrics import Metrics
from normalcy.service.settings import Settings
from normalcy.service.views import iso, nan_none

log = logging.getLogger("normalcy.service")

#: what closing an episode does to its ISA-18.2 state
ON_RETURN = {"active-unacknowledged": "returned-unacknowledged",
             "active-acknowledged": "normal"}


@dataclass
class UnitRuntime:
    """A unit in memory: model, monitor, the stream position of the monitor's row 0."""

    unit_id: int
    name: str
    sensors: list[str]
    det: Any = None
    monitor: Monitor | None = None
    seq0: int = 0
    rows_seen: int = 0
    last_time: float | None = None
    open_episode: int | None = None
    version: int | None = None
    zone: str | None = None  # the zone of the unit's times without a UTC offset
    # the steps between its last stored rows (plausible.recent_steps), seconds
    steps: np.ndarray = field(default_factory=lambda: np.empty(0))
    lock: threading.RLock = field(default_factory=threading.RLock)


def feed_runs(mon: Monitor, times: np.ndarray, frame: pd.DataFrame, period: float | None,
              last: float | None) -> MonitorUpdate:
    """Feed ``frame`` (rows at ``times``, epoch seconds) to ``mon`` run by run, as
    ``normalcy score`` cuts a file: a step over ``GAP_PERIODS`` sampling periods - from
    ``last``, the time of the row fed before, to the first row too - starts a new run,
    which no transition or window crosses (a unit whose stream stopped for an hour does
    not read the hour as one step). Without a period, one run."""
    # rows after a pause (row 0: a pause since ``last``), as a file's runs are cut
    starts = set(run_starts(times, period, previous=last).tolist())
    cuts = sorted(starts | {0})
    parts = []
    for k, a in enumerate(cuts):
        b = cuts[k + 1] if k + 1 < len(cuts) else len(frame)
        if a in starts:
            mon.new_run()
        parts.append(mon.update(frame.iloc[a:b]))
    if len(parts) == 1:
        return parts[0]
    return MonitorUpdate(pd.concat([p.scores for p in parts]),
                         [e for p in parts for e in p.opened],
                         [e for p in parts for e in p.closed],
                         [c for p in parts for c in p.causes])


def with_causes(named: list[str], ep: Episode) -> list[str]:
    """``named`` (an episode's sensors, as its summary names them) and after them the
    sensors of the episode's causes it lacks, in the order they were said."""
    out = list(named)
    for c in json.loads(ep.causes or "[]"):
        if c["sensor"] not in out:
            out.append(c["sensor"])
    return out


def stored_runs(frame: pd.DataFrame, sensors: list[str], period: float | None) -> Any:
    """Stored rows (``Fleet.rows``: a ``time`` column and the sensors) as the operator
    loop takes them: a list of runs cut where a pause exceeds ``GAP_PERIODS`` sampling
    periods (a verdict or an explanation spans no pause), one frame without a pause.
    Row numbers count across the runs, as in the frame."""
    data = frame[sensors]
    cuts = run_starts(frame["time"].to_numpy(dtype=float), period)
    if cuts.size == 0:
        return data
    edges = np.r_[0, cuts, len(data)]
    return [data.iloc[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def write_log(s: Session, by: str, action: str, unit: str | None, **detail: Any) -> None:
    """Record a write in the audit log (inside the write's transaction)."""
    s.add(Write(t=time.time(), user=by, action=action, unit=unit,
                detail=json.dumps(detail, default=str)))


class Fleet:
    """Every unit's runtime, the database, the settings, events and metrics."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.events = Broadcaster()
        self.metrics = Metrics()
        self.units: dict[str, UnitRuntime] = {}
        self._lock = threading.Lock()
        self._last_prune: dict[int, float] = {}
        self._pruned_to: dict[int, int] = {}  # the first row a pruning may find
        self._scoring: anyio.CapacityLimiter | None = None

    # ------------------------------------------------------------- start-up
    def start(self) -> None:
        """Load every ready unit's current model, prime its monitor, recover episodes."""
        self.settings.models_dir.mkdir(parents=True, exist_ok=True)
        with self.db.read() as s:
            units = list(s.scalars(select(Unit)))
            versions = {(v.unit_id, v.version) for v in s.scalars(select(ModelVersion))}
        # a version's file is found in the data folder in force, not at the path stored
        # when it was written (relative to that process's folder: a start with the same
        # --data written another way took every file for an orphan, and deleted it)
        self._remove_orphans({self.version_path(*k).resolve() for k in versions})
        for u in units:
            if u.status == "fitting":  # the fit (or upload) died with the last process
                with self.db.write() as s:
                    s.execute(update(Unit).where(Unit.id == u.id).values(
                        status="failed", status_detail="the server stopped during the fit; "
                        "create the unit again"))
                continue
            if u.current_version is None:  # never ran (its fit failed); a unit 'failed'
                continue  # with a version failed to load at a start: tried again
            try:
                det = modelops.load(self.version_path(u.id, u.current_version))
            except (ModelFileError, FileNotFoundError) as e:
                log.error("unit %s cannot run: %s", u.name, e)
                with self.db.write() as s:
                    s.execute(update(Unit).where(Unit.id == u.id).values(
                        status="failed", status_detail=f"its model file cannot be read: {e}"))
                continue
            # ready again (its file is back); a unit uploaded before the period was kept
            # gets it
            if u.status != "ready" or u.period_s is None:
                period = modelops.sample_period(det) if u.period_s is None else u.period_s
                with self.db.write() as s:
                    s.execute(update(Unit).where(Unit.id == u.id).values(
                        status="ready", status_detail="", period_s=period))
            rt = UnitRuntime(u.id, u.name, json.loads(u.sensors), rows_seen=u.rows_seen,
                             last_time=u.last_time, zone=u.timezone)
            with self.db.read() as s:
                rt.open_episode = s.scalar(select(Episode.id).where(
                    Episode.unit_id == u.id, Episode.active.is_(True)))
            self.units[u.name] = rt
            self.install(rt, det, u.current_version)

    def _remove_orphans(self, known: set[Path]) -> None:
        """Model files no database row points to (a crash between file and commit);
        ``known``: the files of the rows (resolved)."""
        root = self.settings.models_dir
        for p in root.glob("*/*"):
            if p.suffix == ".normalcy" and p.resolve() not in known or p.name.endswith(".tmp"):
                log.warning("removing %s: no model version points to it", p)
                p.unlink(missing_ok=True)

    def install(self, rt: UnitRuntime, det: Any, version: int) -> None:
        """Make ``det`` the unit's model; prime a new monitor with the last stored rows.

        An episode left open in the database stays open when the primed monitor is
        still in alarm (it continues), and is closed otherwise; a primed monitor in alarm
        with no episode open opens one.
        """
        keep = modelops.prime_rows(det)
        frame, first = self.rows(rt, max(0, rt.rows_seen - keep), rt.rows_seen - 1)
        mon = Monitor(det)
        if len(frame):
            feed_runs(mon, frame["time"].to_numpy(dtype=float), frame[rt.sensors],
                      getattr(det, "sample_period_", None), None)
        rt.det, rt.monitor, rt.version = det, mon, version
        rt.steps = plausible.recent_steps(np.empty(0), frame["time"].to_numpy(dtype=float))
        rt.seq0 = first if len(frame) else rt.rows_seen
        if rt.open_episode is not None and mon.current is None:
            with self.db.write() as s:
                self._close(s, rt, rt.open_episode, None)
            rt.open_episode = None
        elif rt.open_episode is None and mon.current is not None:
            # in alarm, and no alarm open (the undo of the verdict that closed it, a fault
            # verdict): opened, or the condition going on raised none until it came back
            with self.db.write() as s:
                said = self._episodes(s, rt, [mon.current], [],
                                      frame["time"].to_numpy(dtype=float), rt.seq0)
            for kind, ep_id, more in said:
                self.events.publish(kind, unit=rt.name, alarm=ep_id, **more)

    # -------------------------------------------------------------- lookups
    def runtime(self, name: str) -> UnitRuntime:
        """The ready unit ``name`` (NotFound / Conflict otherwise)."""
        rt = self.units.get(name)
        if rt is not None:
            return rt
        with self.db.read() as s:
            u = s.scalar(select(Unit).where(Unit.name == name))
        if u is None:
            raise NotFound(f"unit {name!r} does not exist; GET /api/units lists the units.")
        raise Conflict(f"unit {name!r} is not ready (status {u.status}"
                       f"{': ' + u.status_detail if u.status_detail else ''}).")

    def rows(self, rt: UnitRuntime, first: int, last: int,
             around: int | None = None) -> tuple[pd.DataFrame, int]:
        """Stored rows ``first..last`` (stream positions, included) as a frame: the
        stretch without a row removed by retention that holds row ``around`` (an alarm's
        first row: the rows around another alarm after it are kept too, past a gap), or
        the last stretch.

        Returns the frame (indexed by position, with a ``time`` column) and the
        position of its first row.
        """
        if last < first:
            return pd.DataFrame(columns=["time", *rt.sensors]), first
        with self.db.read() as s:
            got = s.execute(select(Reading.seq, Reading.t, Reading.vals).where(
                Reading.unit_id == rt.unit_id, Reading.seq >= first, Reading.seq <= last)
                .order_by(Reading.seq)).all()
        if not got:
            return pd.DataFrame(columns=["time", *rt.sensors]), first
        vals = np.array([json.loads(v) for _, _, v in got], dtype=float).reshape(
            len(got), len(rt.sensors))
        frame = pd.DataFrame(vals, columns=rt.sensors, index=[q for q, _, _ in got])
        frame.insert(0, "time", [t for _, t, _ in got])
        # keep one contiguous stretch (rows removed by retention leave a gap)
        seqs = frame.index.to_numpy()
        starts = np.r_[0, np.flatnonzero(np.diff(seqs) != 1) + 1]
        ends = np.r_[starts[1:], len(seqs)]
        k = len(starts) - 1
        if around is not None:  # the stretch holding it, or the first after it
            k = min(k, int(np.searchsorted(seqs[ends - 1], around)))
        frame = frame.iloc[starts[k]:ends[k]]
        return frame, int(frame.index[0])

    # ------------------------------------------------------------- readings
    async def ingest_async(self, name: str, times: np.ndarray,
                           values: np.ndarray) -> dict[str, Any]:
        """:meth:`ingest` in one of the ``scoring_threads`` (from the event loop)."""
        if self._scoring is None:  # made in the loop; no await before it is set
            self._scoring = anyio.CapacityLimiter(self.settings.scoring_threads)
        return await anyio.to_thread.run_sync(functools.partial(self.ingest, name, times,
                                                                values), limiter=self._scoring)

    def ingest(self, name: str, times: np.ndarray, values: np.ndarray) -> dict[str, Any]:
        """Score a batch of rows of unit ``name``; store them and the episodes."""
        arrived = time.perf_counter()
        rt = self.runtime(name)
        with rt.lock:
            if rt.last_time is not None and times[0] <= rt.last_time:
                raise Conflict(f"the first row's time {iso(times[0])} is not after the unit's "
                               f"last stored row ({iso(rt.last_time)}); send only newer rows.")
            assert rt.monitor is not None
            period = getattr(rt.det, "sample_period_", None)
            plausible.refuse_other_period(rt.steps, times, rt.last_time, period)
            out = feed_runs(rt.monitor, times, pd.DataFrame(values, columns=rt.sensors),
                            period, rt.last_time)
            first = rt.rows_seen
            scores = out.scores["score"].to_numpy(dtype=float)
            try:
                with self.db.write() as s:
                    self._lock_unit(s, rt)
                    s.execute(insert(Reading), [
                        {"unit_id": rt.unit_id, "seq": first + i, "t": float(times[i]),
                         "vals": json.dumps(nan_none(values[i])),
                         "score": None if not np.isfinite(scores[i]) else float(scores[i])}
                        for i in range(len(times))])
                    s.execute(update(Unit).where(Unit.id == rt.unit_id).values(
                        rows_seen=first + len(times), last_time=float(times[-1])))
                    events = self._episodes(s, rt, out.opened, out.closed, times, first,
                                            out.causes)
                    self._prune(s, rt, float(times[-1]))
            except Exception:
                self.install(rt, rt.det, rt.version or 1)  # the monitor is ahead: rebuild
                raise
            rt.rows_seen = first + len(times)
            rt.steps = plausible.recent_steps(rt.steps, times, rt.last_time)
            rt.last_time = float(times[-1])
        took = time.perf_counter() - arrived
        self.metrics.scored(len(times), took)
        for kind, ep_id, more in events:
            self.events.publish(kind, unit=name, alarm=ep_id, **more)
        cur = rt.monitor.current
        return {"unit": name, "scored": len(times), "first_row": first,
                "missing": int(np.isnan(values).any(axis=1).sum()),
                "scores": [None if not np.isfinite(v) else float(v) for v in scores],
                "opened": [e for k, e, _ in events if k == "alarm-opened"],
                "closed": [e for k, e, _ in events if k == "alarm-closed"],
                "causes": [{"alarm": e, **more["cause"]} for k, e, more in events
                           if k == "alarm-cause"],
                "in_alarm": cur is not None, "latency_ms": round(1000 * took, 3)}

    def _lock_unit(self, s: Session, rt: UnitRuntime) -> None:
        """Lock the unit's row and its open alarm's, read afresh: an acknowledgement
        (which locks the alarm's row) waits for the batch, and the batch closes the alarm
        from the state the acknowledgement left, not from one read before it committed
        (on PostgreSQL the alarm was acknowledged, yet 'returned - unacknowledged')."""
        s.execute(select(Unit.id).where(Unit.id == rt.unit_id).with_for_update())
        if rt.open_episode is not None:
            s.get(Episode, rt.open_episode, with_for_update=True, populate_existing=True)

    def _episodes(self, s: Session, rt: UnitRuntime, opened: list[PolicyEpisode],
                  closed: list[PolicyEpisode], times: np.ndarray, first: int,
                  causes: list[Cause] | None = None) -> list[tuple[str, int, dict[str, Any]]]:
        """Store the batch's episode changes in row order - openings, new causes (a
        second fault in the open episode, :meth:`_cause`), closings - and the open
        episode's summary; the events to publish, ``(kind, alarm id, detail)``."""
        def t_of(seq: int) -> float:
            if seq >= first:
                return float(times[min(seq - first, len(times) - 1)])
            t = s.scalar(select(Reading.t).where(Reading.unit_id == rt.unit_id,
                                                 Reading.seq == seq))
            return float(t) if t is not None else float(times[0])

        happened: list[tuple[str, int, dict[str, Any]]] = []
        todo: list[tuple[int, int, Any]] = [(e.start, 0, e) for e in opened]
        todo += [(c.row, 1, c) for c in causes or []] + [(e.end, 2, e) for e in closed]
        for _, what, e in sorted(todo, key=lambda x: (x[0], x[1])):
            if what == 1:
                said = self._cause(s, rt, e, t_of)
                if said is not None and rt.open_episode is not None:
                    happened.append(("alarm-cause", rt.open_episode, {"cause": said}))
            elif what == 0:
                if rt.open_episode is None:
                    ep = Episode(unit_id=rt.unit_id, start_seq=rt.seq0 + e.start,
                                 end_seq=rt.seq0 + e.end, start_t=t_of(rt.seq0 + e.start),
                                 end_t=t_of(rt.seq0 + e.end), peak=e.peak, kind=e.kind,
                                 sensors=sensors_text(e.sensors), fault=e.fault, active=True,
                                 state="active-unacknowledged", model_version=rt.version)
                    s.add(ep)
                    s.flush()
                    rt.open_episode = ep.id
                    happened.append(("alarm-opened", ep.id, {}))
                else:
                    self._update(s, rt.open_episode, rt, e, t_of)
            elif rt.open_episode is not None:
                self._update(s, rt.open_episode, rt, e, t_of)
                self._close(s, rt, rt.open_episode, None)
                happened.append(("alarm-closed", rt.open_episode, {}))
                rt.open_episode = None
        cur = rt.monitor.current if rt.monitor is not None else None
        if cur is not None and rt.open_episode is not None:
            self._update(s, rt.open_episode, rt, cur, t_of)
        return happened

    def _update(self, s: Session, ep_id: int, rt: UnitRuntime, e: PolicyEpisode,
                t_of: Any) -> None:
        ep = s.get(Episode, ep_id)
        if ep is None:
            return
        ep.end_seq = max(ep.end_seq, rt.seq0 + e.end)
        ep.end_t = t_of(ep.end_seq)
        ep.peak = max(ep.peak, float(e.peak))
        # the alarm keeps the kind and the sensors it opened with, first: a later summary
        # (the monitor's view of the whole episode as it grows, or of its tail after a
        # restart) or a second fault (a cause, :meth:`_cause`) adds sensors after them
        stored = episode_sensors(ep.sensors)
        named = stored + [x for x in e.sensors if x not in stored]
        ep.kind, ep.sensors = ep.kind or e.kind, sensors_text(with_causes(named, ep))
        if rt.seq0 + e.start > ep.start_seq:  # a monitor primed again sees only the tail
            ep.fault = ep.fault or e.fault
        else:
            ep.fault = e.fault  # the whole episode's judgement: a name may go as it grows

    def _cause(self, s: Session, rt: UnitRuntime, c: Cause,
               t_of: Any) -> dict[str, Any] | None:
        """Record a new cause in the open episode: its sensor joins the episode's stored
        sensors (after those named, in the order said) and the cause its ``causes``. A
        sensor the episode said already (a monitor primed again after a restart or a model
        change sees the episode from later on, and may say it again) is not said twice;
        returns the event's detail, or None."""
        ep = s.get(Episode, rt.open_episode) if rt.open_episode is not None else None
        if ep is None:
            return None
        known = json.loads(ep.causes or "[]")
        if any(k["sensor"] == c.sensor for k in known):
            return None
        start = rt.seq0 + c.start
        known.append({"sensor": c.sensor, "kind": c.kind, "start_row": start,
                      "start_t": t_of(start), "said_row": rt.seq0 + c.row,
                      "part": float(c.part), "score": float(c.score)})
        ep.causes = json.dumps(known)
        ep.sensors = sensors_text(with_causes(episode_sensors(ep.sensors), ep))
        return {"sensor": c.sensor, "kind": c.kind, "start_row": start,
                "start": iso(t_of(start))}

    def _close(self, s: Session, rt: UnitRuntime, ep_id: int, _: Any) -> None:
        ep = s.get(Episode, ep_id, with_for_update=True)  # locked (:meth:`_lock_unit`)
        if ep is not None and ep.active:
            ep.active = False
            ep.state = ON_RETURN.get(ep.state, ep.state)

    def _prune(self, s: Session, rt: UnitRuntime, now_t: float) -> None:
        """Drop rows older than the retention period, except around alarm episodes.

        The period ends at the newest row, or at the server's clock where that is earlier:
        a row dated ahead of the clock (a gateway's glitch the service did not refuse, a
        replay) never deletes the history before it. The rows between the kept episodes
        go stretch by stretch (one condition per statement: a condition per episode in
        one statement passes SQLite's expression depth of 1000 at ~1000 episodes), from
        where the previous pruning stopped."""
        now_t = min(now_t, plausible.server_time())
        retention = self.settings.retention_days * 86400.0
        last = self._last_prune.get(rt.unit_id)
        if last is not None and now_t - last < min(3600.0, retention / 10):
            return  # at most once per hour of data (or a tenth of the retention)
        self._last_prune[rt.unit_id] = now_t
        cutoff = now_t - retention
        margin = 2 * modelops.context_rows(rt.det) if rt.det is not None else 1000
        mine = Reading.unit_id == rt.unit_id
        hi = s.scalar(select(func.max(Reading.seq)).where(mine, Reading.t < cutoff))
        lo = self._pruned_to.get(rt.unit_id)
        if lo is None:
            lo = s.scalar(select(func.min(Reading.seq)).where(mine))
        if hi is None or lo is None or hi < lo:
            return
        kept = s.execute(select(Episode.start_seq, Episode.end_seq).where(
            Episode.unit_id == rt.unit_id, Episode.start_seq - margin <= hi,
            Episode.end_seq + margin >= lo).order_by(Episode.start_seq)).all()
        gaps, a = [], int(lo)
        for x, y in kept:
            if x - margin > a:
                gaps.append((a, int(x) - margin - 1))
            a = max(a, int(y) + margin + 1)
        if a <= hi:
            gaps.append((a, int(hi)))
        for a, b in gaps:
            s.execute(delete(Reading).where(mine, Reading.seq.between(a, b),
                                            Reading.t < cutoff))
        self._pruned_to[rt.unit_id] = int(hi) + 1

    # ---------------------------------------------------------- model files
    def version_path(self, unit_id: int, version: int) -> Path:
        """Where version ``version`` of unit ``unit_id`` is stored."""
        return self.settings.models_dir / str(unit_id) / f"v{version}.normalcy"

    def write_model(self, unit_id: int, version: int, det: Any,
                    zone: str | None = None) -> Path:
        """Write a model version's file (atomic, fsynced) before its row commits;
        ``zone``: the unit's, recorded in the file."""
        path = self.version_path(unit_id, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        modelops.save(det, path, zone)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return path

    def add_runtime(self, unit: Unit, det: Any) -> None:
        """Start running a unit whose first version was just committed."""
        rt = UnitRuntime(unit.id, unit.name, json.loads(unit.sensors), zone=unit.timezone)
        self.install(rt, det, unit.current_version or 1)
        with self._lock:
            self.units[unit.name] = rt




