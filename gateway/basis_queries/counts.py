"""Figures for the auditor: answers, fallbacks, handoffs, low-confidence answers and feedback,
per topic, language and local day, over live basis records plus the aggregates that purged
conversations left behind (``gateway.retention`` counts with the same functions).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.engine import Connection, Row

from gateway import basis
from gateway.basis_queries.records import as_utc, local_day
from gateway.store import aggregates, basis_records, feedback

COUNTS = ("answers", "fallbacks", "handoffs", "low_confidence", "negative_feedback")
NO_TOPIC = "-"


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

    def as_dict(self) -> dict[str, dict[str, int] | list[dict[str, str | int]]]:
        def rows(table: dict[str, Counts], key: str) -> list[dict[str, str | int]]:
            return [{key: name, **table[name].as_dict()} for name in sorted(table)]

        return {
            "total": self.total.as_dict(),
            "per_topic": rows(self.per_topic, "topic"),
            "per_language": rows(self.per_language, "language"),
            "per_day": rows(self.per_day, "day"),
        }


class CountedRow(Protocol):
    """What :func:`record_counts` reads of a record row (``counted_rows``; retention's own query)."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def turn(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def confidence(self) -> float | None: ...
    @property
    def fallback(self) -> bool: ...
    @property
    def handoff_reason(self) -> str | None: ...


def record_counts(rows: Iterable[CountedRow], zone: ZoneInfo) -> Iterator[tuple[str, str, str, Counts]]:
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
        vote: int | None = getattr(r, "vote", None)  # the feedback, where the query joined it
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


# conversation_id, turn, created_at, topic, language, confidence, fallback, handoff_reason, vote
CountedColumns = tuple[str, int, datetime, str | None, str, float | None, bool, str | None, int | None]


def counted_rows(conn: Connection, where: ColumnElement[bool] | None = None) -> list[Row[CountedColumns]]:
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
