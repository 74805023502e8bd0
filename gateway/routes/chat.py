"""The citizen API: create a conversation, send a message, read the transcript."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from gateway import conversations, texts
from gateway.auth import hash_token, new_token
from gateway.conversations import Outgoing, StoredMessage
from gateway.deps import ConversationDep, ServicesDep, load_citizen_conversation, require_token
from gateway.errors import GatewayError, RateLimitedError, UnavailableError
from gateway.jsontypes import obj
from gateway.presenters import message_out, text_direction
from gateway.safety import SAFETY_RESPONSE_ID
from gateway.schemas import (
    ConversationCreated,
    CreateConversation,
    LanguageList,
    LanguageOut,
    MessageOut,
    SendMessage,
    SetLanguage,
    Transcript,
    TurnOut,
    error_responses,
)
from gateway.services import Services
from gateway.texts import NATIVE
from gateway.turn import AssistantUnavailableError

router = APIRouter(prefix="/api")


def _dir_for(services: Services, code: str) -> str:
    return text_direction(services.translator, code)


def _out(services: Services, m: Outgoing) -> MessageOut:
    return MessageOut(
        id=m.id,
        role=m.role,
        text=m.text,
        language=m.language,
        dir=_dir_for(services, m.language),
        source=m.source,
        machine_translated=m.machine_translated,
        translation=_provenance(m),
        basis_id=m.basis_id,
        buttons=m.buttons,
        author=m.author,
        safety=m.response_id == SAFETY_RESPONSE_ID,
    )


def _provenance(m: Outgoing) -> dict[str, object] | None:
    out = obj((m.basis or {}).get("translation_out"))
    if not m.machine_translated or not out:
        return None
    return {k: out.get(k) for k in ("engine", "model", "revision", "source_lang", "target_lang")}


def _language(services: Services, code: str) -> LanguageOut:
    for info in services.translator.languages():
        if info.code == code:
            return LanguageOut(code=code, name=info.name, dir=info.dir)
    return LanguageOut(code=code)


def _check_language(services: Services, code: str) -> None:
    codes = [info.code for info in services.translator.languages()]
    if code not in codes:
        raise GatewayError(
            f"Language '{code}' is not supported. Supported: {', '.join(codes)}."
        )


@router.get("/languages", response_model=LanguageList)
async def languages(services: ServicesDep) -> LanguageList:
    return LanguageList(
        languages=[
            {
                "code": i.code,
                "name": i.name,
                "dir": i.dir,
                "tier": i.tier,
                "available": bool(i.available or i.code in NATIVE),
                "native": i.code in NATIVE,
            }
            for i in services.translator.languages()
        ]
    )


@router.post("/conversations", status_code=201, response_model=ConversationCreated,
             responses=error_responses(400, 413, 429))
async def create_conversation(
    request: Request, services: ServicesDep, body: CreateConversation | None = None
) -> ConversationCreated:
    client = request.client.host if request.client else "unknown"
    wait = await services.create_limiter.take(client)
    if wait > 0:
        raise RateLimitedError(
            "Too many new conversations from this address. Wait a minute and try again.", retry_after_s=wait
        )
    language = body.language if body else None
    if language:
        _check_language(services, language)
    token = new_token()
    preferred = body.preferred_languages if body else []
    conversation_id, started_in, welcome = await services.store.run(
        services.turns.create_conversation, hash_token(token), language, preferred
    )
    return ConversationCreated(
        conversation_id=conversation_id,
        token=token,
        language=_language(services, started_in),
        messages=[_out(services, m) for m in welcome],
    )


@router.post("/conversations/{conversation_id}/messages", response_model=TurnOut,
             responses=error_responses(401, 403, 404, 413, 429, 503))
async def send_message(
    conversation_id: str,
    body: SendMessage,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> TurnOut:
    token = require_token(authorization)
    # One read, under the conversation's lock: the token check and the turn use the same row.
    async with services.locks.get(conversation_id):
        fresh = await load_citizen_conversation(services, conversation_id, token)
        wait = await services.message_limiter.take(fresh.id)
        if wait > 0:
            raise RateLimitedError(
                "You are sending messages very fast. Wait a moment and try again.", retry_after_s=wait
            )
        try:
            result = await services.turns.handle(fresh, body.text)
        except AssistantUnavailableError as exc:
            raise UnavailableError(
                texts.text("rasa_unavailable", fresh.language if fresh.language in NATIVE else "sv")
            ) from exc
    return TurnOut(
        conversation_id=result.conversation_id,
        language=LanguageOut(**result.language),
        messages=[_out(services, m) for m in result.messages],
        handoff=result.handoff,
    )


def _transcript(services: Services, conversation_id: str) -> tuple[list[StoredMessage], dict[str, object] | None]:
    with services.store.connect() as conn:
        rows = conversations.transcript(conn, conversation_id)
        status = services.handoff.latest_status(conn, conversation_id)
    return list(rows), status


@router.get("/conversations/{conversation_id}/messages", response_model=Transcript,
            responses=error_responses(401, 403, 404, 429))
async def transcript(conversation: ConversationDep, services: ServicesDep) -> Transcript:
    await services.conversation_limits.check("transcript", conversation.id)
    rows, status = await services.store.run(_transcript, services, conversation.id)
    return Transcript(
        conversation_id=conversation.id,
        language=_language(services, conversation.language),
        messages=[MessageOut(**message_out(services.translator, r)) for r in rows],
        handoff=status,
    )


@router.post("/conversations/{conversation_id}/language", response_model=LanguageOut,
             responses=error_responses(400, 401, 403, 404, 429))
async def set_language(
    body: SetLanguage, conversation: ConversationDep, services: ServicesDep
) -> LanguageOut:
    await services.conversation_limits.check("language", conversation.id)
    _check_language(services, body.language)
    await services.store.run(services.turns.set_language, conversation.id, body.language)
    return _language(services, body.language)
