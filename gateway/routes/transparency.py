"""The transparency API.

Citizens (with their conversation token):
- ``GET  /api/conversations/{id}/basis/{basis_id}``  why this answer, in plain language + raw record
- ``GET  /api/conversations/{id}/basis``             every record of the conversation (download:
  ``?format=json``, the default, or ``?format=text``, readable)
- ``POST /api/conversations/{id}/feedback``          thumbs up/down on one answer

Auditors (staff role ``auditor`` or ``admin``):
- ``GET /staff/api/audit/records``  search by time, topic, language, handoff (paged)
- ``GET /staff/api/audit/export``   JSON Lines or CSV of a day or a period (logged in audit_events)
- ``GET /staff/api/audit/stats``    counts per topic, language and day
- ``GET /staff/api/audit/verify``   the hash-chain check, first broken link

The daily retention job (gateway/retention.py) is started by the lifespan in gateway/main.py.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from gateway import audit_trail, basis, basis_export, basis_queries, explain
from gateway.basis_queries.records import stored_record
from gateway.conversations import Conversation
from gateway.deps import ConversationDep, ServicesDep
from gateway.errors import GatewayError, NotFoundError
from gateway.schemas import IsoDate, IsoDateTime, error_responses, file_responses
from gateway.services import Services
from gateway.staff_accounts import StaffUser
from gateway.staff_sessions import require_staff
from gateway.store import basis_records, feedback, upsert, utcnow

logger = logging.getLogger(__name__)

router = APIRouter()
citizen = APIRouter(prefix="/api/conversations/{conversation_id}", tags=["transparency"])
auditor = APIRouter(prefix="/staff/api/audit", tags=["audit"])

AuditorDep = Annotated[StaffUser, Depends(require_staff("auditor"))]
HEX_ID = r"^[0-9a-f]{32}$"
LANG = r"^[a-z]{2,3}$"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basis_id: str = Field(pattern=HEX_ID, description="the answer's basis_id")
    value: Literal["up", "down"]


class FeedbackOut(BaseModel):
    basis_id: str
    value: Literal["up", "down"]


# ---- citizens ------------------------------------------------------------------------
def _load_record(services: Services, conversation_id: str, basis_id: str) -> dict[str, object]:
    with services.store.connect() as conn:
        row = conn.execute(
            select(basis_records.c.record).where(
                basis_records.c.id == basis_id, basis_records.c.conversation_id == conversation_id
            )
        ).first()
    if row is None:
        raise NotFoundError(f"There is no answer with basis id '{basis_id[:40]}' in this conversation.")
    return stored_record(row)


def _explanation_language(services: Services, requested: str | None, conversation: Conversation) -> str:
    lang = requested or str(conversation.language)
    codes = [str(info.code) for info in services.translator.languages()]
    if requested and requested not in codes:
        raise GatewayError(f"Language '{requested}' is not supported. Supported: {', '.join(codes)}.")
    return lang


@citizen.get("/basis/{basis_id}", responses=error_responses(400, 401, 403, 404))
async def why_this_answer(
    basis_id: str,
    conversation: ConversationDep,
    services: ServicesDep,
    lang: Annotated[str | None, Query(pattern=LANG, description="explanation language")] = None,
) -> dict[str, object]:
    """Why the assistant gave this answer, in plain language, with the raw basis record."""
    if not _is_id(basis_id):
        raise NotFoundError(f"There is no answer with basis id '{basis_id[:40]}' in this conversation.")
    record = await services.store.run(_load_record, services, conversation.id, basis_id)
    language = _explanation_language(services, lang, conversation)
    explanations = await services.store.run(
        explain.explain, record, services.catalogue, language, services.translator
    )
    return {
        "basis_id": basis_id,
        "conversation_id": conversation.id,
        "turn": record.get("turn"),
        "created_at": record.get("created_at"),
        "explanations": [e.as_dict() for e in explanations],
        "record": record,
    }


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(ch in "0123456789abcdef" for ch in value)


def _conversation_export(services: Services, conversation_id: str) -> basis_export.BasisExport:
    with services.store.connect() as conn:
        return basis_export.collect(conn, conversation_id)


@citizen.get("/basis", response_class=Response,
             responses={**file_responses("application/json", "text/plain"), **error_responses(401, 403, 404, 422)})
async def download_basis(
    conversation: ConversationDep,
    services: ServicesDep,
    format: Annotated[Literal["json", "text"], Query(description="json (the records) or text (readable)")] = "json",
) -> Response:
    """All basis records of this conversation as a file (your right of access): JSON, or
    readable text with each answer explained (Swedish or English; both for other languages)."""
    body = await services.store.run(_conversation_export, services, conversation.id)
    if format == "text":
        languages = basis_export.text_languages(str(conversation.language))
        content = await services.store.run(basis_export.as_text, body, services.catalogue, languages)
        media, suffix = "text/plain; charset=utf-8", "txt"
    else:
        content = json.dumps(body, ensure_ascii=False, indent=2)
        media, suffix = "application/json; charset=utf-8", "json"
    logger.info("basis: download conversation=%s format=%s records=%d", conversation.id, format,
                len(body["records"]))
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="ai-underlag-{conversation.id}.{suffix}"',
            "Cache-Control": "no-store",
        },
    )


def _store_feedback(services: Services, conversation_id: str, body: FeedbackIn) -> None:
    with services.store.begin() as conn:
        found = conn.execute(
            select(basis_records.c.id).where(
                basis_records.c.id == body.basis_id, basis_records.c.conversation_id == conversation_id
            )
        ).first()
        if found is None:
            raise NotFoundError(f"There is no answer with basis id '{body.basis_id}' in this conversation.")
        _upsert_feedback(conn, conversation_id, body.basis_id, 1 if body.value == "up" else -1)


def _upsert_feedback(conn: Connection, conversation_id: str, basis_id: str, value: int) -> None:
    statement = upsert(conn, feedback).values(
        basis_id=basis_id, conversation_id=conversation_id, value=value, created_at=utcnow()
    )
    conn.execute(statement.on_conflict_do_update(
        index_elements=["basis_id"],
        set_={"value": statement.excluded.value, "created_at": statement.excluded.created_at},
    ))


@citizen.post("/feedback", response_model=FeedbackOut, responses=error_responses(401, 403, 404, 429))
async def give_feedback(body: FeedbackIn, conversation: ConversationDep, services: ServicesDep) -> FeedbackOut:
    """One vote per answer; voting again changes it."""
    await services.conversation_limits.check("feedback", conversation.id)
    await services.store.run(_store_feedback, services, conversation.id, body)
    logger.info("feedback: conversation=%s value=%s", conversation.id, body.value)
    return FeedbackOut(basis_id=body.basis_id, value=body.value)


# ---- auditors ------------------------------------------------------------------------
def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.timezone)


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Times without an offset are local (Swedish) time."""
    if moment is None:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


class Filters:
    """Query parameters shared by search and export."""

    def __init__(
        self,
        since: Annotated[IsoDateTime | None,
                         Query(alias="from", description="ISO time; local time without offset")] = None,
        until: Annotated[IsoDateTime | None, Query(alias="to", description="ISO time, exclusive")] = None,
        day: Annotated[IsoDate | None, Query(description="a local calendar day, instead of from/to")] = None,
        topic: Annotated[str | None, Query(max_length=128, description="e.g. faq/bygglov")] = None,
        language: Annotated[str | None, Query(pattern=LANG)] = None,
        handoff: Annotated[bool | None, Query(description="only answers handed / not handed to a person")] = None,
        conversation_id: Annotated[str | None, Query(pattern=HEX_ID)] = None,
    ) -> None:
        self.since, self.until, self.day = since, until, day
        self.topic, self.language, self.handoff = topic, language, handoff
        self.conversation_id = conversation_id

    def resolve(self, zone: ZoneInfo) -> basis_queries.RecordFilter:
        since, until = _aware(self.since, zone), _aware(self.until, zone)
        if self.day is not None:
            if since or until:
                raise GatewayError("Give either 'day' or 'from'/'to', not both.")
            since, until = basis_queries.day_bounds(self.day, zone)
        if since and until and since >= until:
            raise GatewayError(f"'from' ({since.isoformat()}) must be before 'to' ({until.isoformat()}).")
        return basis_queries.RecordFilter(since, until, self.topic, self.language, self.handoff,
                                  self.conversation_id)


FiltersDep = Annotated[Filters, Depends()]


def _search(
    services: Services, filters: basis_queries.RecordFilter, page: int, page_size: int
) -> dict[str, object]:
    with services.store.connect() as conn:
        return basis_queries.search(conn, filters, page, page_size)


@auditor.get("/records", responses=error_responses(400, 401, 403))
async def search_records(
    user: AuditorDep,
    services: ServicesDep,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, object]:
    resolved = filters.resolve(_zone(services))
    result = await services.store.run(_search, services, resolved, page, page_size)
    result["filters"] = resolved.as_dict()
    return result


def _export(services: Services, filters: basis_queries.RecordFilter, fmt: str, actor: str) -> tuple[str, int]:
    with services.store.begin() as conn:
        try:
            items = basis_queries.export_records(conn, filters)
        except basis_queries.ExportTooLargeError as exc:
            raise GatewayError(str(exc)) from exc
        body = basis_queries.to_jsonl(items) if fmt == "jsonl" else basis_queries.to_csv(items)
        audit_trail.record(conn, actor, "audit.export", fmt,
                    {"filters": filters.as_dict(), "records": len(items)})
    return body, len(items)


@auditor.get("/export", response_class=Response,
             responses={**file_responses("application/x-ndjson", "text/csv"), **error_responses(400, 401, 403)})
async def export(
    user: AuditorDep,
    services: ServicesDep,
    filters: FiltersDep,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl or csv")] = "jsonl",
) -> Response:
    """A day's (or a period's) records as a file; every export is logged in audit_events."""
    resolved = filters.resolve(_zone(services))
    if resolved.since is None or resolved.until is None:
        raise GatewayError("Choose what to export: 'day=YYYY-MM-DD', or both 'from' and 'to'.")
    body, count = await services.store.run(_export, services, resolved, format, user.username)
    name = f"basis-{resolved.since.astimezone(_zone(services)):%Y%m%d}"
    if filters.day is None:
        name += f"-{resolved.until.astimezone(_zone(services)):%Y%m%d}"
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    logger.info("audit: export by %s format=%s records=%d", user.id, format, count)
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{format}"',
            "Cache-Control": "no-store",
            "X-Record-Count": str(count),
        },
    )


def _figures(
    services: Services, since: datetime, until: datetime
) -> dict[str, dict[str, int] | list[dict[str, str | int]]]:
    with services.store.connect() as conn:
        return basis_queries.figures(conn, since, until, _zone(services)).as_dict()


@auditor.get("/stats", responses=error_responses(400, 401, 403))
async def stats(
    user: AuditorDep,
    services: ServicesDep,
    since: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    until: Annotated[IsoDateTime | None, Query(alias="to")] = None,
) -> dict[str, object]:
    """Answers, fallbacks, handoffs, low-confidence answers and negative feedback, counted
    per topic, language and day (default: the last 30 days)."""
    zone = _zone(services)
    end = _aware(until, zone) or utcnow()
    start = _aware(since, zone) or end - timedelta(days=30)
    if start >= end:
        raise GatewayError(f"'from' ({start.isoformat()}) must be before 'to' ({end.isoformat()}).")
    result = await services.store.run(_figures, services, start, end)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "low_confidence_below": basis.LOW_CONFIDENCE, **result}


def _verify(services: Services, conversation_id: str | None, actor: str) -> dict[str, object]:
    with services.store.connect() as conn:
        result = basis_queries.verify(conn, conversation_id)
    with services.store.begin() as conn:
        audit_trail.record(conn, actor, "audit.verify", conversation_id,
                    {"ok": result.ok, "conversations": result.checked, "broken": len(result.broken)})
    return result.as_dict()


@auditor.get("/verify", responses=error_responses(401, 403))
async def verify(
    user: AuditorDep,
    services: ServicesDep,
    conversation_id: Annotated[str | None, Query(pattern=HEX_ID)] = None,
) -> dict[str, object]:
    """Check the hash chains (one conversation, or all) and report the first broken link."""
    return await services.store.run(_verify, services, conversation_id, user.username)


router.include_router(citizen)
router.include_router(auditor)
