"""The auditor's view of the transparency log: search, export, figures and the chain check.

Everything here reads ``basis_records`` (and ``feedback``, ``messages``, ``aggregates``);
nothing writes to them. Exports are recorded in ``audit_events`` by the route that makes
them. ``cli_verify`` is ``make audit-verify``.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from gateway import basis
from gateway.store import aggregates, basis_records, feedback, messages

logger = logging.getLogger(__name__)

MAX_EXPORT = 200_000
COUNTS = ("answers", "fallbacks", "handoffs", "low_confidence", "negative_feedback")
NO_TOPIC = "-"


class ExportTooLargeError(Exception):
    """More records match than one export may hold."""


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

    def apply(self, query: Select[Any]) -> Select[Any]:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": as_utc(self.since).isoformat() if self.since else None,
            "to": as_utc(self.until).isoformat() if self.until else None,
            "topic": self.topic,
            "language": self.language,
            "handoff": self.handoff,
            "conversation_id": self.conversation_id,
        }


def _record(row: Any) -> dict[str, Any]:
    value = row.record
    return dict(value) if isinstance(value, dict) else dict(json.loads(value))


def _feedback_values(conn: Connection, basis_ids: list[str]) -> dict[str, int]:
    if not basis_ids:
        return {}
    rows = conn.execute(
        select(feedback.c.basis_id, feedback.c.value).where(feedback.c.basis_id.in_(basis_ids))
    )
    return {r.basis_id: int(r.value) for r in rows}


def search(conn: Connection, filters: RecordFilter, page: int, page_size: int) -> dict[str, Any]:
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
                "record": _record(r),
            }
            for r in rows
        ],
    }


def _vote_name(value: int | None) -> str | None:
    return None if value is None else ("up" if value > 0 else "down")


def export_records(conn: Connection, filters: RecordFilter) -> list[dict[str, Any]]:
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
    out = []
    for row in rows:
        record = _record(row)
        out.append({"record": record, "seq": row.seq, "feedback": _vote_name(votes.get(row.id))})
    return out


def to_jsonl(items: Iterable[dict[str, Any]]) -> str:
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


def _safe_cell(value: Any) -> str:
    """Text for a spreadsheet cell; formulas are neutralised (CSV injection)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(item: dict[str, Any]) -> dict[str, str]:
    record = item["record"]
    nlu = record.get("nlu") or {}
    language = record.get("language") or {}
    response = record.get("response") or {}
    source = response.get("source") or {}
    policy = record.get("policy") or {}
    release = record.get("release") or {}
    confidence = basis.answer_confidence(nlu)
    values: dict[str, Any] = {
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
        "translated_out": "yes" if (record.get("translation_out") or {}).get("ok") else "no",
        "handoff_reason": (record.get("handoff") or {}).get("reason"),
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


def to_csv(items: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        writer.writerow(csv_row(item))
    return buffer.getvalue()


# ---- figures ---------------------------------------------------------------------------
@dataclass
class Counts:
    answers: int = 0
    fallbacks: int = 0
    handoffs: int = 0
    low_confidence: int = 0
    negative_feedback: int = 0
    positive_feedback: int = 0

    def add(self, other: Counts) -> None:
        for name in (*COUNTS, "positive_feedback"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (*COUNTS, "positive_feedback")}


@dataclass
class Figures:
    per_topic: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    per_language: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    per_day: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    total: Counts = field(default_factory=Counts)

    def add(self, day: str, topic: str, language: str, counts: Counts) -> None:
        self.per_topic[topic].add(counts)
        self.per_language[language].add(counts)
        self.per_day[day].add(counts)
        self.total.add(counts)

    def as_dict(self) -> dict[str, Any]:
        def rows(table: dict[str, Counts], key: str) -> list[dict[str, Any]]:
            return [{key: name, **table[name].as_dict()} for name in sorted(table)]

        return {
            "total": self.total.as_dict(),
            "per_topic": rows(self.per_topic, "topic"),
            "per_language": rows(self.per_language, "language"),
            "per_day": rows(self.per_day, "day"),
        }


def record_counts(rows: Iterable[Any], zone: ZoneInfo) -> Iterator[tuple[str, str, str, Counts]]:
    """(day, topic, language, counts) per record row.

    An answer is one basis record. A handoff is counted once per turn (a handed-over turn
    can show several messages: safety information and the answer). Feedback is the vote
    given on that answer.
    """
    seen_handoff: set[tuple[str, int]] = set()
    for r in rows:
        confidence = float(r.confidence) if r.confidence is not None else None
        handoff = 0
        if r.handoff_reason and (r.conversation_id, r.turn) not in seen_handoff:
            seen_handoff.add((r.conversation_id, r.turn))
            handoff = 1
        vote = getattr(r, "vote", None)
        yield (
            local_day(r.created_at, zone),
            r.topic or NO_TOPIC,
            r.language,
            Counts(
                answers=1,
                fallbacks=int(bool(r.fallback)),
                handoffs=handoff,
                low_confidence=int(confidence is not None and confidence < basis.LOW_CONFIDENCE),
                negative_feedback=int(vote is not None and vote < 0),
                positive_feedback=int(vote is not None and vote > 0),
            ),
        )


def counted_rows(conn: Connection, where: Any = None) -> list[Any]:
    c = basis_records.c
    query = (
        select(c.conversation_id, c.turn, c.created_at, c.topic, c.language, c.confidence,
               c.fallback, c.handoff_reason, feedback.c.value.label("vote"))
        .select_from(basis_records.outerjoin(feedback, feedback.c.basis_id == c.id))
        .order_by(c.conversation_id, c.seq)
    )
    if where is not None:
        query = query.where(where)
    return list(conn.execute(query))


def figures(conn: Connection, since: datetime, until: datetime, zone: ZoneInfo) -> Figures:
    """Counts over [since, until): live records plus the aggregates left by purged ones.

    Aggregates are kept per local day, so they count for every day the period touches.
    """
    c = basis_records.c
    result = Figures()
    live = counted_rows(conn, and_(c.created_at >= as_utc(since), c.created_at < as_utc(until)))
    for day, topic, language, counts in record_counts(live, zone):
        result.add(day, topic, language, counts)
    first = local_day(since, zone)
    last = local_day(as_utc(until) - timedelta(microseconds=1), zone)
    for row in conn.execute(
        select(aggregates).where(aggregates.c.day >= first, aggregates.c.day <= last)
    ):
        result.add(row.day, row.topic, row.language, Counts(
            answers=row.answers, fallbacks=row.fallbacks, handoffs=row.handoffs,
            low_confidence=row.low_confidence, negative_feedback=row.negative_feedback,
        ))
    return result


# ---- chain check -----------------------------------------------------------------------
def _columns_problem(row: Any, record: dict[str, Any]) -> str | None:
    """The indexed columns must say what the hashed record says."""
    nlu = record.get("nlu") or {}
    expected = {
        "conversation_id": record.get("conversation_id"),
        "turn": record.get("turn"),
        "topic": nlu.get("topic") or nlu.get("intent"),
        "language": (record.get("language") or {}).get("code", "sv"),
        "handoff_reason": (record.get("handoff") or {}).get("reason"),
    }
    for name, value in expected.items():
        if getattr(row, name) != value:
            return f"column '{name}' does not match the record"
    return None


def verify_conversation(conn: Connection, conversation_id: str) -> basis.ChainReport:
    """The hash chain, the indexed columns, and that every answer still has its record."""
    report = basis.verify_chain(conn, conversation_id)
    rows = conn.execute(
        select(basis_records)
        .where(basis_records.c.conversation_id == conversation_id)
        .order_by(basis_records.c.seq)
    ).all()
    problems: list[tuple[int, str]] = []
    if not report.ok and report.first_broken_seq is not None:
        problems.append((report.first_broken_seq, report.problem or "broken"))
    for row in rows:
        problem = _columns_problem(row, _record(row))
        if problem:
            problems.append((int(row.seq), problem))
            break
    answered = [
        r.basis_id
        for r in conn.execute(
            select(messages.c.basis_id)
            .where(messages.c.conversation_id == conversation_id, messages.c.basis_id.is_not(None))
            .order_by(messages.c.seq)
        )
    ]
    recorded = [r.id for r in rows]
    for position, basis_id in enumerate(answered, start=1):
        if position > len(recorded) or recorded[position - 1] != basis_id:
            problem = "an answer's record is missing" if basis_id not in recorded else "records out of order"
            problems.append((position, problem))
            break
    else:
        if len(recorded) > len(answered):
            problems.append((len(answered) + 1, "record without an answer"))
    if not problems:
        return basis.ChainReport(conversation_id, len(rows), True)
    seq, problem = min(problems, key=lambda p: p[0])  # on a tie, the chain itself speaks first
    return basis.ChainReport(conversation_id, len(rows), False, seq, problem)


def conversations_with_records(conn: Connection) -> list[str]:
    query = union(
        select(basis_records.c.conversation_id.label("id")).distinct(),
        select(messages.c.conversation_id.label("id")).where(messages.c.basis_id.is_not(None)).distinct(),
    )
    return sorted(str(r[0]) for r in conn.execute(query))


@dataclass
class VerifyResult:
    checked: int
    records: int
    broken: list[basis.ChainReport]

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        first = self.broken[0].as_dict() if self.broken else None
        return {
            "ok": self.ok,
            "conversations_checked": self.checked,
            "records_checked": self.records,
            "first_broken": first,
            "broken": [b.as_dict() for b in self.broken],
        }


def verify(conn: Connection, conversation_id: str | None = None) -> VerifyResult:
    ids = [conversation_id] if conversation_id else conversations_with_records(conn)
    reports = [verify_conversation(conn, cid) for cid in ids]
    return VerifyResult(len(reports), sum(r.records for r in reports), [r for r in reports if not r.ok])


def cli_verify(argv: list[str]) -> int:
    """``make audit-verify``: 0 when every chain is intact, 1 naming the first broken link."""
    from gateway.settings import Settings
    from gateway.store import Store

    parser = argparse.ArgumentParser(
        prog="python -m gateway.cli audit-verify",
        description="Check that no basis record was edited, inserted or deleted.",
    )
    parser.add_argument("--conversation", help="check only this conversation id")
    parser.add_argument("--database-url", help="default: GATEWAY_DATABASE_URL / DATABASE_URL or var/gateway.db")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = Settings(database_url=args.database_url)
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"audit-verify: there is no database at {url.removeprefix('sqlite:///')}; nothing to check.")
        return 0
    store = Store(url)
    try:
        store.create_all()
        with store.connect() as conn:
            result = verify(conn, args.conversation)
    finally:
        store.dispose()
    for report in result.broken:
        print(
            f"BROKEN conversation {report.conversation_id}: first broken record seq "
            f"{report.first_broken_seq} ({report.problem})",
            file=sys.stderr,
        )
    status = "all chains intact" if result.ok else f"{len(result.broken)} broken chain(s)"
    print(f"audit-verify: {result.checked} conversations, {result.records} records: {status}")
    return 0 if result.ok else 1
