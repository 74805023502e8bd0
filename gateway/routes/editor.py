"""The editors' workspace API under ``/staff/api/editor/`` (``gateway.editor``).

Session login and CSRF as the rest of the staff API; every endpoint needs the role
``editor`` or ``publisher`` (admin passes too); publishing and rollback need ``publisher``
and, for publishing, someone other than the change set's author.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.editor import inbox
from gateway.editor.changes import STATE_LABELS
from gateway.editor.workspace import EditorWorkspace
from gateway.errors import GatewayError, UnavailableError
from gateway.schemas import error_responses
from gateway.staff_accounts import EDITOR_ROLES, StaffUser
from gateway.staff_sessions import require_staff
from gateway.store import utcnow

router = APIRouter(prefix="/staff/api/editor", tags=["editor"])
EditorDep = Annotated[StaffUser, Depends(require_staff(*EDITOR_ROLES))]
PublisherDep = Annotated[StaffUser, Depends(require_staff("publisher"))]
ERRORS = error_responses(401, 403, 404, 409, 422)
MAX_ID = 2**31 - 1
ChangeId = Annotated[int, Path(ge=1, le=MAX_ID)]
ReleaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
ItemId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]
DAY = Query(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"})
Reason = Literal["fallback", "did_you_mean", "thumbs_down", "low_confidence", "handoff_after_miss"]


def workspace(request: Request) -> EditorWorkspace:
    found: EditorWorkspace | None = getattr(request.app.state.services, "editor", None)
    if found is None:
        raise UnavailableError("Redaktörernas arbetsyta är inte igång. / The editors' workspace is not running.")
    return found


WorkspaceDep = Annotated[EditorWorkspace, Depends(workspace)]


# ---- bodies ---------------------------------------------------------------------------
URL_PATTERN = r"^https://karlstad\.se/[!#-&(-;=?-~]*$"
class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = Field(min_length=5, max_length=128, pattern=r"^faq/[a-z0-9_]+$")
    text: str = Field(min_length=1, max_length=500)
    language: Literal["sv", "en"] | None = None


class NewTopicBody(BaseModel):
    """A new topic from an inbox question (gateway/editor/new_topic.py checks the rest)."""

    model_config = ConfigDict(extra="forbid")
    topic: str = Field(min_length=7, max_length=44, pattern=r"^faq/[a-z][a-z0-9_]+$")
    text: str = Field(min_length=1, max_length=500)
    label_sv: str = Field(min_length=2, max_length=60)
    label_en: str = Field(min_length=2, max_length=60)
    text_sv: str = Field(min_length=20, max_length=1500)
    text_en: str = Field(min_length=20, max_length=1500)
    title: str = Field(min_length=2, max_length=200)
    # Printable ASCII without quotes or angle brackets: the same set in Python's and in the
    # schema's (ECMAScript) regular expressions, which disagree on what \S excludes.
    url: str = Field(min_length=21, max_length=500, pattern=URL_PATTERN)  # a page, not the bare site
    owner: str = Field("", max_length=128)
    examples_sv: list[str] = Field(default_factory=list, max_length=80)
    examples_en: list[str] = Field(default_factory=list, max_length=80)


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    why: Literal["out_of_scope", "noise"]


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = Field(min_length=5, max_length=128, pattern=r"^faq/[a-z0-9_]+$")
    text_sv: str | None = Field(None, min_length=1, max_length=3000)
    text_en: str | None = Field(None, min_length=1, max_length=3000)
    url: str | None = Field(None, max_length=500, pattern=URL_PATTERN)
    owner: str | None = Field(None, max_length=200)
    checked: dt.date | None = None

    def edits(self) -> dict[str, str]:
        values = self.model_dump(exclude={"topic"})
        return {k: (v.isoformat() if isinstance(v, dt.date) else str(v).strip())
                for k, v in values.items() if v is not None}


class InvalidDayError(GatewayError):
    status = 422
    code = "invalid_day"


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidDayError(f"'{value}' är inget datum. Skriv ÅÅÅÅ-MM-DD. / Not a date: use YYYY-MM-DD.") from exc


# ---- inbox ----------------------------------------------------------------------------
@router.get("/inbox", responses=error_responses(401, 403, 422))
async def get_inbox(
    ws: WorkspaceDep, _: EditorDep,
    since: Annotated[str | None, DAY] = None,
    until: Annotated[str | None, DAY] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
    reason: Reason | None = None,
    topic: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, object]:
    """Missed questions over a period (``since``/``until``, days in UTC, or the last ``days``)."""
    now = utcnow()
    first, last = _day(since), _day(until)
    start = dt.datetime.combine(first, dt.time(), dt.UTC) if first else now - dt.timedelta(days=days)
    end = dt.datetime.combine(last, dt.time(), dt.UTC) + dt.timedelta(days=1) if last else now
    where = inbox.InboxFilter(since=start, until=end, language=language, reason=reason, topic=topic)
    items = await anyio.to_thread.run_sync(ws.inbox_items, where)
    return {"items": [i.as_dict() for i in items], "reasons": inbox.REASON_LABELS,
            "since": start.isoformat(), "until": end.isoformat()}


@router.get("/quality", responses=error_responses(401, 403, 422))
async def quality(
    ws: WorkspaceDep, _: EditorDep,
    since: Annotated[str | None, DAY] = None,
    until: Annotated[str | None, DAY] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> dict[str, object]:
    """Per topic and language: answers, fallbacks, "Menade du", unsure answers, thumbs up and
    down, handoffs (sensitive conversations left out, as in the inbox)."""
    now = utcnow()
    first, last = _day(since), _day(until)
    start = dt.datetime.combine(first, dt.time(), dt.UTC) if first else now - dt.timedelta(days=days)
    end = dt.datetime.combine(last, dt.time(), dt.UTC) + dt.timedelta(days=1) if last else now
    rows = await anyio.to_thread.run_sync(ws.quality, start, end)
    return {"items": rows, "since": start.isoformat(), "until": end.isoformat()}


@router.post("/inbox/{item_id}/assign", status_code=201, responses=ERRORS)
async def assign(item_id: ItemId, body: AssignBody, ws: WorkspaceDep, user: EditorDep) -> dict[str, object]:
    return await anyio.to_thread.run_sync(ws.assign, item_id, body.topic, body.text, body.language, user)


@router.post("/inbox/{item_id}/new-topic", status_code=201, responses=ERRORS)
async def new_topic(item_id: ItemId, body: NewTopicBody, ws: WorkspaceDep, user: EditorDep) -> dict[str, object]:
    fields = body.model_dump(include={"label_sv", "label_en", "text_sv", "text_en", "title", "url", "owner"})
    examples = [("sv", e) for e in body.examples_sv if e.strip()] + [("en", e) for e in body.examples_en if e.strip()]
    return await anyio.to_thread.run_sync(ws.new_topic, item_id, body.topic, body.text, fields, examples, user)


@router.post("/inbox/{item_id}/dismiss", responses=ERRORS)
async def dismiss(item_id: ItemId, body: DismissBody, ws: WorkspaceDep, user: EditorDep) -> dict[str, bool]:
    await anyio.to_thread.run_sync(ws.dismiss, item_id, body.why, user)
    return {"ok": True}


# ---- topics and answers ---------------------------------------------------------------
@router.get("/answers", responses=error_responses(401, 403))
async def answers(ws: WorkspaceDep, _: EditorDep, overdue: bool = False) -> dict[str, object]:
    items = await anyio.to_thread.run_sync(ws.answers)
    return {"items": [a for a in items if a["overdue"] or not overdue]}


@router.post("/answers/preview", responses=ERRORS)
async def answer_preview(body: AnswerBody, ws: WorkspaceDep, _: EditorDep) -> dict[str, object]:
    return await anyio.to_thread.run_sync(ws.answer_preview, body.topic, body.edits())


@router.post("/answers", responses=ERRORS)
async def save_answer(body: AnswerBody, ws: WorkspaceDep, user: EditorDep) -> dict[str, object]:
    return await anyio.to_thread.run_sync(ws.save_answer, body.topic, body.edits(), user)


# ---- change sets and releases ---------------------------------------------------------
@router.get("/changes", responses=error_responses(401, 403))
async def list_changes(ws: WorkspaceDep, _: EditorDep) -> dict[str, object]:
    def work() -> list[dict[str, object]]:
        from gateway.editor import changes

        with ws.store.connect() as conn:
            return [c.summary() for c in changes.listing(conn)]

    return {"items": await anyio.to_thread.run_sync(work), "states": STATE_LABELS}


@router.get("/changes/{change_id}", responses=error_responses(401, 403, 404))
async def change(change_id: ChangeId, ws: WorkspaceDep, _: EditorDep) -> dict[str, object]:
    return await anyio.to_thread.run_sync(ws.change_detail, change_id)


@router.post("/changes/{change_id}/submit", responses=ERRORS)
async def submit(change_id: ChangeId, ws: WorkspaceDep, user: EditorDep) -> dict[str, object]:
    return await anyio.to_thread.run_sync(ws.submit, change_id, user)


@router.post("/changes/{change_id}/publish", responses=error_responses(401, 403, 404, 409, 503))
async def publish(change_id: ChangeId, ws: WorkspaceDep, user: PublisherDep) -> dict[str, object]:
    return await ws.publish(change_id, user)


@router.get("/releases", responses=error_responses(401, 403))
async def releases(ws: WorkspaceDep, _: EditorDep) -> dict[str, object]:
    return {"items": await ws.releases()}


@router.post("/releases/{release_id}/rollback", responses=error_responses(401, 403, 404, 409, 503))
async def rollback(release_id: ReleaseId, ws: WorkspaceDep, user: PublisherDep) -> dict[str, object]:
    return await ws.rollback(release_id, user)
