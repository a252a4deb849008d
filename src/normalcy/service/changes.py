"""Writes that change a unit: teach it (feedback), undo, acknowledge, shelve (creating
a unit: :mod:`normalcy.service.creation`).

A model change runs under the unit's lock and inside one write transaction that locks
the unit's row: the new version's file is written (atomically) first, then its row and
the unit's pointer commit together; the running monitor switches to the new model only
after the commit. A crash in between leaves a file no row points to, removed at the
next start.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from normalcy.exceptions import InputError
from normalcy.service import modelops
from normalcy.service.auth import Who
from normalcy.service.db import Episode, ModelVersion, Reading, Unit, Write
from normalcy.service.errors import ClientError, Conflict, NotFound
from normalcy.service.fleet import Fleet, UnitRuntime, stored_runs, write_log
from normalcy.service.views import iso


def _change_model(fleet: Fleet, rt: UnitRuntime, who: Who, action: str,
                  change: Any, episode: int | None = None, note: str | None = None,
                  verdict: tuple[str, str | None] | None = None,
                  span: dict[str, Any] | None = None, replaces: int | None = None,
                  seen: int | None = None) -> int:
    """Apply ``change(det) -> version`` to a fresh copy of the current model and commit;
    ``span``: the rows a verdict covers (:func:`span_of`), recorded in the audit log;
    ``replaces``: the version of the alarm's verdict this one replaces (:func:`_judged`);
    ``seen``: the version the caller saw in force (:func:`_moved_on`)."""
    with rt.lock:
        path = None
        try:
            with fleet.db.write() as s:
                u = s.get(Unit, rt.unit_id, with_for_update=True)
                if u is None or u.current_version is None:  # pragma: no cover
                    raise NotFound(f"unit {rt.name!r} has no model")
                if seen is not None and u.current_version != seen:
                    _moved_on(s, u, seen, action)
                if episode is not None and verdict is not None:
                    _judged(s.get(Episode, episode), replaces)
                det = modelops.load(fleet.version_path(u.id, u.current_version))
                try:
                    version = int(change(det))
                except InputError as e:
                    raise ClientError(str(e), 422) from None
                path = fleet.write_model(u.id, version, det, u.timezone)
                s.add(ModelVersion(unit_id=u.id, version=version, path=str(path),
                                   action=action, by=who.name, note=note or "",
                                   created_at=time.time()))
                u.current_version = version
                if action in ("undo", "revert"):  # the verdicts taken back leave their alarms
                    _sync_verdicts(s, u.id, rt.name, modelops.in_force(det))
                if episode is not None and verdict is not None:
                    ep = s.get(Episode, episode)
                    if ep is not None:
                        ep.verdict, ep.verdict_fault = verdict
                        ep.verdict_by, ep.verdict_version = who.name, version
                        if ep.acked_by is None:
                            _ack(ep, who, f"feedback: {verdict[0]}")
                write_log(s, who.name, action, rt.name, version=version, episode=episode,
                          verdict=verdict[0] if verdict else None,
                          fault=verdict[1] if verdict else None, note=note, **(span or {}))
        except BaseException:
            if path is not None:  # the row did not commit: no file without its row
                path.unlink(missing_ok=True)
            raise
        fleet.install(rt, det, version)
    fleet.events.publish("model", unit=rt.name, version=version)
    return version


def _moved_on(s: Any, u: Unit, seen: int, action: str) -> None:
    """Refuse (409) an undo or revert made on version ``seen`` when another change came
    first: two engineers pressing "undo" at once would otherwise take back two changes,
    the second one nobody chose."""
    now = s.scalar(select(ModelVersion).where(ModelVersion.unit_id == u.id,
                                              ModelVersion.version == u.current_version))
    how = f" ({now.action} by {now.by})" if now is not None else ""
    what = "undo" if action == "undo" else "go back"
    raise Conflict(f"unit {u.name!r} is at model version {u.current_version}{how}, not at "
                   f"version {seen} that you saw; nothing was changed. Look at its "
                   f"versions, and {what} again from version {u.current_version} if it is "
                   "still needed.")


def _judged(ep: Episode | None, replaces: int | None) -> None:
    """Refuse (409) a verdict on an alarm another verdict judged already, unless it says
    it replaces that one (``replaces``: the verdict's model version, as the alarm shows
    it): two operators judging one alarm at once do not silently overwrite each other."""
    if ep is None or ep.verdict is None or ep.verdict_version == replaces:
        return
    said = ep.verdict + (f" ({ep.verdict_fault})" if ep.verdict_fault else "")
    raise Conflict(f"alarm {ep.id} was already judged {said} by {ep.verdict_by} (model "
                   f"version {ep.verdict_version}); nothing was changed. To replace that "
                   f"verdict, send yours again with \"replaces\": {ep.verdict_version} (the "
                   "earlier verdict stays in the model until an engineer undoes it).")


def _sync_verdicts(s: Any, unit_id: int, unit: str, kept: set[int]) -> None:
    """After an undo or revert, each of the unit's alarms carries the verdict the model
    holds (:func:`normalcy.operator.versions.in_force`): a verdict taken back leaves its
    alarm, one a revert brings back returns to it (from the audit log), and the name of
    a fault only verdicts taken back taught leaves the alarms the model had named with
    it. The acknowledgement stays."""
    for ep in s.scalars(select(Episode).where(Episode.unit_id == unit_id,
                                              Episode.verdict_version.is_not(None))):
        if ep.verdict_version not in kept:
            ep.verdict = ep.verdict_fault = ep.verdict_by = ep.verdict_version = None
    writes = [(w, json.loads(w.detail or "{}")) for w in s.scalars(
        select(Write).where(Write.unit == unit, Write.action == "feedback").order_by(Write.id))]
    taught = {d["fault"] for _, d in writes if d.get("fault") and d.get("version") in kept}
    gone = {d["fault"] for _, d in writes if d.get("fault")} - taught
    if gone:
        for ep in s.scalars(select(Episode).where(Episode.unit_id == unit_id,
                                                  Episode.fault.in_(sorted(gone)))):
            ep.fault = None
    for w, d in writes:
        if d.get("episode") is None or d.get("version") not in kept:
            continue
        ep = s.get(Episode, int(d["episode"]))
        if ep is not None and (ep.verdict_version or 0) < int(d["version"]):
            ep.verdict, ep.verdict_fault = d.get("verdict"), d.get("fault")
            ep.verdict_by, ep.verdict_version = w.user, int(d["version"])


def feedback_range(fleet: Fleet, rt: UnitRuntime, start_seq: int, end_seq: int,
                   verdict: str, fault: str | None, note: str | None, who: Who,
                   episode: int | None = None, replaces: int | None = None) -> int:
    """Teach the unit's model a verdict on stream rows ``start_seq..end_seq`` (included);
    on alarm ``episode``, judged already, only with ``replaces`` (:func:`_judged`).

    The transitions that the streaming scores of those rows cover start up to
    ``2 delta + window - 2`` rows earlier: they are included.
    """
    if verdict not in ("normal", "fault"):
        raise ClientError(f"verdict must be 'normal' or 'fault'. Got {verdict!r} instead.", 422)
    if verdict == "fault":
        if not fault or not isinstance(fault, str) or not fault.strip():
            raise ClientError("a 'fault' verdict needs the fault's name in 'fault'.", 422)
        check_text(fault, "the fault name", 200)
        fault = fault.strip()  # 'Leak ' is the fault the page's 'Leak' names, not another
    elif fault:
        raise ClientError("a 'normal' verdict takes no fault name; drop 'fault'.", 422)
    check_text(note, "the note")
    if end_seq < start_seq:
        raise ClientError("the range ends before it starts.", 422)
    keep = modelops.context_rows(rt.det)
    frame, first = fleet.rows(rt, max(0, start_seq - keep), end_seq + keep)
    if len(frame) == 0 or first > start_seq or int(frame.index[-1]) < end_seq:
        raise Conflict("the rows of this range are no longer stored (older than the "
                       "retention period); send them again with the feedback CLI.")
    s0, e0 = max(0, start_seq - keep) - first, end_seq + 1 - first
    data = stored_runs(frame, rt.sensors, getattr(rt.det, "sample_period_", None))

    def change(det: Any) -> int:
        return modelops.feedback(det, data, max(0, s0), e0, verdict,
                                 fault if verdict == "fault" else None, who.name, note)

    return _change_model(fleet, rt, who, "feedback", change, episode, note,
                         (verdict, fault if verdict == "fault" else None),
                         span_of(start_seq, end_seq, float(frame["time"].loc[start_seq]),
                                 float(frame["time"].loc[end_seq])), replaces)


def span_of(start_seq: int, end_seq: int, start_t: float | None,
            end_t: float | None) -> dict[str, Any]:
    """The rows a verdict covers as an alarm shows its span: the times of its first and
    last rows (ISO 8601) and their stream positions (``start_row``, ``end_row``)."""
    return {"start": iso(start_t), "end": iso(end_t), "start_row": int(start_seq),
            "end_row": int(end_seq)}


def history(fleet: Fleet, rt: UnitRuntime) -> list[dict[str, Any]]:
    """The unit's model's change log, oldest first, a verdict's rows as :func:`span_of`
    says them (from the audit log; for a verdict recorded without them, its alarm's span)
    in place of the model's own ``start``/``end`` - positions in the frame the service
    handed the model, which mean nothing to an operator. Other changes (the fit, undo)
    cover no stream rows: None."""
    h = modelops.history(rt.det)
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()}
        for r in h.astype(object).where(h.notna(), None).to_dict("records")]
    spans: dict[int, dict[str, Any]] = {}
    with fleet.db.read() as s:
        for w in s.scalars(select(Write).where(Write.unit == rt.name,
                                               Write.action == "feedback")):
            d = json.loads(w.detail or "{}")
            if d.get("version") is None:
                continue
            if d.get("start_row") is not None:
                spans[int(d["version"])] = {k: d.get(k) for k in SPAN}
            elif d.get("episode") is not None:
                ep = s.get(Episode, int(d["episode"]))
                if ep is not None:
                    spans[int(d["version"])] = span_of(ep.start_seq, ep.end_seq, ep.start_t,
                                                       ep.end_t)
    out: list[dict[str, Any]] = []
    none: dict[str, Any] = dict.fromkeys(SPAN)
    for r in records:
        span = spans.get(int(r["version"])) if r["action"] == "feedback" else None
        out.append({**r, **(span or none)})
    return out


#: the keys of a verdict's rows in the change log (:func:`span_of`)
SPAN = ("start", "end", "start_row", "end_row")


def signature_said(rt: UnitRuntime, verdict: str, fault: str | None) -> str | None:
    """After a "fault" verdict, what its signature will do, in the operator's words
    (:func:`normalcy.operator.signatures.signature_note`); None after "normal"."""
    from normalcy.operator.signatures import signature_note

    if verdict != "fault" or not fault:
        return None
    return signature_note(rt.det, fault.strip(), mark='"this was normal"')


def undo(fleet: Fleet, rt: UnitRuntime, to: int | None, who: Who,
         seen: int | None = None) -> int:
    """Undo the latest change, or go back to version ``to``; returns the new version.
    ``seen``: the version the engineer saw in force (the unit page's); when another change
    came first, a 409 and nothing changed."""
    if to is not None:
        with fleet.db.read() as s:
            ok = s.scalar(select(ModelVersion.id).where(ModelVersion.unit_id == rt.unit_id,
                                                        ModelVersion.version == to))
        if ok is None and to > (rt.version or 0):
            raise NotFound(f"unit {rt.name!r} has no version {to}.")

    def change(det: Any) -> int:
        try:
            return modelops.undo(det, who.name) if to is None else \
                modelops.revert(det, to, who.name)
        except (ValueError, KeyError, IndexError) as e:
            raise InputError(f"cannot go back: {e}") from None

    return _change_model(fleet, rt, who, "undo" if to is None else "revert", change,
                         seen=seen)


def check_text(text: str | None, what: str, limit: int = 2000) -> None:
    """Refuse (422) a note, comment or fault name longer than ``limit`` characters, or
    holding what no database stores as text: a NUL character (PostgreSQL refuses it) or
    half of a UTF-16 pair (JSON's ``"\\ud800"``: not UTF-8, refused by both)."""
    if text is None:
        return
    if len(text) > limit:
        raise ClientError(f"{what} is longer than {limit} characters.", 422)
    bad = next((c for c in text if c == "\x00" or "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        raise ClientError(f"{what} holds the character {bad!r} at position {text.index(bad)}, "
                          "which is no text; remove it.", 422)


def _ack(ep: Episode, who: Who, comment: str | None) -> None:
    ep.acked_by, ep.acked_at, ep.ack_comment = who.name, time.time(), comment
    ep.state = {"active-unacknowledged": "active-acknowledged",
                "returned-unacknowledged": "normal"}.get(ep.state, ep.state)


def acknowledge(fleet: Fleet, ep_id: int, who: Who, comment: str | None) -> Episode:
    """ISA-18.2 acknowledge: active-unack -> active-ack, returned-unack -> normal."""
    check_text(comment, "the comment")
    with fleet.db.write() as s:
        ep = s.get(Episode, ep_id, with_for_update=True)
        if ep is None:
            raise NotFound(f"alarm {ep_id} does not exist; GET /api/alarms lists them.")
        if ep.state not in ("active-unacknowledged", "returned-unacknowledged"):
            by = (f" by {ep.acked_by} at {str(iso(ep.acked_at))[:19].replace('T', ' ')} UTC"
                  if ep.acked_by else "")
            raise Conflict(f"alarm {ep_id} was already acknowledged{by} (it is {ep.state}); "
                           "nothing was changed.")
        _ack(ep, who, comment)
        write_log(s, who.name, "acknowledge", _unit_name(s, ep), alarm=ep_id, comment=comment)
    fleet.events.publish("alarm-acknowledged", alarm=ep_id)
    return ep


def shelve(fleet: Fleet, ep_id: int, who: Who, minutes: float | None,
           comment: str | None) -> Episode:
    """Shelve an alarm for ``minutes`` (None or 0: unshelve)."""
    if minutes is not None and not (isinstance(minutes, (int, float))
                                    and not isinstance(minutes, bool)
                                    and 0 <= minutes <= 7 * 1440):  # NaN compares False
        raise ClientError(f"minutes must be between 0 and {7 * 1440} (a week). "
                          f"Got {minutes!r} instead.", 422)
    check_text(comment, "the comment")
    with fleet.db.write() as s:
        ep = s.get(Episode, ep_id, with_for_update=True)
        if ep is None:
            raise NotFound(f"alarm {ep_id} does not exist; GET /api/alarms lists them.")
        if minutes:
            ep.shelved_until, ep.shelved_by = time.time() + 60.0 * minutes, who.name
            ep.shelve_comment = comment
        else:
            ep.shelved_until, ep.shelved_by, ep.shelve_comment = None, None, None
        write_log(s, who.name, "shelve" if minutes else "unshelve", _unit_name(s, ep),
                  alarm=ep_id, minutes=minutes, comment=comment)
    fleet.events.publish("alarm-shelved", alarm=ep_id)
    return ep


def _unit_name(s: Any, ep: Episode) -> str | None:
    return s.scalar(select(Unit.name).where(Unit.id == ep.unit_id))


def range_rows(fleet: Fleet, rt: UnitRuntime, start: float, end: float) -> tuple[int, int]:
    """Stream positions of the first and last stored rows with ``start <= time <= end``:
    two lookups on the readings' ``(unit_id, t)`` index (a unit's times rise with its
    positions), not a read of every stored row. :func:`feedback_range` then reads the
    range and its context rows only."""
    def one(*where: Any, last: bool) -> int | None:
        order = Reading.t.desc() if last else Reading.t
        return s.scalar(select(Reading.seq).where(Reading.unit_id == rt.unit_id, *where)
                        .order_by(order).limit(1))

    with fleet.db.read() as s:
        a = one(Reading.t >= start, Reading.t <= end, last=False)
        b = None if a is None else one(Reading.t >= start, Reading.t <= end, last=True)
        if a is None or b is None:
            lo, hi = s.execute(select(func.min(Reading.t), func.max(Reading.t))
                               .where(Reading.unit_id == rt.unit_id)).one()
            held = ("it holds no row yet" if lo is None else
                    f"its stored rows run from {iso(lo)} to {iso(hi)}")
            zone = f"; a time without a UTC offset is {rt.zone}'s clock time" if rt.zone \
                else ""
            raise ClientError(f"no stored row of unit {rt.name!r} lies between {iso(start)} "
                              f"and {iso(end)}: {held}{zone}.", 422)
    return int(a), int(b)
