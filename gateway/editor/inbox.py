"""The inbox: what citizens asked and did not get, read from the basis records.

A citizen turn is an inbox candidate when the assistant fell back (``nlu_fallback``), asked
"Menade du …?" and the citizen picked no topic, answered a topic below the confidence
threshold, got a thumbs-down, or was handed to a person for a non-sensitive reason right
after one of those misses. Only the masked text the basis record holds is shown, never the
original; a conversation with any sensitive topic, sensitive handoff or safety hit is left
out entirely, at any time of its life.

Turns are grouped by the normal form of their Swedish text (``scripts/text_similarity``,
the one the near-copy rule uses), so the same question asked twenty times is one item with a
count. An item's id is a hash of that normal form: it names the text, not a conversation.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from gateway.basis import answer_confidence, is_fallback
from gateway.editor.tables import inbox_handled
from gateway.store import basis_records, feedback
from scripts.text_similarity import normalise

#: Why an item is in the inbox, in the order that names an item's main reason.
REASONS = ("fallback", "did_you_mean", "thumbs_down", "low_confidence", "handoff_after_miss")
REASON_LABELS = {
    "fallback": "Assistenten förstod inte",
    "did_you_mean": "\"Menade du …?\" utan val",
    "thumbs_down": "Tummen ned",
    "low_confidence": "Osäkert svar",
    "handoff_after_miss": "Till en person efter ett miss",
}
DID_YOU_MEAN = "utter_did_you_mean"
CHOICE_INTENT = "choose_topic"
SENSITIVE = "sensitive"
MAX_ROWS = 20000  # records read per inbox request; a longer period reads the newest


@dataclass
class Turn:
    """One citizen turn as the inbox sees it (built from its basis records)."""

    conversation_id: str
    turn: int
    text: str
    text_sv: str
    language: str
    topic: str | None
    confidence: float | None
    intent: str | None
    response_ids: list[str] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)
    handoff_reason: str | None = None
    votes: list[int] = field(default_factory=list)


@dataclass
class InboxItem:
    id: str
    text: str
    text_sv: str
    language: str
    reason: str
    reasons: list[str]
    count: int
    predicted_topic: str | None
    confidence: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "text_sv": self.text_sv, "language": self.language,
                "reason": self.reason, "reasons": self.reasons, "count": self.count,
                "predicted_topic": self.predicted_topic, "confidence": self.confidence}


@dataclass(frozen=True)
class InboxFilter:
    since: datetime
    until: datetime
    language: str | None = None
    reason: str | None = None
    topic: str | None = None


def group_key(text_sv: str) -> str:
    """An item's id: 24 hex digits of the hash of the grouped text's normal form."""
    return hashlib.sha256(normalise(text_sv).encode("utf-8")).hexdigest()[:24]


def _is_sensitive_row(topic: str | None, handoff_reason: str | None, record: dict[str, Any]) -> bool:
    nlu = record.get("nlu") or {}
    return bool(
        (topic or "").startswith(SENSITIVE)
        or (handoff_reason or "").startswith(SENSITIVE)
        or str(nlu.get("intent") or "").startswith(SENSITIVE)
        or record.get("safety")
    )


def _sensitive_conversations(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Conversations among ``ids`` with a sensitive topic or handoff in any of their records."""
    wanted = list(set(ids))
    found: set[str] = set()
    c = basis_records.c
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update(conn.execute(
            select(c.conversation_id).distinct().where(
                c.conversation_id.in_(chunk),
                or_(c.topic.like(f"{SENSITIVE}%"), c.handoff_reason.like(f"{SENSITIVE}%")),
            )).scalars())
    return found


def best_guess(nlu: dict[str, Any]) -> tuple[str | None, float | None]:
    """The topic the model leaned towards and how sure it was. For a fallback, Rasa's
    confidence is only the threshold the best intent missed; the best guess is the next
    intent in the ranking (for ``faq``, the response selector's best topic, no surer than
    the intent itself)."""
    if nlu.get("intent") != "nlu_fallback":
        return nlu.get("topic") or nlu.get("intent"), answer_confidence(nlu)
    ranking = [r for r in nlu.get("ranking") or [] if isinstance(r, dict) and r.get("name") != "nlu_fallback"]
    if not ranking:
        return "nlu_fallback", None  # no guess at all
    best = ranking[0]
    confidence = float(best.get("confidence") or 0.0)
    topics = [r for r in nlu.get("topic_ranking") or [] if isinstance(r, dict) and r.get("topic")]
    if best.get("name") == "faq" and topics:
        return str(topics[0]["topic"]), round(min(confidence, float(topics[0].get("confidence") or 0.0)), 4)
    return str(best.get("name")), round(confidence, 4)


def citizen_turns(conn: Connection, since: datetime, until: datetime, low_confidence: float) -> list[Turn]:
    """The period's citizen turns that belong in the inbox, sensitive conversations left out."""
    return [t for t in all_turns(conn, since, until, low_confidence) if t.reasons]


def all_turns(conn: Connection, since: datetime, until: datetime, low_confidence: float) -> list[Turn]:
    """The period's citizen turns with the reasons they belong in the inbox (maybe none),
    sensitive conversations left out."""
    c = basis_records.c
    rows = conn.execute(
        select(c.conversation_id, c.turn, c.topic, c.handoff_reason, c.record, feedback.c.value.label("vote"))
        .select_from(basis_records.outerjoin(feedback, feedback.c.basis_id == c.id))
        .where(and_(c.created_at >= since, c.created_at < until))
        .order_by(c.created_at.desc())
        .limit(MAX_ROWS)
    ).all()
    sensitive = _sensitive_conversations(conn, (r.conversation_id for r in rows))
    turns: dict[tuple[str, int], Turn] = {}
    for r in rows:
        record: dict[str, Any] = r.record if isinstance(r.record, dict) else {}
        if _is_sensitive_row(r.topic, r.handoff_reason, record):
            sensitive.add(r.conversation_id)
        if r.conversation_id in sensitive:
            continue
        nlu = record.get("nlu") or {}
        key = (r.conversation_id, int(r.turn))
        turn = turns.get(key)
        if turn is None:
            text = str(record.get("user_text_masked") or "")
            guess = best_guess(nlu)
            turn = turns[key] = Turn(
                conversation_id=r.conversation_id, turn=int(r.turn), text=text,
                text_sv=str(record.get("text_sv") or text),
                language=str((record.get("language") or {}).get("code") or "sv"),
                topic=guess[0], confidence=guess[1], intent=nlu.get("intent"))
        response_id = str((record.get("response") or {}).get("id") or "")
        turn.response_ids.append(response_id)
        if is_fallback(record):
            turn.reasons.add("fallback")
        if r.vote is not None:
            turn.votes.append(int(r.vote))
            if int(r.vote) < 0:
                turn.reasons.add("thumbs_down")
        if (str(turn.topic or "").startswith("faq/") and turn.confidence is not None
                and turn.confidence < low_confidence and response_id.startswith("utter_faq/")):
            turn.reasons.add("low_confidence")
        if r.handoff_reason:
            turn.handoff_reason = str(r.handoff_reason)
    ordered = sorted((t for t in turns.values() if t.conversation_id not in sensitive),
                     key=lambda t: (t.conversation_id, t.turn))
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous.conversation_id != current.conversation_id:
            continue
        if DID_YOU_MEAN in previous.response_ids and current.intent != CHOICE_INTENT:
            previous.reasons.add("did_you_mean")
        if current.handoff_reason and previous.reasons:
            previous.reasons.add("handoff_after_miss")
    last: dict[str, Turn] = {t.conversation_id: t for t in ordered}
    for t in last.values():  # "Menade du …?" in a conversation's last turn: nothing was chosen
        if DID_YOU_MEAN in t.response_ids:
            t.reasons.add("did_you_mean")
    return ordered


def group(turns: Sequence[Turn], handled: set[str]) -> list[InboxItem]:
    """Turns with the same normalised Swedish text as one item, most asked first."""
    groups: dict[str, list[Turn]] = {}
    for t in turns:
        if not normalise(t.text_sv):
            continue
        key = group_key(t.text_sv)
        if key not in handled:
            groups.setdefault(key, []).append(t)
    items = []
    for key, members in groups.items():
        first = members[0]
        reasons = Counter(r for m in members for r in m.reasons)
        main = next(r for r in REASONS if r in reasons)
        topics = Counter(m.topic for m in members if m.topic)
        topic = topics.most_common(1)[0][0] if topics else None
        confidences = [m.confidence for m in members if m.topic == topic and m.confidence is not None]
        items.append(InboxItem(
            id=key, text=first.text, text_sv=first.text_sv,
            language=Counter(m.language for m in members).most_common(1)[0][0],
            reason=main, reasons=[r for r in REASONS if r in reasons], count=len(members),
            predicted_topic=topic,
            confidence=round(sum(confidences) / len(confidences), 3) if confidences else None,
        ))
    return sorted(items, key=lambda i: (-i.count, i.text_sv))


def handled_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(inbox_handled.c.key)).scalars())


def inbox(conn: Connection, where: InboxFilter, low_confidence: float) -> list[InboxItem]:
    items = group(citizen_turns(conn, where.since, where.until, low_confidence), handled_keys(conn))
    return [
        i for i in items
        if (where.language is None or i.language == where.language)
        and (where.reason is None or where.reason in i.reasons)
        and (where.topic is None or i.predicted_topic == where.topic)
    ]


QUALITY_COLUMNS = ("answers", "fallbacks", "did_you_mean", "low_confidence", "thumbs_up", "thumbs_down",
                   "handoffs")


def quality(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Per predicted topic and language: turns, and how many of them missed in which way."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for t in turns:
        key = (t.topic or "-", t.language)
        row = rows.setdefault(key, {"topic": key[0], "language": key[1], **dict.fromkeys(QUALITY_COLUMNS, 0)})
        row["answers"] += 1
        row["fallbacks"] += int("fallback" in t.reasons)
        row["did_you_mean"] += int("did_you_mean" in t.reasons)
        row["low_confidence"] += int("low_confidence" in t.reasons)
        row["thumbs_up"] += sum(1 for v in t.votes if v > 0)
        row["thumbs_down"] += sum(1 for v in t.votes if v < 0)
        row["handoffs"] += int(t.handoff_reason is not None)
    for row in rows.values():
        misses = row["fallbacks"] + row["did_you_mean"] + row["low_confidence"] + row["thumbs_down"]
        row["miss_share"] = round(min(misses, row["answers"]) / row["answers"], 3)
    return sorted(rows.values(), key=lambda r: (-r["miss_share"], r["topic"], r["language"]))
