"""Dependencies shared by the routes (``Annotated`` aliases)."""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from gateway import conversations
from gateway.auth import bearer, token_matches
from gateway.conversations import Conversation
from gateway.errors import ForbiddenError, NotFoundError, UnauthorisedError
from gateway.services import Services

CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")


async def get_services(request: Request) -> Services:
    """The app's services. ``async`` although it awaits nothing: FastAPI runs a plain ``def``
    dependency in a worker thread, a hop that cost more than the rest of the lookup."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _load_conversation(services: Services, conversation_id: str) -> Conversation:
    if not CONVERSATION_ID.match(conversation_id):
        raise NotFoundError(f"Conversation '{conversation_id[:40]}' does not exist.")
    with services.store.connect() as conn:
        row = conversations.get(conn, conversation_id)
    if row is None or row.purged_at is not None:
        raise NotFoundError(f"Conversation '{conversation_id}' does not exist.")
    return row


def require_token(authorization: str | None) -> str:
    token = bearer(authorization)
    if token is None:
        raise UnauthorisedError(
            "This conversation needs its token: send 'Authorization: Bearer <token>' "
            "with the token you got when the conversation was created."
        )
    return token


def citizen_conversation_now(services: Services, conversation_id: str, token: str) -> Conversation:
    """The conversation row, read now on the calling thread, if `token` is its own."""
    row = _load_conversation(services, conversation_id)
    if not token_matches(token, row.token_hash):
        raise ForbiddenError("This token does not belong to this conversation.")
    return row


async def load_citizen_conversation(services: Services, conversation_id: str, token: str) -> Conversation:
    """The conversation row, read now (in a worker thread), if `token` is its own."""
    return await services.store.run(citizen_conversation_now, services, conversation_id, token)


async def citizen_conversation(
    conversation_id: str,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Conversation:
    """The conversation, if the request carries its own bearer token."""
    return await load_citizen_conversation(services, conversation_id, require_token(authorization))


ConversationDep = Annotated[Conversation, Depends(citizen_conversation)]
