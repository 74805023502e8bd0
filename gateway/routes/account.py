"""The logged-in person's own account (``/staff/api/account``: password, second factor) and
the administrators' account list (``/staff/api/admin/users``: deactivate, activate, reset
the second factor). The account's own routes work while a required second factor is still
to be enrolled; everything is audited (``gateway.staff_lifecycle``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway import login_throttle, staff_lifecycle, staff_sessions
from gateway.deps import ServicesDep
from gateway.errors import RateLimitedError
from gateway.routes.staff import SESSIONS_ENDED, session_body
from gateway.schemas import error_responses
from gateway.services import Services
from gateway.staff_accounts import StaffUser
from gateway.staff_lifecycle import AccountSummary
from gateway.staff_schemas import (
    AccountChange,
    AccountOut,
    AccountsOut,
    Ok,
    SessionOut,
    TotpEnrolmentOut,
)
from gateway.staff_sessions import require_login, require_staff
from gateway.store import staff_identities, staff_totp

router = APIRouter(prefix="/staff/api")
LoginDep = Annotated[StaffUser, Depends(require_login)]
AdminDep = Annotated[StaffUser, Depends(require_staff("admin"))]


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits the app shows now")


def _session(request: Request) -> staff_sessions.Session:
    session: staff_sessions.Session = request.state.staff_session
    return session


def _own_account(services: Services, user: StaffUser) -> AccountOut:
    with services.store.connect() as conn:
        enrolled = conn.execute(select(staff_totp.c.confirmed_at).where(staff_totp.c.user_id == user.id)).first()
        linked = conn.execute(select(staff_identities.c.user_id).where(staff_identities.c.user_id == user.id)).first()
    return AccountOut(username=user.username, display_name=user.display_name, role=user.role, active=True,
                      totp=enrolled is not None and enrolled.confirmed_at is not None, sso=linked is not None)


@router.get("/account", responses=error_responses(401))
async def account(services: ServicesDep, user: LoginDep) -> AccountOut:
    return await services.store.run(_own_account, services, user)


@router.post("/account/password", responses=error_responses(401, 403, 422, 429))
async def change_password(body: PasswordBody, request: Request, services: ServicesDep, user: LoginDep) -> Ok:
    # The old password is a password guess like a login's: the same throttle.
    client = request.client.host if request.client else "unknown"
    wait = await services.login_throttle.begin(client, user.username)
    if wait > 0:
        raise RateLimitedError(login_throttle.refusal(wait), retry_after_s=wait)
    await services.store.run(staff_lifecycle.change_own_password, services.store, _session(request),
                             body.old_password, body.new_password)
    await services.login_throttle.succeeded(client, user.username)
    return Ok(ok=True)


@router.post("/account/totp", responses=error_responses(401, 403, 409))
async def begin_totp(request: Request, services: ServicesDep, _: LoginDep) -> TotpEnrolmentOut:
    enrolment = await services.store.run(staff_lifecycle.begin_totp, services.store, _session(request))
    return TotpEnrolmentOut(secret=enrolment.secret, uri=enrolment.uri)


@router.post("/account/totp/confirm", responses=error_responses(401, 403, 422))  # 403: wrong code
async def confirm_totp(body: CodeBody, request: Request, services: ServicesDep, _: LoginDep) -> SessionOut:
    session = _session(request)
    await services.store.run(staff_lifecycle.confirm_totp, services.store, session, body.code)
    method = "password+totp" if session.method == "password" else session.method
    return session_body(staff_sessions.Session(session.id, session.csrf_token, session.expires_at,
                                               session.user, method))


# ---- administrators ---------------------------------------------------------------------
def _out(summary: AccountSummary) -> AccountOut:
    return AccountOut.model_validate(summary.as_dict())


def _summary(services: Services, username: str) -> AccountOut:
    return next(_out(a) for a in staff_lifecycle.accounts(services.store) if a.username == username)


@router.get("/admin/users", responses=error_responses(401, 403))
async def accounts(services: ServicesDep, _: AdminDep) -> AccountsOut:
    listed = await services.store.run(staff_lifecycle.accounts, services.store)
    return AccountsOut(accounts=[_out(a) for a in listed])


async def _changed(services: Services, user: StaffUser, ended: int) -> AccountChange:
    # Open live streams of the account end now too (routes/staff.py), on every replica.
    services.broker.publish("staff", {"type": SESSIONS_ENDED, "user_id": user.id})
    return AccountChange(account=await services.store.run(_summary, services, user.username), sessions_ended=ended)


@router.post("/admin/users/{username}/deactivate", responses=error_responses(401, 403, 404, 409))
async def deactivate(username: str, services: ServicesDep, admin: AdminDep) -> AccountChange:
    user, ended = await services.store.run(staff_lifecycle.set_active, services.store, username, False,
                                           admin.username)
    return await _changed(services, user, ended)


@router.post("/admin/users/{username}/activate", responses=error_responses(401, 403, 404))
async def activate(username: str, services: ServicesDep, admin: AdminDep) -> AccountChange:
    user, ended = await services.store.run(staff_lifecycle.set_active, services.store, username, True,
                                           admin.username)
    return AccountChange(account=await services.store.run(_summary, services, user.username), sessions_ended=ended)


@router.post("/admin/users/{username}/totp-reset", responses=error_responses(401, 403, 404, 409))
async def reset_totp(username: str, services: ServicesDep, admin: AdminDep) -> AccountChange:
    user, ended = await services.store.run(staff_lifecycle.reset_totp, services.store, username, admin.username)
    return await _changed(services, user, ended)
