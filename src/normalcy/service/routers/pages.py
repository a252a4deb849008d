"""The operator web page: server-rendered templates (Jinja2, every string escaped), small
plain JavaScript for live updates and the trend charts (uPlot, vendored with its licence).

A browser logs in with a token and gets a session cookie (HttpOnly, SameSite=Strict);
every form carries the session's CSRF token. Reading needs no login unless the settings
say so; acting needs the role the API needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from sqlalchemy import select

from normalcy.alarms.policy import kind_words
from normalcy.exceptions import InputError
from normalcy.service import changes, creation, flash
from normalcy.service.auth import (
    ANONYMOUS,
    SESSION_COOKIE,
    SESSION_S,
    Who,
    close_session,
    csrf_ok,
    open_session,
)
from normalcy.service.db import ModelVersion, Unit
from normalcy.service.deps import AlarmId, FleetDep, form_columns, identify
from normalcy.service.errors import ClientError
from normalcy.service.fleet import Fleet
from normalcy.service.routers.alarms import alarms_to_show, list_episodes, load_episode
from normalcy.service.routers.system import kpi_data
from normalcy.service.routers.units import upload_suffix
from normalcy.service.views import episode_json, iso, unit_json

router = APIRouter(include_in_schema=False)
_env = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                   autoescape=True)
_env.filters["kind_words"] = kind_words


def sensor_code(text: str) -> Markup:
    """Text whose sensor names are marked `so` (explanations, as the command line prints
    them) with those names in ``<code>``, not between backticks; the rest escaped.

    Examples
    --------
    >>> str(sensor_code("`h1` reads 2 <above> `v1`"))
    '<code>h1</code> reads 2 &lt;above&gt; <code>v1</code>'
    """
    return Markup(re.sub(r"`([^`\n]+)`", r"<code>\1</code>", str(escape(text))))


_env.filters["sensor_code"] = sensor_code
templates = Jinja2Templates(env=_env)
STATE_LABEL = {"active-unacknowledged": "ACTIVE - unacknowledged",
               "active-acknowledged": "active - acknowledged",
               "returned-unacknowledged": "returned - unacknowledged", "normal": "normal"}


def _who(request: Request, fleet: Fleet) -> Who:
    try:
        return identify(request, fleet)
    except ClientError:
        return ANONYMOUS


def _closed(request: Request, fleet: Fleet) -> Response | None:
    """The way to the login page when reading needs a login and the caller has none;
    asked before a page reads anything (an anonymous caller learnt which alarms and
    units exist, and had the explanations and KPIs computed, before the redirect)."""
    if not fleet.settings.anonymous_read and _who(request, fleet) is ANONYMOUS:
        return RedirectResponse("/login", status_code=303)
    return None


def _page(request: Request, fleet: Fleet, name: str, fragment: bool = False,
          **context: Any) -> Response:
    """A page; a whole page (not a ``fragment``) shows and spends the message the
    service left for it in the flash cookie (never text from the page's address)."""
    who = _who(request, fleet)
    if who is ANONYMOUS and not fleet.settings.anonymous_read and name != "login.html":
        return RedirectResponse("/login", status_code=303)
    said = None if fragment else flash.unseal(request.app.state.flash_key,
                                              request.cookies.get(flash.COOKIE))
    resp = templates.TemplateResponse(request, name, {
        "who": who, "logged_in": who is not ANONYMOUS, "csrf": who.csrf or "",
        "msg": said[1] if said and said[0] == "msg" else None,
        "error": said[1] if said and said[0] == "error" else None,
        "labels": STATE_LABEL, **context})
    if not fragment and flash.COOKIE in request.cookies:
        resp.delete_cookie(flash.COOKIE, path="/")
    return resp


async def _form(request: Request, fleet: Fleet, role: str) -> tuple[Who, Any]:
    """The posted form, after checking the session and the role (before the form is
    read: an anonymous post uploads nothing) and the CSRF token."""
    who = _who(request, fleet)
    if who is ANONYMOUS or who.csrf is None:
        raise ClientError("log in first.", 401)
    if not who.can(role):
        raise ClientError(f"user {who.name!r} is {who.role_said}; this needs the {role} role.",
                          403)
    form = await request.form()
    if not csrf_ok(who, str(form.get("csrf") or "")):
        raise ClientError("the form's CSRF token is missing or stale; reload the page.", 403)
    return who, form


def _back(request: Request, url: str, msg: str | None = None,
          error: str | None = None) -> RedirectResponse:
    """A redirect to ``url``, whose page then says ``msg`` or ``error`` once."""
    resp = RedirectResponse(url, status_code=303)
    if msg or error:
        value = flash.seal(request.app.state.flash_key, "msg" if msg else "error",
                           str(msg or error))
        resp.set_cookie(flash.COOKIE, value, max_age=flash.TTL_S, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return resp


def _whole(text: str) -> int | None:
    """``text`` as a whole number written in ASCII digits, else None (``str.isdigit``
    takes '²', which ``int`` refuses).

    >>> _whole("12"), _whole("²"), _whole("")
    (12, None, None)
    """
    return int(text) if text.isascii() and text.isdigit() else None


@router.get("/", response_class=HTMLResponse)
def alarm_list(request: Request, fleet: FleetDep) -> Response:
    """The live alarm list."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    return _page(request, fleet, "alarms.html", alarms=alarms_to_show(fleet))


@router.get("/fragments/alarms", response_class=HTMLResponse)
def alarm_rows(request: Request, fleet: FleetDep) -> Response:
    """The alarm list's table body (refreshed by the page on each event)."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    return _page(request, fleet, "alarm_rows.html", fragment=True,
                 alarms=alarms_to_show(fleet))


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, fleet: FleetDep) -> Response:
    """The login form."""
    return _page(request, fleet, "login.html")


@router.post("/login")
async def login(request: Request, fleet: FleetDep) -> Response:
    """Log in with a token: sets the session cookie."""
    form = await request.form()
    token = str(form.get("token") or "").strip()
    got = await run_in_threadpool(open_session, fleet.db, token) if token else None
    if got is None:
        return _back(request, "/login", error="that token is not valid; ask an engineer for "
                     "one.")
    value, who = got
    resp = _back(request, "/", msg=f"logged in as {who.name} ({who.role})")
    resp.set_cookie(SESSION_COOKIE, value, max_age=int(SESSION_S), httponly=True,
                    samesite="strict", secure=request.url.scheme == "https", path="/")
    return resp


@router.post("/logout")
async def logout(request: Request, fleet: FleetDep) -> Response:
    """Forget the session."""
    form = await request.form()
    who = _who(request, fleet)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and csrf_ok(who, str(form.get("csrf") or "")):
        await run_in_threadpool(close_session, fleet.db, cookie)
    resp = _back(request, "/login", msg="logged out")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/alarms/{ep_id}", response_class=HTMLResponse)
def alarm_page(ep_id: AlarmId, request: Request, fleet: FleetDep) -> Response:
    """One alarm: trend, explanation, acknowledge / shelve / feedback."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    try:
        ep, name = load_episode(fleet, ep_id)
    except ClientError as e:
        return _back(request, "/", error=str(e))
    explanation = None
    try:
        from normalcy.service.routers.alarms import explanation as explain

        explanation = explain(ep_id, fleet, ANONYMOUS)["text"]
    except ClientError as e:
        explanation = f"(no explanation: {e})"
    return _page(request, fleet, "alarm.html", alarm=episode_json(ep, name),
                 explanation=explanation)


@router.post("/alarms/{ep_id}/{action}")
async def alarm_action(ep_id: AlarmId, action: str, request: Request,
                       fleet: FleetDep) -> Response:
    """The alarm page's forms: acknowledge, shelve, normal, fault."""
    here = f"/alarms/{ep_id}"
    try:
        who, form = await _form(request, fleet, "operator")
        note = str(form.get("note") or "").strip() or None
        if action == "acknowledge":
            await run_in_threadpool(changes.acknowledge, fleet, ep_id, who, note)
            return _back(request, here, msg="acknowledged")
        if action == "shelve":
            typed = str(form.get("minutes") or "").strip()
            if not typed:  # 'Shelve' with the box emptied: no guess that it unshelves
                raise ClientError("give the minutes to shelve the alarm for (0 unshelves "
                                  "it); nothing was changed.", 422)
            try:
                minutes = float(typed)
            except ValueError:
                raise ClientError(f"minutes must be a number. Got {typed!r} instead.",
                                  422) from None
            await run_in_threadpool(changes.shelve, fleet, ep_id, who, minutes, note)
            return _back(request, here,
                         msg=f"shelved for {minutes:g} min" if minutes else "unshelved")
        if action in ("normal", "fault"):
            ep, name = load_episode(fleet, ep_id)
            rt = fleet.runtime(name)
            fault = str(form.get("fault") or "").strip() or None
            seen = str(form.get("replaces") or "")  # the verdict the page showed
            v = await run_in_threadpool(changes.feedback_range, fleet, rt, ep.start_seq,
                                        ep.end_seq, action, fault, note, who, ep_id,
                                        _whole(seen))
            what = "normal" if action == "normal" else f"fault {fault}"
            said = changes.signature_said(rt, action, fault)
            return _back(request, here, msg=f"marked {what}: model version {v} in force"
                         + (f" - {said}" if said else ""))
        raise ClientError(f"unknown action {action!r}.", 404)
    except ClientError as e:
        return _back(request, here, error=str(e))


@router.get("/units", response_class=HTMLResponse)
def units_page(request: Request, fleet: FleetDep) -> Response:
    """Every unit; engineers can create one."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    with fleet.db.read() as s:
        units = [unit_json(u) for u in s.scalars(select(Unit).order_by(Unit.name))]
    return _page(request, fleet, "units.html", units=units)


@router.post("/units")
async def create_unit(request: Request, fleet: FleetDep) -> Response:
    """The units page's form (engineers): a unit from a history or a model file."""
    import os
    import tempfile

    try:
        who, form = await _form(request, fleet, "engineer")
        try:  # the form's upload is closed whatever is refused
            name, kind, upload = str(form.get("name") or ""), form.get("kind"), form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise ClientError("choose a file to upload.", 422)
            creation.history_only(kind, {k: form.get(k) for k in ("time_column", "sensors",
                                                                  "timezone")})
            fd, tmp = tempfile.mkstemp(suffix=upload_suffix(upload.filename, kind),
                                       dir=fleet.settings.data)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(await upload.read())
                if kind == "model":
                    await run_in_threadpool(creation.create_from_model, fleet, name, tmp, who,
                                            upload.filename)
                else:
                    await run_in_threadpool(
                        creation.create_from_history, fleet, name, tmp, who, {},
                        fleet.settings.background_fit, columns=form_columns(form),
                        shown=upload.filename)
            finally:
                os.unlink(tmp)
        finally:
            await form.close()
        return _back(request, f"/units/{quote(name)}", msg="unit created")
    except (ClientError, InputError) as e:  # InputError: the unit's name (check_name)
        return _back(request, "/units", error=str(e))


@router.get("/units/{name}", response_class=HTMLResponse)
def unit_page(name: str, request: Request, fleet: FleetDep) -> Response:
    """A unit: its model versions and history; undo for engineers."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    with fleet.db.read() as s:
        u = s.scalar(select(Unit).where(Unit.name == name))
        if u is None:
            return _back(request, "/units", error=f"unit {name!r} does not exist")
        versions = [{"version": v.version, "action": v.action, "by": v.by, "note": v.note,
                     "time": iso(v.created_at)} for v in s.scalars(
                         select(ModelVersion).where(ModelVersion.unit_id == u.id)
                         .order_by(ModelVersion.version.desc()))]
    history: list[dict[Any, Any]] = []
    rt = fleet.units.get(name)
    if rt is not None:
        history = changes.history(fleet, rt)[::-1]
    return _page(request, fleet, "unit.html", unit=unit_json(u), versions=versions,
                 history=history, alarms=list_episodes(fleet, unit=name, limit=50))


@router.post("/units/{name}/undo")
async def unit_undo(name: str, request: Request, fleet: FleetDep) -> Response:
    """The unit page's undo form (engineers)."""
    here = f"/units/{quote(name)}"
    try:
        who, form = await _form(request, fleet, "engineer")
        raw = str(form.get("to") or "").strip()
        to = None
        if raw:
            to = _whole(raw)
            if to is None:
                raise ClientError(f"'{raw}' is not a version number.", 422)
        seen = _whole(str(form.get("from") or ""))  # the version the page showed
        v = await run_in_threadpool(changes.undo, fleet, fleet.runtime(name), to, who, seen)
        return _back(request, here, msg=f"model version {v} in force")
    except ClientError as e:
        return _back(request, here, error=str(e))


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(request: Request, fleet: FleetDep) -> Response:
    """Alarm-load KPIs with the EEMUA 191 reference lines."""
    if (closed := _closed(request, fleet)) is not None:
        return closed
    return _page(request, fleet, "kpis.html", kpis=kpi_data(fleet))
