"""Creating a unit: from a healthy history (fitted in the background, in runs cut at its
gaps), from a history in memory (the demo) or from an uploaded model file. The unit's
row is made first (``fitting``); its version 1 commits when the fit is done, or the unit
is ``failed`` with what went wrong.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from normalcy.exceptions import InputError, ModelFileError
from normalcy.service import modelops
from normalcy.service.auth import Who, check_name
from normalcy.service.db import ModelVersion, Unit
from normalcy.service.errors import ClientError, Conflict, NotFound
from normalcy.service.fitnotes import fit_notes
from normalcy.service.fleet import Fleet, write_log

log = logging.getLogger("normalcy.service")

FIT_PARAMS = ("n_levels", "delta", "window", "threshold")


def _new_unit(fleet: Fleet, name: str, who: Who, status: str, sensors: list[str],
              period: float | None, zone: str | None = None) -> int:
    check_name(name, "unit")
    if "time" in sensors:
        raise ClientError("a sensor is named 'time', the name of each reading's time field "
                          "(POST /api/units/{name}/readings), so no reading could carry its "
                          "value; rename the sensor (e.g. 'time_value') in the history and "
                          "fit the model again.", 422)
    taken = Conflict(f"unit {name!r} exists already; choose another name.")
    try:
        with fleet.db.write() as s:
            old = s.scalar(select(Unit).where(Unit.name == name))
            if old is not None and old.status == "failed" and old.rows_seen == 0 and \
                    s.scalar(select(ModelVersion.id).where(ModelVersion.unit_id == old.id)) \
                    is None:
                s.delete(old)  # a unit whose creation failed: its name is free again
                s.flush()
            elif old is not None:
                raise taken
            u = Unit(name=name, sensors=json.dumps(sensors), status=status,
                     created_by=who.name, period_s=period, created_at=time.time(),
                     timezone=zone)
            s.add(u)
            s.flush()
            write_log(s, who.name, "create-unit", name, status=status)
            return u.id
    except IntegrityError:  # another request created it between the check and the insert
        raise taken from None


def create_from_frame(fleet: Fleet, name: str, frame: pd.DataFrame, who: Who,
                      params: dict[str, Any], period: float | None) -> None:
    """A unit fitted on a healthy history held in memory (in the calling thread)."""
    check_fit_settings(params)
    uid = _new_unit(fleet, name, who, "fitting", [str(c) for c in frame.columns], period)
    det = modelops.fit(frame, {**params, "sample_period": period}, who.name)
    _commit_first_version(fleet, uid, det, who, "fit", notes=fit_notes(det, len(frame)))


def _commit_first_version(fleet: Fleet, unit_id: int, det: Any, who: Who, action: str,
                          zone: str | None = None, notes: list[str] | None = None) -> None:
    """Make ``det`` the unit's version 1 and run it; ``notes``: what the engineer should
    hear about the fit (:func:`fit_notes`), kept in the unit's ``status_detail``."""
    version = modelops.version(det)
    path = fleet.write_model(unit_id, version, det, zone)
    with fleet.db.write() as s:
        u = s.get(Unit, unit_id, with_for_update=True)
        if u is None:  # pragma: no cover - units are never deleted
            raise NotFound("the unit disappeared")
        s.add(ModelVersion(unit_id=unit_id, version=version, path=str(path), action=action,
                           by=who.name, created_at=time.time()))
        u.current_version, u.status = version, "ready"
        u.status_detail = " ".join(notes or [])
        u.sensors = json.dumps(modelops.sensors(det))
    fleet.add_runtime(u, det)


def create_from_model(fleet: Fleet, name: str, path: str, who: Who,
                      shown: str = "the upload") -> None:
    """A unit whose first version is an uploaded model file; ``shown``: the upload's name,
    for messages (the server's temporary copy is no business of the engineer's)."""
    try:
        det, zone = modelops.load_with_zone(path)
    except ModelFileError as e:
        raise ClientError(f"the uploaded file {shown!r} is not a normalcy model: "
                          + str(e).replace(path, shown), 422) from None
    try:
        modelops.check_operable(det)
    except InputError as e:
        raise ClientError(str(e), 422) from None
    uid = _new_unit(fleet, name, who, "fitting", modelops.sensors(det),
                    modelops.sample_period(det), zone)
    _commit_first_version(fleet, uid, det, who, "upload", zone)


def history_only(kind: Any, given: dict[str, Any]) -> None:
    """Refuse (422) a model file's upload that fills a field only a history takes (a fit
    setting, ``time_column``, ``sensors``, ``timezone``): the file brings its own, and the
    field was dropped in silence - a ``timezone`` given with a model left the unit reading
    clock times as UTC."""
    if kind != "model":
        return
    filled = [k for k, v in given.items() if v not in (None, "")]
    if filled:
        raise ClientError(f"a model file brings its own settings and time zone; the form's "
                          f"{', '.join(filled)} apply to a history only. Leave them empty, "
                          "or fit the model with them (normalcy fit --timezone ZONE ...) and "
                          "upload it again; nothing was created.", 422)


def fit_params(given: dict[str, str | None]) -> dict[str, Any]:
    """Fit settings from form fields: ints or "auto" (threshold: a float), checked as
    the detector checks them at fit time (:func:`check_fit_settings`)."""
    out: dict[str, Any] = {}
    for k in FIT_PARAMS:
        v = given.get(k)
        if v in (None, ""):
            continue
        try:
            out[k] = float(v) if k == "threshold" else (v if v == "auto" else int(v))  # type: ignore[arg-type]
        except ValueError:
            how = "a number above 0" if k == "threshold" else "a whole number or 'auto'"
            raise ClientError(f"the fit setting {k}={v!r} is not valid; give {how}, or "
                              "leave it empty for the default.", 422) from None
    check_fit_settings(out)
    return out


def check_fit_settings(params: dict[str, Any]) -> None:
    """A 422 naming the fit setting the detector would refuse and what it takes, before
    a unit is created (the fit would fail later, the unit left 'failed')."""
    try:
        modelops.check_settings(params)
    except InputError as e:
        bad = next((k for k in params if repr(k) in str(e)), None)
        how = (f"change {bad} (or leave it empty for the default)" if bad
               else "change the fit settings")
        raise ClientError(f"the fit settings are not valid: {e} {how[0].upper()}{how[1:]}.",
                          422) from None


def create_from_history(fleet: Fleet, name: str, path: str, who: Who,
                        params: dict[str, Any], background: bool = True, *,
                        columns: dict[str, str | None] | None = None,
                        shown: str = "the upload") -> int:
    """A unit fitted on an uploaded healthy history (the fit runs in the background).

    ``columns``: the form's ``time_column``, ``sensors`` (comma-separated) and
    ``timezone``, as ``normalcy fit`` takes them; ``shown``: the upload's name, for messages."""
    from normalcy.data.tables import read_table

    check_fit_settings(params)
    cols = columns or {}
    sensors = [c.strip() for c in (cols.get("sensors") or "").split(",") if c.strip()]
    try:
        table = read_table(path, time_column=cols.get("time_column") or None,
                           sensors=sensors or None, timezone=cols.get("timezone") or None)
    except InputError as e:
        raise ClientError("the uploaded history cannot be used: "
                          + _form_words(str(e), path, shown), 422) from None
    period = table.sampling_period() if table.time is not None else None
    zone = cols.get("timezone") or None  # read_table checked it
    uid = _new_unit(fleet, name, who, "fitting", list(table.frame.columns), period, zone)

    def run() -> None:
        try:
            det = modelops.fit(table.runs(), {**params, "sample_period": period}, who.name)
            notes = fit_notes(det, len(table.frame),
                              [_form_words(n, path, shown) for n in table.notes],
                              table.ignored)
            _commit_first_version(fleet, uid, det, who, "fit", zone, notes)
        except Exception as e:  # any failure of the fit is reported on the unit
            log.warning("fit of unit %s failed: %s", name, e)
            with fleet.db.write() as s:
                s.execute(update(Unit).where(Unit.id == uid).values(
                    status="failed", status_detail=_form_words(str(e), path, shown)))
        fleet.events.publish("unit", unit=name)

    if background:
        threading.Thread(target=run, name=f"fit-{name}", daemon=True).start()
    else:
        run()
    return uid


def _form_words(text: str, path: str, shown: str) -> str:
    """What reading or fitting an uploaded history said, in the upload form's words: the
    upload's name for the server's temporary file, the form's fields for the command
    line's options."""
    text = text.replace(path, shown).replace("normalcy fit --sensors", "--sensors")
    text = text.replace("--time-column", "the field time_column")
    text = text.replace("Sort the file by time, or pass --sort-time to sort it as it is "
                        "read.", "Sort the file by time and upload it again.")
    text = text.replace("--timezone ZONE", "the field timezone").replace(
        "--timezone", "the field timezone")
    return text.replace("--sensors", "the field sensors")
