"""Basis records: why the assistant gave each answer, append-only and hash-chained.

Every bot answer gets one record, written in the same transaction as the answer itself
(see ``turn.py``). Each record holds the hash of the conversation's previous record, so
an edited, inserted or deleted record breaks the chain (``verify_chain``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from gateway.auth import new_id
from gateway.store import basis_records

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
LOW_CONFIDENCE = 0.6


FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback"})


def answer_confidence(nlu: dict[str, Any] | None) -> float | None:
    """How sure the assistant was of what it understood (0-1), or None without a parse.

    With a retrieval topic both the intent and the topic had to be right, so the lower of
    the two confidences counts; otherwise the intent's.
    """
    if not nlu:
        return None
    values = [nlu.get("confidence")]
    if nlu.get("topic"):
        values.append(nlu.get("topic_confidence"))
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    return min(numbers) if numbers else None


def is_fallback(record: dict[str, Any]) -> bool:
    nlu = record.get("nlu") or {}
    policy = record.get("policy") or {}
    return nlu.get("intent") == "nlu_fallback" or policy.get("action") in FALLBACK_ACTIONS


def canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def chain_head(conn: Connection, conversation_id: str) -> ChainHead:
    row = conn.execute(
        select(basis_records.c.seq, basis_records.c.hash)
        .where(basis_records.c.conversation_id == conversation_id)
        .order_by(basis_records.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return ChainHead(0, GENESIS)
    return ChainHead(int(row.seq), str(row.hash))


def append(conn: Connection, record: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """Complete ``record`` (id, prev_hash, hash) and append it to its conversation's chain."""
    head = chain_head(conn, record["conversation_id"])
    record = dict(record)
    record.setdefault("id", new_id())
    record["prev_hash"] = head.hash
    record["hash"] = record_hash(record)
    nlu = record.get("nlu") or {}
    confidence = answer_confidence(nlu)
    conn.execute(
        insert(basis_records).values(
            id=record["id"],
            conversation_id=record["conversation_id"],
            seq=head.seq + 1,
            turn=record["turn"],
            created_at=created_at,
            topic=nlu.get("topic") or nlu.get("intent"),
            language=(record.get("language") or {}).get("code", "sv"),
            confidence=f"{confidence:.3f}" if isinstance(confidence, float) else None,
            handoff_reason=(record.get("handoff") or {}).get("reason"),
            fallback=is_fallback(record),
            record=record,
            prev_hash=record["prev_hash"],
            hash=record["hash"],
        )
    )
    return record


@dataclass(frozen=True)
class ChainReport:
    conversation_id: str
    records: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "records": self.records,
            "ok": self.ok,
            "first_broken_seq": self.first_broken_seq,
            "problem": self.problem,
        }


def verify_chain(conn: Connection, conversation_id: str) -> ChainReport:
    rows = conn.execute(
        select(basis_records)
        .where(basis_records.c.conversation_id == conversation_id)
        .order_by(basis_records.c.seq)
    ).all()
    previous = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        record = row.record if isinstance(row.record, dict) else json.loads(row.record)
        if row.seq != expected_seq:
            return ChainReport(conversation_id, len(rows), False, expected_seq, "record missing")
        if record.get("prev_hash") != previous or row.prev_hash != previous:
            return ChainReport(conversation_id, len(rows), False, row.seq, "link to previous record broken")
        if record_hash(record) != record.get("hash") or row.hash != record.get("hash"):
            return ChainReport(conversation_id, len(rows), False, row.seq, "record content changed")
        previous = row.hash
    return ChainReport(conversation_id, len(rows), True)


def conversation_ids(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(basis_records.c.conversation_id).distinct())]


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(basis_records)).scalar_one())
