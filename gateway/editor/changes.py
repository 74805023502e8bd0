"""Change sets: an editor's examples and answer edits, and their life cycle.

    draft ──submit──> queued ──> training ──> testing ──> ready ──publish──> published
                         ▲           └───────────┴──> failed (reason) ──submit──┘

An editor has at most one open ``draft``; assignments and answer edits go into it (it is
made on first use). ``submit`` stages the change (``content.stage``) and queues it for the
job runner (``gateway.editor.jobs``); a restart puts an interrupted job back in the queue.
All functions are synchronous and take a connection (``store.begin()``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from gateway.editor.content import ChangeContent
from gateway.editor.tables import change_answers, change_examples, change_sets, change_topics
from gateway.errors import ConflictError, NotFoundError
from gateway.staff_accounts import StaffUser
from gateway.store import aware, utcnow

STATES = ("draft", "queued", "training", "testing", "ready", "failed", "published")
STATE_LABELS = {
    "draft": "Utkast", "queued": "I kö", "training": "Tränas", "testing": "Testas",
    "ready": "Klar att publicera", "failed": "Misslyckades", "published": "Publicerad",
}
SUBMITTABLE = ("draft", "failed")
RUNNING = ("training", "testing")


@dataclass(frozen=True)
class ChangeSet:
    id: int
    author_id: str
    author_name: str
    author_username: str
    state: str
    reason: str | None
    figures: dict[str, object] | None
    base_hash: str | None
    data_hash: str | None
    model_file: str | None
    commit: str | None
    release_id: int | None
    publisher_name: str | None
    created_at: datetime
    updated_at: datetime

    def summary(self) -> dict[str, object]:
        return {"id": self.id, "state": self.state, "state_label": STATE_LABELS[self.state],
                "author": self.author_name, "author_id": self.author_id, "reason": self.reason,
                "publisher": self.publisher_name, "commit": self.commit, "release_id": self.release_id,
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat()}


def _from_row(row: Any) -> ChangeSet:
    return ChangeSet(
        id=int(row.id), author_id=row.author_id, author_name=row.author_name,
        author_username=row.author_username, state=row.state, reason=row.reason, figures=row.figures,
        base_hash=row.base_hash, data_hash=row.data_hash, model_file=row.model_file, commit=row.commit,
        release_id=row.release_id, publisher_name=row.publisher_name,
        created_at=aware(row.created_at), updated_at=aware(row.updated_at))


def get(conn: Connection, change_id: int) -> ChangeSet:
    row = conn.execute(select(change_sets).where(change_sets.c.id == change_id)).first()
    if row is None:
        raise NotFoundError(f"Ändring {change_id} finns inte. / Change set {change_id} does not exist.")
    return _from_row(row)


def listing(conn: Connection, limit: int = 200) -> list[ChangeSet]:
    rows = conn.execute(select(change_sets).order_by(change_sets.c.id.desc()).limit(limit))
    return [_from_row(r) for r in rows]


def open_draft(conn: Connection, user: StaffUser, now: datetime | None = None) -> ChangeSet:
    """The author's open draft, made now when there is none."""
    row = conn.execute(select(change_sets).where(
        change_sets.c.author_id == user.id, change_sets.c.state == "draft",
    ).order_by(change_sets.c.id.desc()).limit(1)).first()
    if row is not None:
        return _from_row(row)
    now = now or utcnow()
    new_id = conn.execute(insert(change_sets).values(
        author_id=user.id, author_name=user.display_name, author_username=user.username, state="draft",
        created_at=now, updated_at=now)).inserted_primary_key
    if new_id is None:
        raise ConflictError("Utkastet kunde inte skapas. Försök igen.")
    return get(conn, int(new_id[0]))


def add_example(conn: Connection, change: ChangeSet, topic: str, language: str, text: str) -> None:
    """Only the text, topic, language and author are kept: nothing that leads to a conversation."""
    conn.execute(insert(change_examples).values(
        change_set_id=change.id, topic=topic, language=language, text=text, author=change.author_name))
    touch(conn, change.id)


def set_answer(conn: Connection, change: ChangeSet, topic: str, fields: dict[str, str]) -> None:
    existing = conn.execute(select(change_answers.c.id).where(
        change_answers.c.change_set_id == change.id, change_answers.c.topic == topic)).scalar()
    if existing is None:
        conn.execute(insert(change_answers).values(change_set_id=change.id, topic=topic, fields=fields))
    else:
        conn.execute(update(change_answers).where(change_answers.c.id == existing).values(fields=fields))
    touch(conn, change.id)


def add_new_topic(conn: Connection, change: ChangeSet, topic: str, fields: dict[str, object]) -> None:
    conn.execute(insert(change_topics).values(change_set_id=change.id, topic=topic, fields=fields))
    touch(conn, change.id)


def content_of(conn: Connection, change_id: int) -> ChangeContent:
    examples = [(r.topic, r.language, r.text) for r in conn.execute(
        select(change_examples).where(change_examples.c.change_set_id == change_id)
        .order_by(change_examples.c.id))]
    answers = {r.topic: dict(r.fields) for r in conn.execute(
        select(change_answers).where(change_answers.c.change_set_id == change_id))}
    new_topics = {r.topic: dict(r.fields) for r in conn.execute(
        select(change_topics).where(change_topics.c.change_set_id == change_id))}
    return ChangeContent(examples=examples, answers=answers, new_topics=new_topics)


def examples_of(conn: Connection, change_id: int) -> list[dict[str, str]]:
    return [{"topic": t, "language": lang, "text": text}
            for t, lang, text in content_of(conn, change_id).examples]


def assigned_examples(conn: Connection, also: int | None = None) -> list[tuple[str, str, str]]:
    """Every real question assigned in a published change set (and in ``also``)."""
    ids = select(change_sets.c.id).where(
        (change_sets.c.state == "published") | (change_sets.c.id == (also or -1)))
    return [(r.topic, r.language, r.text) for r in conn.execute(
        select(change_examples).where(change_examples.c.change_set_id.in_(ids)).order_by(change_examples.c.id))]


def touch(conn: Connection, change_id: int, **values: object) -> None:
    conn.execute(update(change_sets).where(change_sets.c.id == change_id).values(updated_at=utcnow(), **values))


def move(conn: Connection, change_id: int, allowed: tuple[str, ...], state: str, **values: object) -> bool:
    """Move the change set to ``state`` if it is in one of ``allowed``; whether it moved
    (an atomic compare-and-set, so two gateways never take the same job)."""
    done = conn.execute(update(change_sets).where(
        change_sets.c.id == change_id, change_sets.c.state.in_(allowed),
    ).values(state=state, updated_at=utcnow(), **values))
    return bool(done.rowcount)


def require_state(change: ChangeSet, *allowed: str) -> None:
    if change.state not in allowed:
        wanted = " eller ".join(STATE_LABELS[s].lower() for s in allowed)
        raise ConflictError(
            f"Ändring {change.id} är {STATE_LABELS[change.state].lower()}; det här går bara när den är "
            f"{wanted}. / Change set {change.id} is {change.state}; this needs {' or '.join(allowed)}.")


def next_queued(conn: Connection) -> int | None:
    return conn.execute(select(change_sets.c.id).where(change_sets.c.state == "queued")
                        .order_by(change_sets.c.updated_at, change_sets.c.id).limit(1)).scalar()


def requeue_interrupted(conn: Connection) -> int:
    """Jobs a stopped gateway left running go back to the queue."""
    done = conn.execute(update(change_sets).where(change_sets.c.state.in_(RUNNING))
                        .values(state="queued", updated_at=utcnow()))
    return int(done.rowcount or 0)
