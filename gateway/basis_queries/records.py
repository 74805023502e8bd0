"""Basis records as the auditor searches and exports them: a filter, one page of results,
and the raw records as JSON Lines (exactly as hashed) or as a spreadsheet-safe CSV.

Read only: nothing here writes to ``basis_records``. The route that exports records writes
the export to the staff audit trail (``gateway.audit_trail``).
"""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypedDict, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from gateway import basis
from gateway.jsontypes import obj
from gateway.store import basis_records, feedback

logger = logging.getLogger(__name__)

MAX_EXPORT = 200_000


_Columns = TypeVarTuple("_Columns")


class ExportTooLargeError(Exception):
    """More records match than one export may hold."""


class StoredRecordRow(Protocol):
    """A ``basis_records`` row: the record column is JSON, or JSON text on some databases."""

    @property
    def record(self) -> object: ...


class ExportItem(TypedDict):
    """One exported record: the record exactly as hashed, its place in the chain, the vote."""

    record: dict[str, object]
    seq: int
    feedback: str | None


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite gives those back) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A local calendar day as [start, end) in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return as_utc(start), as_utc(start + timedelta(days=1))


def local_day(moment: datetime, zone: ZoneInfo) -> str:
    return as_utc(moment).astimezone(zone).date().isoformat()


@dataclass(frozen=True)
class RecordFilter:
    since: datetime | None = None
    until: datetime | None = None
    topic: str | None = None
    language: str | None = None
    handoff: bool | None = None
    conversation_id: str | None = None

    def apply(self, query: Select[*_Columns]) -> Select[*_Columns]:
        c = basis_records.c
        if self.since is not None:
            query = query.where(c.created_at >= as_utc(self.since))
        if self.until is not None:
            query = query.where(c.created_at < as_utc(self.until))
        if self.topic:
            query = query.where(c.topic == self.topic)
        if self.language:
            query = query.where(c.language == self.language)
        if self.handoff is True:
            query = query.where(c.handoff_reason.is_not(None))
        elif self.handoff is False:
            query = query.where(c.handoff_reason.is_(None))
        if self.conversation_id:
            query = query.where(c.conversation_id == self.conversation_id)
        return query

    def as_dict(self) -> dict[str, object]:
        return {
            "from": as_utc(self.since).isoformat() if self.since else None,
            "to": as_utc(self.until).isoformat() if self.until else None,
            "topic": self.topic,
            "language": self.language,
            "handoff": self.handoff,
            "conversation_id": self.conversation_id,
        }


def stored_record(row: StoredRecordRow) -> dict[str, object]:
    value = row.record
    if isinstance(value, str | bytes):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError(f"A stored basis record is a JSON object, not {type(value).__name__}.")
    return {str(k): v for k, v in value.items()}


def _feedback_values(conn: Connection, basis_ids: list[str]) -> dict[str, int]:
    if not basis_ids:
        return {}
    rows = conn.execute(
        select(feedback.c.basis_id, feedback.c.value).where(feedback.c.basis_id.in_(basis_ids))
    )
    return {r.basis_id: int(r.value) for r in rows}


def search(conn: Connection, filters: RecordFilter, page: int, page_size: int) -> dict[str, object]:
    """One page of records, newest first, with the total that matched."""
    c = basis_records.c
    total = conn.execute(filters.apply(select(func.count()).select_from(basis_records))).scalar_one()
    rows = conn.execute(
        filters.apply(select(basis_records))
        .order_by(c.created_at.desc(), c.conversation_id, c.seq.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    votes = _feedback_values(conn, [r.id for r in rows])
    return {
        "total": int(total),
        "page": page,
        "page_size": page_size,
        "items": [
            {
                "id": r.id,
                "conversation_id": r.conversation_id,
                "seq": r.seq,
                "turn": r.turn,
                "created_at": as_utc(r.created_at).isoformat(),
                "topic": r.topic,
                "language": r.language,
                "confidence": float(r.confidence) if r.confidence is not None else None,
                "fallback": bool(r.fallback),
                "handoff_reason": r.handoff_reason,
                "feedback": _vote_name(votes.get(r.id)),
                "record": stored_record(r),
            }
            for r in rows
        ],
    }


def _vote_name(value: int | None) -> str | None:
    return None if value is None else ("up" if value > 0 else "down")


def export_records(conn: Connection, filters: RecordFilter) -> list[ExportItem]:
    """Every matching raw record, oldest first (per conversation in chain order)."""
    count = conn.execute(filters.apply(select(func.count()).select_from(basis_records))).scalar_one()
    if count > MAX_EXPORT:
        raise ExportTooLargeError(
            f"{count} records match; one export holds at most {MAX_EXPORT}. Choose a shorter period."
        )
    c = basis_records.c
    rows = conn.execute(
        filters.apply(select(basis_records)).order_by(c.created_at, c.conversation_id, c.seq)
    ).all()
    votes = _feedback_values(conn, [r.id for r in rows])
    out: list[ExportItem] = []
    for row in rows:
        record = stored_record(row)
        out.append({"record": record, "seq": row.seq, "feedback": _vote_name(votes.get(row.id))})
    return out


def to_jsonl(items: Iterable[ExportItem]) -> str:
    """One raw record per line, exactly as hashed (an auditor can recompute every hash)."""
    return "".join(
        json.dumps(item["record"], ensure_ascii=False, sort_keys=True) + "\n" for item in items
    )


CSV_COLUMNS = (
    "id", "conversation_id", "seq", "turn", "created_at", "language", "language_confidence",
    "language_method", "translated_in", "intent", "topic", "confidence", "fallback", "policy",
    "action", "response_id", "source_title", "source_url", "translated_out", "handoff_reason",
    "feedback", "model_id", "release", "training_data", "user_text_masked", "answer_sv",
    "prev_hash", "hash",
)


def _safe_cell(value: object) -> str:
    """Text for a spreadsheet cell; formulas are neutralised (CSV injection)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(item: ExportItem) -> dict[str, str]:
    record = item["record"]
    nlu = obj(record.get("nlu"))
    language = obj(record.get("language"))
    response = obj(record.get("response"))
    source = obj(response.get("source"))
    policy = obj(record.get("policy"))
    release = obj(record.get("release"))
    confidence = basis.answer_confidence(nlu)
    values: dict[str, object] = {
        "id": record.get("id"),
        "conversation_id": record.get("conversation_id"),
        "seq": str(item.get("seq", "")),
        "turn": str(record.get("turn", "")),
        "created_at": record.get("created_at"),
        "language": language.get("code"),
        "language_confidence": str(language.get("confidence", "")),
        "language_method": language.get("method"),
        "translated_in": "yes" if record.get("translation_in") else "no",
        "intent": nlu.get("intent"),
        "topic": nlu.get("topic"),
        "confidence": f"{confidence:.3f}" if confidence is not None else None,
        "fallback": "yes" if basis.is_fallback(record) else "no",
        "policy": policy.get("name"),
        "action": policy.get("action"),
        "response_id": response.get("id"),
        "source_title": source.get("title"),
        "source_url": source.get("url"),
        "translated_out": "yes" if obj(record.get("translation_out")).get("ok") else "no",
        "handoff_reason": obj(record.get("handoff")).get("reason"),
        "feedback": item.get("feedback"),
        "model_id": nlu.get("model_id"),
        "release": release.get("version"),
        "training_data": release.get("training_data"),
        "user_text_masked": record.get("user_text_masked"),
        "answer_sv": response.get("text_sv"),
        "prev_hash": record.get("prev_hash"),
        "hash": record.get("hash"),
    }
    return {k: _safe_cell(values[k]) for k in CSV_COLUMNS}


def to_csv(items: Iterable[ExportItem]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        writer.writerow(csv_row(item))
    return buffer.getvalue()
