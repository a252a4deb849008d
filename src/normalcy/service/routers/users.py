"""``/api/users`` (engineers: list, add, revoke) and ``/api/me``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from normalcy.exceptions import InputError
from normalcy.service.auth import ANONYMOUS, add_user, new_user_token, revoke_user
from normalcy.service.db import User
from normalcy.service.deps import Engineer, FleetDep, Reader, json_body, known_fields
from normalcy.service.errors import ClientError
from normalcy.service.views import iso

router = APIRouter(prefix="/api", tags=["users"])


@router.get("/me")
def me(who: Reader) -> dict:
    """Who the caller is (``anonymous`` without credentials)."""
    return {"name": who.name, "role": who.role, "logged_in": who is not ANONYMOUS}


@router.get("/users")
def users(fleet: FleetDep, _: Engineer) -> list:
    """Every user and role (never their tokens)."""
    with fleet.db.read() as s:
        return [{"name": u.name, "role": u.role, "created_at": iso(u.created_at),
                 "revoked_at": iso(u.revoked_at), "revoked_by": u.revoked_by}
                for u in s.scalars(select(User).order_by(User.name))]


@router.post("/users", status_code=201)
async def create_user(request: Request, fleet: FleetDep,
                      who: Engineer) -> dict:
    """``{"name": ..., "role": ...}``: the answer holds the new token, shown only once."""
    data = await json_body(request, fleet.settings.max_body_bytes)
    if isinstance(data, dict):  # a field it does not take ('units': a role is for all)
        known_fields(data, ("name", "role"), "adding a user")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or \
            not isinstance(data.get("role"), str):
        raise ClientError('send {"name": NAME, "role": "viewer|operator|engineer"}.', 422)
    try:
        token = await run_in_threadpool(add_user, fleet.db, data["name"], data["role"],
                                        who.name)
    except InputError as e:
        raise ClientError(str(e), 409 if "exists" in str(e) else 422) from None
    return {"name": data["name"], "role": data["role"], "token": token}


@router.post("/users/{name}/revoke")
async def revoke(name: str, fleet: FleetDep, who: Engineer) -> dict:
    """Revoke a user's access at once (their token and browser sessions are refused from
    the next request on); recorded in the audit log. Revoking twice changes nothing."""
    try:
        done = await run_in_threadpool(revoke_user, fleet.db, name, who.name)
    except InputError as e:
        raise ClientError(str(e), 404) from None
    return {"name": done.name, "role": done.role, "revoked_at": iso(done.at),
            "revoked_by": done.by, "already": done.before}


@router.post("/users/{name}/token", status_code=201)
async def new_token_of(name: str, fleet: FleetDep, who: Engineer) -> dict:
    """A new token for a user (a lost or leaked one): the old token and their browser
    sessions are refused from the next request on; recorded in the audit log. The answer
    holds the new token, shown only once."""
    try:
        token = await run_in_threadpool(new_user_token, fleet.db, name, who.name)
    except InputError as e:
        raise ClientError(str(e), 404 if "does not exist" in str(e) else 409) from None
    return {"name": name, "token": token}
