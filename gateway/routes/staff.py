"""The staff console: the page at ``/staff`` and its API under ``/staff/api/``.

Login gives an HttpOnly, SameSite=Strict session cookie and a CSRF token; every other
endpoint needs the ``staff`` role (admin passes too), and every state change needs the
token in ``X-CSRF-Token``. Each action is audited and pokes the consoles and the citizen's
stream (``gateway.pubsub``). Actions on one ticket run under the conversation's lock, so
they interleave with the citizen's own messages one at a time, in order.
"""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway import conversations, login_throttle, pubsub, staff_accounts, staff_sessions
from gateway.conversations import StoredMessage
from gateway.deps import ServicesDep
from gateway.errors import (
    ConflictError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    RateLimitedError,
)
from gateway.handoff import OUTCOMES, reasons, views
from gateway.handoff_texts import citizen_texts, staff_reply_texts
from gateway.routes.events import HEARTBEAT_S, STREAM_HEADERS, message_out, sse
from gateway.schemas import EventStream, error_responses, event_stream_responses
from gateway.services import Services
from gateway.settings import Settings
from gateway.staff_accounts import StaffUser
from gateway.staff_schemas import (
    ActionResult,
    CannedOut,
    Ok,
    QueueOut,
    SessionOut,
    TicketDetail,
)
from gateway.staff_sessions import SESSION_COOKIE, require_login, require_staff

logger = logging.getLogger(__name__)
T = TypeVar("T")

STATIC = Path(__file__).resolve().parent.parent / "staff"
SESSIONS_ENDED = "sessions_ended"  # a broker event: every session of one account has ended
# The console: an ES module (console.js) with its imports, and the stylesheet.
ASSETS = {
    **{f"{name}.js": "text/javascript"
       for name in ("console", "state", "dom", "labels", "api", "ticket", "editor", "figures", "newtopic",
                     "account")},
    "console.css": "text/css",
}
# Security headers (CSP, frame-ancestors 'none', nosniff, no-referrer, no-store) are set on
# every response, errors included, by gateway.middleware.SecurityHeaders.

router = APIRouter(prefix="/staff")
api = APIRouter()  # mounted at /staff/api below
StaffDep = Annotated[StaffUser, Depends(require_staff("staff"))]
TICKET_ERRORS = error_responses(401, 403, 404, 409)


# ---- bodies ---------------------------------------------------------------------------
def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("texten får inte vara tom")
    if "\x00" in value:
        raise ValueError("texten får inte innehålla NUL-tecken")
    return value.strip()


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    code: str | None = Field(None, max_length=16)  # the six digits of the second factor, when asked


def secure_cookies(settings: Settings) -> bool:
    return settings.environment == "production" or settings.public_url.startswith("https")


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The pattern states in the schema what _text refuses: only spaces, or a NUL character.
    text: str = Field(min_length=1, max_length=2000,
                      json_schema_extra={"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"})

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _text(value)


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=64, json_schema_extra={"enum": list(OUTCOMES)})


# ---- page -----------------------------------------------------------------------------
@router.get("", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/{asset}", include_in_schema=False)
async def console_asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise NotFoundError(f"Det finns ingen fil '{asset[:64]}' i personalgränssnittet.")
    return FileResponse(STATIC / asset, media_type=ASSETS[asset])


# ---- session --------------------------------------------------------------------------
def session_body(session: staff_sessions.Session) -> SessionOut:
    return SessionOut.model_validate({
        "user": session.user.as_dict(),
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.isoformat(),
        "outcomes": OUTCOMES,
        # The console's labels come from here (gateway.handoff.reasons), not from its own copy.
        "reasons": {r.code: {"label": r.label, "priority": r.priority} for r in reasons.REASONS},
        "priorities": {str(level): name for level, name in reasons.PRIORITY_LABELS.items()},
        "login_method": session.method,
        "needs_totp": session.needs_totp,
    })


@api.post("/login", responses=error_responses(401, 403, 413, 429))
async def login(body: LoginBody, request: Request, response: Response, services: ServicesDep) -> SessionOut:
    # Throttled before the password is hashed, keyed on the name as the lookup reads it.
    client = request.client.host if request.client else "unknown"
    account = staff_accounts.normalise_username(body.username)
    wait = await services.login_throttle.begin(client, account)
    if wait > 0:
        raise RateLimitedError(login_throttle.refusal(wait), retry_after_s=wait)
    if not services.settings.staff_password_login:
        raise ForbiddenError("Inloggning med lösenord är avstängd här. Logga in med kommunens konto.")
    try:
        session = await services.store.run(
            staff_sessions.login, services.store, body.username, body.password, body.code)
    except staff_sessions.TotpRequiredError:
        await services.login_throttle.asked_for_code(client, account)
        raise
    await services.login_throttle.succeeded(client, account)
    staff_sessions.set_cookie(response, session, secure_cookies(services.settings))
    return session_body(session)


@api.get("/me", responses=error_responses(401))
async def me(request: Request, _: Annotated[StaffUser, Depends(require_login)]) -> SessionOut:
    # Any role: the console shows each role its own views (the queue, the editors' workspace),
    # or only the account page while a required second factor is not yet enrolled.
    return session_body(request.state.staff_session)


@api.post("/logout", responses=error_responses(401, 403))
async def logout(request: Request, response: Response, services: ServicesDep,
                 _: Annotated[StaffUser, Depends(require_login)]) -> Ok:
    await services.store.run(staff_sessions.logout, services.store, request.state.staff_session)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return Ok(ok=True)


# ---- queue and tickets ----------------------------------------------------------------
def _queue(services: Services) -> QueueOut:
    with services.store.connect() as conn:
        now = services.handoff.clock()
        return QueueOut(open=views.queue(conn, now), recent=views.recent(conn, now))


@api.get("/queue", responses=error_responses(401, 403))
async def queue(services: ServicesDep, _: StaffDep) -> QueueOut:
    return await services.store.run(_queue, services)


@api.get("/canned", responses=error_responses(401, 403))
async def canned(_: StaffDep) -> CannedOut:
    replies = json.loads((STATIC / "canned.json").read_text(encoding="utf-8"))
    return CannedOut.model_validate({"replies": replies})


def _detail(services: Services, ticket_id: str, user: StaffUser) -> TicketDetail:
    now = services.handoff.clock()
    with services.store.begin() as conn:
        detail = views.detail(conn, ticket_id, now, user)  # call-back details only to the holder
        services.handoff.record_view(conn, ticket_id, user, now)
    return detail


def _swedish_for_staff(services: Services, detail: TicketDetail) -> None:
    """Citizen messages without a Swedish version (English is sent to Rasa as it is) get
    one for the console, machine-translated and labelled; nothing is stored."""
    for message in detail.messages:
        message.text_sv_machine = False
        if message.role == "citizen" and not message.text_sv and message.language != "sv":
            result = services.translator.to_swedish(message.text, message.language)
            if result.ok:
                message.text_sv = result.text
                message.text_sv_machine = True


@api.get("/tickets/{ticket_id}", responses=error_responses(401, 403, 404))
async def ticket(ticket_id: str, services: ServicesDep, user: StaffDep) -> TicketDetail:
    detail = await services.store.run(_detail, services, ticket_id, user)
    await anyio.to_thread.run_sync(_swedish_for_staff, services, detail)
    return detail


def _conversation_of(services: Services, ticket_id: str) -> str:
    with services.store.connect() as conn:
        return str(services.handoff.get(conn, ticket_id).conversation_id)


def _language_of(services: Services, ticket_id: str) -> str:
    with services.store.connect() as conn:
        return conversations.language_of_ticket(conn, ticket_id)


async def _in_ticket(services: Services, ticket_id: str, fn: Callable[[Connection], T]) -> tuple[str, T]:
    """Run ``fn(conn)`` in one transaction under the conversation's lock;
    retried once if a citizen message took the same position at the same moment elsewhere."""
    conversation_id = await services.store.run(_conversation_of, services, ticket_id)

    def work() -> T:
        with services.store.begin() as conn:
            return fn(conn)

    async with services.locks.get(conversation_id):
        for attempt in range(3):
            try:
                return conversation_id, await services.store.run(work)
            except IntegrityError:
                if attempt == 2:
                    raise ConflictError("Samtalet ändrades samtidigt. Försök igen.") from None
    raise AssertionError("unreachable")


def _result(services: Services, conversation_id: str, stored: Sequence[StoredMessage]) -> ActionResult:
    with services.store.connect() as conn:
        status = services.handoff.latest_status(conn, conversation_id)
    return ActionResult.model_validate(
        {"handoff": status, "messages": [message_out(services, m) for m in stored]}
    )


@api.post("/tickets/{ticket_id}/claim", responses=TICKET_ERRORS, response_model_exclude_unset=True)
async def claim(ticket_id: str, services: ServicesDep, user: StaffDep) -> ActionResult:
    language = await services.store.run(_language_of, services, ticket_id)
    notice = await anyio.to_thread.run_sync(
        lambda: citizen_texts(services.translator, "claimed", language, name=user.display_name)
    )
    now = services.handoff.clock()
    cid, stored = await _in_ticket(
        services, ticket_id, lambda conn: services.handoff.claim(conn, ticket_id, user, notice, now))
    pubsub.notify(services.broker, "claimed", cid, ticket_id, queue=True)
    return await services.store.run(_result, services, cid, stored)


@api.post("/tickets/{ticket_id}/release", responses=TICKET_ERRORS, response_model_exclude_unset=True)
async def release(ticket_id: str, services: ServicesDep, user: StaffDep) -> ActionResult:
    now = services.handoff.clock()
    cid, _ = await _in_ticket(services, ticket_id, lambda conn: services.handoff.release(conn, ticket_id, user, now))
    pubsub.notify(services.broker, "released", cid, ticket_id, queue=True)
    return await services.store.run(_result, services, cid, [])


@api.post("/tickets/{ticket_id}/messages", responses=TICKET_ERRORS, response_model_exclude_unset=True)
async def reply(ticket_id: str, body: TextBody, services: ServicesDep, user: StaffDep) -> ActionResult:
    language = await services.store.run(_language_of, services, ticket_id)
    rendered = await anyio.to_thread.run_sync(staff_reply_texts, services.translator, body.text, language)
    now = services.handoff.clock()
    cid, stored = await _in_ticket(
        services, ticket_id, lambda conn: services.handoff.reply(conn, ticket_id, user, body.text, rendered, now))
    pubsub.notify(services.broker, "staff_message", cid, ticket_id)
    logger.info("staff: reply ticket=%s lang=%s translated=%s", ticket_id, language,
                rendered[0]["machine_translated"])
    return await services.store.run(_result, services, cid, stored)


@api.post("/tickets/{ticket_id}/notes", status_code=201, responses=TICKET_ERRORS)
async def note(ticket_id: str, body: TextBody, services: ServicesDep, user: StaffDep) -> Ok:
    now = services.handoff.clock()
    cid, _ = await _in_ticket(
        services, ticket_id, lambda conn: services.handoff.add_note(conn, ticket_id, user, body.text, now))
    broker = services.broker
    broker.publish("staff", {"type": "note", "conversation_id": cid, "ticket_id": ticket_id})
    return Ok(ok=True)


class InvalidOutcomeError(GatewayError):
    status = 422
    code = "invalid_outcome"


async def _close(services: Services, ticket_id: str, user: StaffUser, outcome: str) -> ActionResult:
    if outcome not in OUTCOMES:
        raise InvalidOutcomeError(f"Utfallet '{outcome[:64]}' finns inte. Välj ett av: {', '.join(OUTCOMES)}.")
    language = await services.store.run(_language_of, services, ticket_id)
    key = "returned_to_bot" if outcome == "returned_to_bot" else "closed"
    notice = await anyio.to_thread.run_sync(lambda: citizen_texts(services.translator, key, language))
    now = services.handoff.clock()
    cid, stored = await _in_ticket(
        services, ticket_id, lambda conn: services.handoff.close(conn, ticket_id, user, outcome, notice, now))
    pubsub.notify(services.broker, "closed", cid, ticket_id, queue=True)
    return await services.store.run(_result, services, cid, stored)


@api.post("/tickets/{ticket_id}/return", responses=TICKET_ERRORS, response_model_exclude_unset=True)
async def return_to_bot(ticket_id: str, services: ServicesDep, user: StaffDep) -> ActionResult:
    return await _close(services, ticket_id, user, "returned_to_bot")


@api.post("/tickets/{ticket_id}/close", responses=TICKET_ERRORS, response_model_exclude_unset=True)
async def close(ticket_id: str, body: CloseBody, services: ServicesDep, user: StaffDep) -> ActionResult:
    return await _close(services, ticket_id, user, body.outcome)


# ---- live updates ---------------------------------------------------------------------
async def _staff_stream(services: Services, broker: pubsub.LocalBroker, session_id: str,
                        user_id: str) -> AsyncIterator[str]:
    async with broker.subscribe("staff") as subscription:
        yield "retry: 2000\n\n" + sse("hello", {})
        while True:
            poke = await subscription.get(HEARTBEAT_S)
            if poke is None:
                # Quiet for a while: is the session still valid (not expired, not logged out)?
                if await services.store.run(staff_sessions.lookup, services.store, session_id) is None:
                    yield sse("logged_out", {})
                    return
                yield ": keep-alive\n\n"
                continue
            _, event = poke
            if event.get("type") == SESSIONS_ENDED:
                # An administrator deactivated the account (or reset it): this stream ends now.
                if event.get("user_id") == user_id:
                    yield sse("logged_out", {})
                    return
                continue
            yield sse(str(event.get("type", "update")), event)


@api.get("/events", response_class=EventStream, responses=event_stream_responses(401, 403))
async def staff_events(request: Request, services: ServicesDep, _: StaffDep) -> StreamingResponse:
    broker = services.broker
    session: staff_sessions.Session = request.state.staff_session
    return StreamingResponse(_staff_stream(services, broker, session.id, session.user.id),
                             media_type="text/event-stream",
                             headers=STREAM_HEADERS)


# ``main.py`` includes ``router``; the API routes ride along on it.
router.include_router(api, prefix="/api")
