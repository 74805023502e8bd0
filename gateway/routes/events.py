"""The citizen's side of a handoff: a live event stream and a call-back request.

``GET /api/conversations/{id}/events`` (``Authorization: Bearer <token>``) is a
Server-Sent Events stream:

- ``handoff``: the handoff status object (or ``null``), sent first and whenever it changes;
- ``message``: a staff reply or a system message, shaped like ``MessageOut``; the SSE ``id``
  is the message's position in the conversation.

A widget opens the stream, then loads the transcript (de-duplicating by message id). When
the connection drops it reconnects with ``Last-Event-ID`` (or ``?after=<id>``) and gets what
it missed, in order, once.

An event id is 1-18 ASCII digits. ``?after=`` is set by the client's own code, so any other
value is a 400 that says what to send. ``Last-Event-ID`` is sent by an EventSource on its
own, from the ids this stream gave it; a value it cannot have got from us is ignored (the
stream starts from now, as on a first connection) rather than refused, because a refusal
would make an EventSource give up for good.

Per conversation, opening the stream and asking for a call-back are limited (429 with
``Retry-After``, see ``gateway.ratelimit``); the same call-back request sent again changes
nothing and pokes nobody.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway import conversations, presenters, pubsub
from gateway.conversations import StoredMessage
from gateway.deps import ConversationDep, ServicesDep
from gateway.errors import GatewayError
from gateway.handoff_texts import citizen_texts
from gateway.jsontypes import obj, text
from gateway.schemas import EventStream, error_responses, event_stream_responses
from gateway.services import Services

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api")

HEARTBEAT_S = 15.0
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
EVENT_ID = re.compile(r"[0-9]{1,18}")  # ASCII only ("²" is a digit to isdigit()); < 2**63


class InvalidEventIdError(GatewayError):
    code = "invalid_event_id"


def event_id(value: str) -> int | None:
    """The event id ``value`` names, or None if it is not 1-18 ASCII digits."""
    return int(value) if EVENT_ID.fullmatch(value) else None


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=6, max_length=24, pattern=r"^\+?[0-9][0-9 ()-]{4,22}[0-9]$")
    name: str | None = Field(None, max_length=100)
    preferred_time: str | None = Field(None, max_length=100)


def sse(event: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def message_out(services: Services, m: StoredMessage) -> presenters.MessageJson:
    """A stored message in the shape of ``schemas.MessageOut``."""
    return presenters.message_out(services.translator, m)


def _max_seq(services: Services, conversation_id: str) -> int:
    with services.store.connect() as conn:
        return conversations.last_seq(conn, conversation_id)


def _since(
    services: Services, conversation_id: str, after: int
) -> tuple[list[StoredMessage], int, dict[str, object] | None]:
    """Staff/system messages after ``after``, the newest seq seen, and the handoff status."""
    with services.store.connect() as conn:
        rows = conversations.messages_since(conn, conversation_id, after)
        status = services.handoff.latest_status(conn, conversation_id)
    newest = max([after, *[r["seq"] for r in rows]])
    return [r for r in rows if r["role"] in ("staff", "system")], newest, status


async def citizen_stream(
    services: Services, broker: pubsub.LocalBroker, conversation_id: str, after: int | None
) -> AsyncIterator[str]:
    async with broker.subscribe(f"conversation:{conversation_id}", "queue") as subscription:
        # Subscribed first, then read: nothing committed after this point can be missed.
        last = after if after is not None else await services.store.run(_max_seq, services, conversation_id)
        rows, last, status = await services.store.run(_since, services, conversation_id, last)
        yield "retry: 2000\n\n" + sse("handoff", status)
        for row in rows:  # what was missed while disconnected
            yield sse("message", message_out(services, row), row["seq"])
        while True:
            poke = await subscription.get(HEARTBEAT_S)
            if poke is None:
                yield ": keep-alive\n\n"
            elif poke[0] == "queue" and (status or {}).get("status") not in ("waiting", "after_hours"):
                continue  # the queue moved, but this conversation is not in it
            rows, last_seen, new_status = await services.store.run(_since, services, conversation_id, last)
            for row in rows:
                yield sse("message", message_out(services, row), row["seq"])
            last = last_seen
            if new_status != status:
                status = new_status
                yield sse("handoff", status)


@router.get("/conversations/{conversation_id}/events", response_class=EventStream,
            responses=event_stream_responses(400, 401, 403, 404, 429))
async def events(
    conversation: ConversationDep,
    services: ServicesDep,
    after: Annotated[str | None, Query(
        description="resume after this event id: the `id` of the last event received (1-18 digits)",
        json_schema_extra={"pattern": EVENT_ID.pattern},
    )] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    resume = None
    if after is not None:
        resume = event_id(after)
        if resume is None:
            raise InvalidEventIdError(
                f"after='{after[:40]}' is not an event id. Send the id of the last event you received "
                "(1-18 digits 0-9), or leave it out to start from now."
            )
    elif last_event_id:
        resume = event_id(last_event_id)  # not one of our ids: start from now (see above)
    await services.conversation_limits.check("events", conversation.id)
    broker = services.broker
    logger.info("events: citizen stream opened conversation=%s after=%s", conversation.id, resume)
    return StreamingResponse(
        citizen_stream(services, broker, conversation.id, resume),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


def _handoff_status(services: Services, conversation_id: str) -> dict[str, object] | None:
    with services.store.connect() as conn:
        status: dict[str, object] | None = services.handoff.latest_status(conn, conversation_id)
    return status


def _save_callback(
    services: Services, conversation_id: str, details: dict[str, str], notice: list[dict[str, object]]
) -> tuple[list[StoredMessage], dict[str, object] | None]:
    now = services.handoff.clock()
    with services.store.begin() as conn:
        stored = services.handoff.request_callback(conn, conversation_id, details, notice, now)
        status = services.handoff.latest_status(conn, conversation_id)
    return stored, status


@router.post("/conversations/{conversation_id}/callback", responses=error_responses(401, 403, 404, 409, 429))
async def request_callback(
    body: CallbackRequest, conversation: ConversationDep, services: ServicesDep
) -> dict[str, object]:
    """Leave a phone number so the contact centre calls back (e.g. outside opening hours)."""
    details = {"phone": body.phone.strip()}
    if body.name and body.name.strip():
        details["name"] = body.name.strip()
    if body.preferred_time and body.preferred_time.strip():
        details["preferred_time"] = body.preferred_time.strip()
    await services.conversation_limits.check("callback", conversation.id)
    notice = citizen_texts(services.translator, "callback_saved", conversation.language)
    fingerprint = hashlib.sha256(json.dumps(details, sort_keys=True).encode("utf-8")).hexdigest()
    async with services.locks.get(conversation.id):
        status = await services.store.run(_handoff_status, services, conversation.id)
        ticket_id = obj(status).get("ticket_id")
        if ticket_id and services.recent_callbacks.get(conversation.id) == (ticket_id, fingerprint):
            return {"handoff": status, "messages": []}  # the same request again: already saved
        stored, status = await services.store.run(_save_callback, services, conversation.id, details, notice)
    ticket_id = text(obj(status).get("ticket_id"))
    services.recent_callbacks.put(conversation.id, (ticket_id or "", fingerprint))
    broker = services.broker
    pubsub.notify(broker, "callback", conversation.id, ticket_id)
    return {"handoff": status, "messages": [message_out(services, m) for m in stored]}
