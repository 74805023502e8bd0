"""The editors' workspace as one service: what the routes under ``/staff/api/editor/`` do.

Built in ``main.lifespan`` with the store, the settings, the job runner and the release
registry (``services.releases``; None until a registry exists, and then publishing says so).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert

from gateway import audit_trail
from gateway.catalogue import Catalogue
from gateway.conversation_locks import ConversationLocks, LocalConversationLocks
from gateway.editor import changes, checks, content, inbox, new_topic
from gateway.editor.jobs import JobRunner, staging_dir
from gateway.editor.registry import ReleaseRegistryPort, release_dict
from gateway.editor.tables import inbox_handled
from gateway.errors import ConflictError, ForbiddenError, NotFoundError, UnavailableError
from gateway.settings import Settings
from gateway.staff_accounts import StaffUser
from gateway.store import Store, utcnow
from scripts.data_hash import training_data_hash
from scripts.text_similarity import normalise

logger = logging.getLogger(__name__)
PUBLISH_LOCK = "editor:publish"  # a lock name no conversation id can take (those are hex)
REVIEW_MAX_AGE_DAYS = 365  # as scripts/validate_data.py: an answer checked longer ago is due


@dataclass
class EditorWorkspace:
    store: Store
    settings: Settings
    runner: JobRunner
    registry: ReleaseRegistryPort | None = None
    # Publishing and rollback commit to the content and switch the live release: one at a time
    # across every gateway of the deployment (the conversation locks' Redis lease when REDIS_URL
    # is set, else a lock in this process). The state check under it then sees a change set that
    # another gateway has just published as published.
    locks: ConversationLocks = field(default_factory=LocalConversationLocks)

    def __post_init__(self) -> None:
        self._eval_sets: list[checks.TestSentence] | None = None

    def publish_lock(self) -> AbstractAsyncContextManager[object]:
        return self.locks.get(PUBLISH_LOCK)

    @property
    def root(self) -> Path:
        return self.settings.content_root

    @property
    def nlu_dir(self) -> Path:
        return self.root / "nlu_data"

    def person(self, user: StaffUser) -> content.Person:
        return content.Person(user.display_name, f"{user.username}@{self.settings.editor_email_domain}")

    # ---- inbox -------------------------------------------------------------------------
    def inbox_items(self, where: inbox.InboxFilter) -> list[inbox.InboxItem]:
        with self.store.connect() as conn:
            return inbox.inbox(conn, where, self.settings.editor_low_confidence)

    def quality(self, since: dt.datetime, until: dt.datetime) -> list[dict[str, object]]:
        with self.store.connect() as conn:
            return inbox.quality(inbox.all_turns(conn, since, until, self.settings.editor_low_confidence))

    def _item(self, item_id: str) -> inbox.InboxItem:
        now = utcnow()
        where = inbox.InboxFilter(since=now - dt.timedelta(days=self.settings.retention_days), until=now)
        found = next((i for i in self.inbox_items(where) if i.id == item_id), None)
        if found is None:
            raise NotFoundError(
                f"Inkorgen har ingen fråga '{item_id[:32]}' (redan hanterad, eller rensad). / "
                f"No inbox item '{item_id[:32]}'.")
        return found

    def eval_sets(self) -> list[checks.TestSentence]:
        if self._eval_sets is None:
            self._eval_sets = checks.load_eval_sets(self.settings.editor_eval_sets)
        return self._eval_sets

    def assign(self, item_id: str, topic: str, text: str, language: str | None, user: StaffUser) -> dict[str, object]:
        item = self._item(item_id)
        if topic not in content.topics(self.nlu_dir):
            raise checks.ExampleRefusedError(
                f"Ämnet '{topic[:128]}' finns inte. Välj ett faq-ämne ur listan. / "
                f"Topic '{topic[:128]}' does not exist; choose a faq topic.")
        text = checks.check_shape(text)
        checks.check_personal_data(text)
        checks.check_not_a_test_sentence(text, topic, self.eval_sets())
        checks.check_not_a_duplicate(text, topic, checks.existing_examples(self.nlu_dir))
        lang = language or (item.language if item.language in ("sv", "en") else "sv")
        with self.store.begin() as conn:
            draft = changes.open_draft(conn, user)
            pending = {normalise(e["text"]) for e in changes.examples_of(conn, draft.id)}
            if normalise(text) in pending:
                raise ConflictError("Exemplet finns redan i ditt utkast. / The example is already in your draft.")
            changes.add_example(conn, draft, topic, lang, text)
            conn.execute(insert(inbox_handled).values(key=item.id, action="assigned", by=user.id, at=utcnow()))
            audit_trail.record(conn, user.username, "editor.assigned", str(draft.id), {"topic": topic})
        return {"change_set": draft.id, "topic": topic, "language": lang, "text": text}

    def new_topic(self, item_id: str, topic: str, text: str, fields: dict[str, str],
                  examples: list[tuple[str, str]], user: StaffUser) -> dict[str, object]:
        """Start ``topic`` from an inbox question: ``text`` (edited) becomes its first example,
        ``examples`` (language, text) the ones the editor wrote; every example passes the
        same checks as an assigned one."""
        item = self._item(item_id)
        clean = new_topic.check_fields(topic, fields, content.topics(self.nlu_dir))
        lang = item.language if item.language in ("sv", "en") else "sv"
        existing = checks.existing_examples(self.nlu_dir)
        seen: set[str] = set()
        checked: list[tuple[str, str]] = []
        for language, example in [(lang, text), *examples]:
            example = checks.check_shape(example)
            checks.check_personal_data(example)
            checks.check_not_a_test_sentence(example, topic, self.eval_sets())
            checks.check_not_a_duplicate(example, topic, existing)
            if normalise(example) not in seen:
                seen.add(normalise(example))
                checked.append((language, example))
        with self.store.begin() as conn:
            draft = changes.open_draft(conn, user)
            if topic in changes.content_of(conn, draft.id).new_topics:
                raise ConflictError(f"Ämnet {topic} finns redan i ditt utkast. / {topic} is already in your draft.")
            changes.add_new_topic(conn, draft, topic, {
                **clean, "author": user.display_name, "checked": dt.date.today().isoformat(),
                "examples": [list(e) for e in checked[1:]]})
            changes.add_example(conn, draft, topic, checked[0][0], checked[0][1])
            conn.execute(insert(inbox_handled).values(key=item.id, action="new_topic", by=user.id, at=utcnow()))
            audit_trail.record(conn, user.username, "editor.new_topic", str(draft.id), {"topic": topic})
        return {"change_set": draft.id, "topic": topic, "examples": len(checked)}

    def dismiss(self, item_id: str, why: str, user: StaffUser) -> None:
        item = self._item(item_id)
        with self.store.begin() as conn:
            conn.execute(insert(inbox_handled).values(key=item.id, action=why, by=user.id, at=utcnow()))
            audit_trail.record(conn, user.username, "editor.dismissed", item.id, {"why": why})

    # ---- answers -----------------------------------------------------------------------
    def answers(self, today: dt.date | None = None) -> list[dict[str, object]]:
        today = today or dt.date.today()
        catalogue = Catalogue.load(self.nlu_dir, root=self.root)
        out: list[dict[str, object]] = []
        for topic in catalogue.topics():
            answer = catalogue.get(f"utter_{topic}")
            if answer is None:
                continue
            source = answer.source
            checked = source.checked if source else None
            due = None
            try:
                due = (dt.date.fromisoformat(checked) + dt.timedelta(days=REVIEW_MAX_AGE_DAYS)) if checked else None
            except ValueError:
                due = None
            out.append({
                "topic": topic, "label": answer.label.get("sv") or topic, "text_sv": answer.text("sv") or "",
                "text_en": answer.text("en") or "", "title": source.title if source else "",
                "url": source.url if source else "", "owner": (source.owner if source else None) or "",
                "checked": checked or "", "review_due": due.isoformat() if due else None,
                "overdue": due is None or due < today,
            })
        return out

    def answer_preview(self, topic: str, edits: dict[str, str]) -> dict[str, object]:
        path = content.topic_file(self.nlu_dir, topic)
        live = path.read_text(encoding="utf-8")
        edited = content.edit_answer(live, topic, edits)
        fields = content.answer_fields(edited, topic)
        name = path.relative_to(self.root).as_posix()
        return {
            "topic": topic,
            "preview": {lang: {"text": fields.get(f"text_{lang}", ""),
                               "source": {"title": fields.get("title", ""), "url": fields.get("url", "")}}
                        for lang in ("sv", "en")},
            "diff": content.file_diff(name, live, edited),
        }

    def save_answer(self, topic: str, edits: dict[str, str], user: StaffUser) -> dict[str, object]:
        preview = self.answer_preview(topic, edits)  # refuses what the writer cannot write
        with self.store.begin() as conn:
            draft = changes.open_draft(conn, user)
            changes.set_answer(conn, draft, topic, edits)
            audit_trail.record(conn, user.username, "editor.answer_edited", str(draft.id), {"topic": topic})
        return {**preview, "change_set": draft.id}

    # ---- change sets -------------------------------------------------------------------
    def change_detail(self, change_id: int) -> dict[str, object]:
        with self.store.connect() as conn:
            change = changes.get(conn, change_id)
            body = changes.content_of(conn, change_id)
        staging = staging_dir(self.settings, change_id)
        diff = content.diff(self.root, staging) if change.state != "draft" and staging.exists() else ""
        return {**change.summary(), "figures": change.figures, "data_hash": change.data_hash,
                "base_hash": change.base_hash, "model_file": change.model_file,
                "examples": [{"topic": t, "language": lang, "text": x} for t, lang, x in body.examples],
                "answers": [{"topic": t, **f} for t, f in body.answers.items()],
                "new_topics": [{"topic": t, "label_sv": f.get("label_sv"), "url": f.get("url")}
                               for t, f in body.new_topics.items()], "diff": diff}

    def submit(self, change_id: int, user: StaffUser) -> dict[str, object]:
        with self.store.connect() as conn:
            change = changes.get(conn, change_id)
            body = changes.content_of(conn, change_id)
        if change.author_id != user.id:
            raise ForbiddenError("Bara den som skrev ändringen kan skicka in den. / Only the author can submit.")
        changes.require_state(change, *changes.SUBMITTABLE)
        if not body.examples and not body.answers and not body.new_topics:
            raise ConflictError("Ändringen är tom: lägg till ett exempel eller ändra ett svar först. / "
                                "The change set is empty.")
        staging = staging_dir(self.settings, change_id)
        base = training_data_hash(self.root)
        content.stage(self.root, staging, body)
        with self.store.begin() as conn:
            if not changes.move(conn, change_id, changes.SUBMITTABLE, "queued", reason=None, figures=None,
                                base_hash=base, data_hash=training_data_hash(staging), model_file=None):
                raise ConflictError("Ändringen ändrades samtidigt. Försök igen.")
            audit_trail.record(conn, user.username, "editor.submitted", str(change_id), None)
        self.runner.poke()
        return self.change_detail(change_id)

    def _registry(self) -> ReleaseRegistryPort:
        if self.registry is None:
            raise UnavailableError("Releaseregistret är inte igång; ingen modell kan publiceras just nu. / "
                                   "The release registry is not available.")
        return self.registry

    async def publish(self, change_id: int, user: StaffUser) -> dict[str, object]:
        if not user.has_role("publisher"):
            raise ForbiddenError("Bara en publicerare kan publicera. / Only a publisher can publish.")
        registry = self._registry()
        async with self.publish_lock():
            with self.store.connect() as conn:
                change = changes.get(conn, change_id)
            if change.author_id == user.id:
                raise ForbiddenError("Du kan inte publicera din egen ändring: en annan person ska granska den. / "
                                     "You cannot publish your own change set; someone else must review it.")
            changes.require_state(change, "ready")
            if training_data_hash(self.root) != change.base_hash:
                raise ConflictError("Innehållet har ändrats sedan ändringen testades. Författaren behöver skicka "
                                    "in den igen. / The live content changed since this was tested; resubmit.")
            staging = staging_dir(self.settings, change_id)
            author = content.Person(change.author_name,
                                    f"{change.author_username}@{self.settings.editor_email_domain}")
            publisher = self.person(user)
            message = (f"Innehåll: ändring {change_id} från redaktörernas arbetsyta\n\n"
                       f"Change set {change_id}, data hash {change.data_hash}.\n\n"
                       f"Reviewed-by: {publisher.ident}\n")
            model = Path(change.model_file or "")
            if not model.is_file():
                raise ConflictError(f"Den tränade modellen för ändring {change_id} finns inte längre. Skicka in "
                                    f"ändringen igen. / The trained model is missing; resubmit.")
            content.publish_files(self.root, staging)
            commit = await asyncio.to_thread(content.commit, self.root, message, author, publisher)
            try:
                release = await registry.register(
                    model, change.data_hash or "", commit=commit, change_set_id=change_id,
                    author=change.author_name, publisher=user.display_name, figures=dict(change.figures or {}))
                release = await registry.activate(release.id, by=user.username)
            except ValueError as exc:  # the registry's ReleaseError: the model cannot go live
                logger.error("editor: change %d committed as %s but not made live (%s)", change_id, commit,
                             type(exc).__name__)
                raise ConflictError(
                    f"Innehållet är sparat (commit {commit[:10]}) men modellen kunde inte tas i bruk: {exc}. "
                    f"/ The content was committed but the model could not go live.") from exc
            with self.store.begin() as conn:
                changes.move(conn, change_id, ("ready",), "published", commit=commit, release_id=release.id,
                             publisher_name=user.display_name)
                audit_trail.record(conn, user.username, "editor.published", str(change_id),
                                   {"commit": commit, "release": release.id})
        logger.info("editor: change %d published as release %d", change_id, release.id)
        return {**self.change_detail(change_id), "release": release_dict(release)}

    async def releases(self) -> list[dict[str, object]]:
        if self.registry is None:
            return []
        return [release_dict(r) for r in await self.registry.history()]

    async def rollback(self, release_id: int, user: StaffUser) -> dict[str, object]:
        if not user.has_role("publisher"):
            raise ForbiddenError("Bara en publicerare kan återställa en release. / Only a publisher can roll back.")
        registry = self._registry()
        target = next((r for r in await registry.history() if r.id == release_id), None)
        if target is None:
            raise NotFoundError(f"Release {release_id} finns inte. / Release {release_id} does not exist.")
        async with self.publish_lock():
            commit = None
            if target.commit:
                message = (f"Innehåll: återställt till release {release_id}\n\n"
                           f"Rollback to release {release_id} (commit {target.commit}).\n")
                commit = await asyncio.to_thread(content.restore, self.root, target.commit, message,
                                                 self.person(user))
            release = await registry.rollback(release_id, by=user.username)
            with self.store.begin() as conn:
                audit_trail.record(conn, user.username, "editor.rolled_back", str(release_id), {"commit": commit})
        return {"release": release_dict(release), "commit": commit}
