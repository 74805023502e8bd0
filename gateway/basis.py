"""Basis records: why the assistant gave each answer, append-only and hash-chained.

Every bot answer gets one record (:class:`BasisRecord`), built here from the turn
(:func:`turn_record`) and written in the same transaction as the answer itself
(:func:`append_answers`, called by ``turn.py``). Each record holds the hash of the
conversation's previous record, so an edited, inserted or deleted record breaks the chain
(``verify_chain``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from gateway.auth import new_id
from gateway.conversations import Outgoing
from gateway.rasa_client import RasaReply
from gateway.store import basis_records
from translation.masking import MaskResult
from translation.service import Translation

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
LOW_CONFIDENCE = 0.6


FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback"})


@dataclass
class Release:
    """What answered: the gateway's version and the hash of the training data."""

    version: str
    data_hash: str
    #: the model release that answered (gateway/releases.py), when the registry knows it
    release_id: int | None = None
    #: False when that release was no longer the live one (a turn answered during a swap)
    live: bool | None = None

    def as_dict(self) -> dict[str, str | int | bool]:
        out: dict[str, str | int | bool] = {"version": self.version, "training_data": self.data_hash}
        if self.release_id is not None:
            out["model_release"] = self.release_id
            out["model_release_live"] = bool(self.live)
        return out


class BasisRecord(BaseModel):
    """Why one answer was given: what was asked (masked), how its language was decided and
    translated, what the NLU understood and which policy answered, the release, safety and
    handoff, and the answer itself. Stored as JSON; ``id``, ``prev_hash`` and ``hash`` are
    added when it is appended to the chain."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    turn: int
    created_at: str
    user_text_masked: str
    pii_masked: list[str]
    language: dict[str, object]
    translation_in: dict[str, object] | None
    text_sv: str | None
    nlu: dict[str, object]
    policy: dict[str, object] | None
    release: dict[str, str | int | bool]
    safety: dict[str, object] | None = None  # why safety information was given, when it was
    id: str | None = None
    response: dict[str, object] | None = None
    translation_out: dict[str, object] | None = None
    handoff: dict[str, object] | None = None


def translation_dict(tr: Translation | None) -> dict[str, object] | None:
    """A translation's provenance as the basis record and the widget's label keep it."""
    if tr is None:
        return None
    return {
        "engine": getattr(tr, "engine", None),
        "model": getattr(tr, "model", None),
        "revision": getattr(tr, "revision", None),
        "score": getattr(tr, "score", None),
        "ok": bool(getattr(tr, "ok", False)),
        "reason": getattr(tr, "reason", None),
        "source_lang": getattr(tr, "source_lang", None),
        "target_lang": getattr(tr, "target_lang", None),
    }


def unverified_line(lang: str) -> dict[str, object]:
    """Provenance of a fixed line no translator has verified (basis record, widget label)."""
    return {"engine": "notice", "model": "translation/notices.yml", "revision": "-", "score": None,
            "ok": True, "reason": None, "source_lang": "sv", "target_lang": lang, "verified": False}


def nlu_of(reply: RasaReply | None) -> dict[str, object]:
    """What the NLU understood (intent, topic, rankings, entities), from Rasa's parse."""
    if reply is None:  # not sent to Rasa: the record keeps the same keys, all empty
        return {"model_id": None, "intent": None, "confidence": None, "ranking": [],
                "topic": None, "topic_confidence": None, "topic_ranking": [], "entities": []}
    parse = reply.parse
    intent = parse.get("intent") or {}
    selector = parse.get("response_selector") or {}
    topic = None
    if intent.get("name") in ("faq", "faq_ambiguous", "sensitive"):
        topic = selector.get("topic")
    return {
        "model_id": reply.model_id,
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "ranking": parse.get("intent_ranking", []),
        "topic": topic,
        "topic_confidence": selector.get("confidence") if topic else None,
        "topic_ranking": selector.get("ranking", []),
        "entities": [e for e in parse.get("entities", []) if e.get("entity") != "language"],
    }


def policy_of(reply: RasaReply | None) -> dict[str, object] | None:
    """The policy and action that answered last, with every action of the turn."""
    if reply is None or not reply.actions:
        return None
    last = reply.actions[-1]
    return {"name": last.get("policy"), "action": last.get("action"), "actions": reply.actions}


def turn_record(
    conversation_id: str, turn: int, now: datetime, masked: MaskResult, language: Mapping[str, object],
    translation_in: Translation | None, text_sv: str | None, reply: RasaReply | None, release: Release,
) -> BasisRecord:
    """What every basis record of this turn shares (step 8); the answers fill in the rest."""
    return BasisRecord(
        conversation_id=conversation_id,
        turn=turn,
        created_at=now.isoformat(),
        user_text_masked=masked.text,
        pii_masked=masked.kinds,
        language=dict(language),
        translation_in=(
            {**(translation_dict(translation_in) or {}), "text_sv": text_sv} if translation_in else None
        ),
        text_sv=text_sv,
        nlu=nlu_of(reply),
        policy=policy_of(reply),
        release={**release.as_dict(), **replica_of(reply)},
    )


def replica_of(reply: RasaReply | None) -> dict[str, str | int | bool]:
    """Which Rasa replica answered (gateway/rasa_replicas.py): its index in
    GATEWAY_RASA_URLS (not its URL: the record is shown to the citizen). The release
    (``model_release``) is that of the model the replica answered with."""
    if reply is None or reply.replica is None:
        return {}
    return {"rasa_replica": reply.replica}


def append_answers(
    conn: Connection, shared: BasisRecord, outgoing: list[Outgoing],
    handoff: dict[str, object] | None, now: datetime,
) -> None:
    """One basis record per answer; its id goes to the widget with the answer."""
    for answer in outgoing:
        answer.basis_id = new_id()
        record = shared.model_copy(update={
            "id": answer.basis_id,
            "response": {"id": answer.response_id, "text_sv": answer.text_sv, "source": answer.source},
            "translation_out": (answer.basis or {}).get("translation_out"),
            "handoff": handoff,
        })
        append(conn, record.model_dump(), now)


def answer_confidence(nlu: Mapping[str, object] | None) -> float | None:
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


def canonical(record: Mapping[str, object]) -> bytes:
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(record: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


# The head of a conversation's chain and the insert after it, built once (every answer runs both).
_HEAD = (
    select(basis_records.c.seq, basis_records.c.hash)
    .where(basis_records.c.conversation_id == bindparam("conversation_id"))
    .order_by(basis_records.c.seq.desc())
    .limit(1)
)
_INSERT = insert(basis_records)


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def chain_head(conn: Connection, conversation_id: str) -> ChainHead:
    row = conn.execute(_HEAD, {"conversation_id": conversation_id}).first()
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
        _INSERT,
        {
            "id": record["id"],
            "conversation_id": record["conversation_id"],
            "seq": head.seq + 1,
            "turn": record["turn"],
            "created_at": created_at,
            "topic": nlu.get("topic") or nlu.get("intent"),
            "language": (record.get("language") or {}).get("code", "sv"),
            "confidence": f"{confidence:.3f}" if isinstance(confidence, float) else None,
            "handoff_reason": (record.get("handoff") or {}).get("reason"),
            "fallback": is_fallback(record),
            "record": record,
            "prev_hash": record["prev_hash"],
            "hash": record["hash"],
        },
    )
    return record


@dataclass(frozen=True)
class ChainReport:
    conversation_id: str
    records: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
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
