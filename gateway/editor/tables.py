"""The editors' workspace's tables, on the gateway's one schema (``gateway.store.metadata``).

An example assigned from the inbox is stored as its text, topic, language and author only:
no conversation id, basis id or time of the citizen's message. ``inbox_handled`` keeps the
hash of the grouped (masked, normalised) text, so an item handled once leaves the inbox.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from gateway.store import metadata

change_sets = Table(
    "editor_change_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("author_id", String(64), nullable=False),
    Column("author_name", String(128), nullable=False),
    Column("author_username", String(64), nullable=False),
    # draft | queued | training | testing | ready | failed | published
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),  # why it failed, in words for the editor
    Column("figures", JSON, nullable=True),  # the release gate's report
    Column("base_hash", String(32), nullable=True),  # live content's data hash at submit
    Column("data_hash", String(32), nullable=True),  # the staged content's data hash
    Column("model_file", String(512), nullable=True),
    Column("commit", String(64), nullable=True),
    Column("release_id", Integer, nullable=True),
    Column("publisher_name", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_editor_change_sets_state", "state"),
)

change_examples = Table(
    "editor_change_examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_set_id", Integer, nullable=False),
    Column("topic", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(128), nullable=False),
)

change_answers = Table(
    "editor_change_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_set_id", Integer, nullable=False),
    Column("topic", String(128), nullable=False),
    Column("fields", JSON, nullable=False),  # text_sv, text_en, url, owner, checked
    UniqueConstraint("change_set_id", "topic", name="uq_editor_answer_topic"),
)

# A new topic started from the inbox: label, answer and source (new_topic.FIELDS), author,
# checked date and the examples the editor wrote for it ("examples": [[language, text], ...]);
# the inbox question itself is a row of change_examples like any assigned question.
change_topics = Table(
    "editor_change_topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_set_id", Integer, nullable=False),
    Column("topic", String(128), nullable=False),
    Column("fields", JSON, nullable=False),
    UniqueConstraint("change_set_id", "topic", name="uq_editor_new_topic"),
)

inbox_handled = Table(
    "editor_inbox_handled",
    metadata,
    Column("key", String(32), primary_key=True),  # hash of the grouped text, see inbox.group_key
    Column("action", String(16), nullable=False),  # assigned | out_of_scope | noise
    Column("by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
