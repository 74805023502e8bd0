"""Model releases: which trained Rasa model is live, which were live before, and the swap.

A release is one trained model (``var/models/model-<hash>.tar.gz``) with the content it was
trained on (its training-data hash, the git commit of the content files) and who made it
live. Exactly one release is *active*. Every running Rasa pulls the active release's model
from the gateway (``GET /internal/rasa/model``, Rasa's ``models:`` endpoint with an ETag) and
loads it without a restart; rolling back is making an earlier release active the same way.

Each turn's reply names the model that answered it (the ``model_id`` Rasa wrote on the
citizen's event). :meth:`ReleaseRegistry.for_model` turns that id into the release and its
answer catalogue, read from the model archive itself, so the answer's source and Swedish
text, and the release named in the basis record, always belong to the model that answered
— also during a swap, when some replicas still answer with the old model.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import tarfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from gateway import audit_trail
from gateway.catalogue import Catalogue
from gateway.store import Store, aware, metadata, utcnow

logger = logging.getLogger(__name__)

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("data_hash", String(32), nullable=False),
    Column("model_file", String(512), nullable=False),
    Column("model_id", String(64), nullable=True, index=True),
    Column("commit", String(64), nullable=True),
    Column("change_set_id", Integer, nullable=True),
    Column("author", String(128), nullable=True),
    Column("publisher", String(128), nullable=True),
    Column("figures", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("active", Boolean, nullable=False, default=False),
)


class ReleaseError(ValueError):
    """A release that cannot be registered or made live; the message says why."""


@dataclass(frozen=True)
class Release:
    """One trained model and the content it was trained on."""

    id: int
    data_hash: str
    model_file: str
    model_id: str | None
    commit: str | None
    change_set_id: int | None
    author: str | None
    publisher: str | None
    figures: dict[str, object]
    created_at: datetime
    activated_at: datetime | None
    active: bool

    @property
    def etag(self) -> str:
        """What Rasa keeps as the model's fingerprint and sends back as If-None-Match."""
        return f'"r{self.id}-{self.data_hash}"'

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "data_hash": self.data_hash, "model_id": self.model_id,
            "commit": self.commit, "change_set_id": self.change_set_id, "author": self.author,
            "publisher": self.publisher, "figures": self.figures,
            "created_at": self.created_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "active": self.active,
        }


def _release(row: RowMapping) -> Release:
    figures = row["figures"]
    activated = row["activated_at"]
    return Release(
        id=int(row["id"]), data_hash=str(row["data_hash"]), model_file=str(row["model_file"]),
        model_id=row["model_id"], commit=row["commit"], change_set_id=row["change_set_id"],
        author=row["author"], publisher=row["publisher"],
        figures=dict(figures) if isinstance(figures, dict) else {},
        created_at=aware(row["created_at"]), activated_at=aware(activated) if activated else None,
        active=bool(row["active"]),
    )


@dataclass(frozen=True)
class ModelArchive:
    """What the gateway reads from a Rasa model archive: its id and its domain's responses."""

    model_id: str
    responses: dict[str, object]

    @classmethod
    def read(cls, path: Path) -> ModelArchive:
        """Reads ``metadata.json`` from the archive (Rasa writes the model id and the whole
        domain there). Raises :class:`ReleaseError` when the file is no Rasa model."""
        try:
            with tarfile.open(path, "r:gz") as archive:
                for member in archive:
                    if member.isfile() and Path(member.name).name == "metadata.json" \
                            and member.name.count("/") <= 1:
                        handle = archive.extractfile(member)
                        raw = json.load(io.TextIOWrapper(handle, encoding="utf-8")) if handle else None
                        break
                else:
                    raw = None
        except (OSError, tarfile.TarError, json.JSONDecodeError) as exc:
            raise ReleaseError(f"{path} is not a readable Rasa model archive ({type(exc).__name__})") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("model_id"), str):
            raise ReleaseError(f"{path} has no metadata.json with a model_id: is it a Rasa model?")
        domain = raw.get("domain")
        responses = domain.get("responses") if isinstance(domain, dict) else None
        return cls(model_id=raw["model_id"], responses=dict(responses) if isinstance(responses, dict) else {})


class ReleaseRegistry:
    """The ``releases`` table, and each release's answer catalogue (cached by model id)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._catalogues: dict[str, Catalogue] = {}
        self._by_model: dict[str, Release] = {}
        self._lock = threading.Lock()
        self._live: tuple[float, int | None] = (0.0, None)

    # -- reading -------------------------------------------------------------------------
    def current_sync(self) -> Release | None:
        with self.store.connect() as conn:
            row = conn.execute(
                select(releases).where(releases.c.active.is_(True)).order_by(releases.c.id.desc()).limit(1)
            ).mappings().first()
        return _release(row) if row else None

    def get_sync(self, release_id: int) -> Release | None:
        with self.store.connect() as conn:
            row = conn.execute(select(releases).where(releases.c.id == release_id)).mappings().first()
        return _release(row) if row else None

    def history_sync(self) -> list[Release]:
        with self.store.connect() as conn:
            rows = conn.execute(select(releases).order_by(releases.c.id.desc())).mappings().all()
        return [_release(r) for r in rows]

    def live_id(self, max_age_s: float = 1.0) -> int | None:
        """The live release's id, read at most once a second (every turn asks)."""
        read_at, value = self._live
        if time.monotonic() - read_at > max_age_s:
            current = self.current_sync()
            value = current.id if current else None
            self._live = (time.monotonic(), value)
        return value

    async def current(self) -> Release | None:
        return await self.store.run(self.current_sync)

    async def history(self) -> list[Release]:
        return await self.store.run(self.history_sync)

    def for_model(self, model_id: str | None) -> tuple[Release, Catalogue] | None:
        """The release whose model has ``model_id``, with its answer catalogue; None for a
        model the registry does not know (e.g. Rasa started by hand with another model)."""
        if not model_id:
            return None
        with self._lock:
            known = self._by_model.get(model_id)
            catalogue = self._catalogues.get(model_id)
        if known is None:
            with self.store.connect() as conn:
                row = conn.execute(
                    select(releases).where(releases.c.model_id == model_id).order_by(releases.c.id.desc()).limit(1)
                ).mappings().first()
            if row is None:
                return None
            known = _release(row)
        if catalogue is None:
            try:
                archive = ModelArchive.read(Path(known.model_file))
            except ReleaseError as exc:
                logger.error("releases: %s", exc)
                return None
            catalogue = Catalogue.from_responses(archive.responses, known.data_hash)
        with self._lock:
            self._by_model[model_id] = known
            self._catalogues[model_id] = catalogue
        return known, catalogue

    async def follow(self, every_s: float = 2.0) -> None:
        """Runs for the gateway's lifetime: reads each newly live release's answers from its
        model archive (a few seconds for a large model) in a worker thread, before Rasa has
        pulled and loaded the model, so no turn waits for it."""
        warmed: str | None = None
        while True:
            try:
                current = await self.current()
                if current is not None and current.model_id and current.model_id != warmed:
                    await asyncio.to_thread(self.for_model, current.model_id)
                    warmed = current.model_id
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the task
                logger.warning("releases: could not read the live release (%s)", type(exc).__name__)
            await asyncio.sleep(every_s)

    def live(self) -> tuple[Release, Catalogue] | None:
        """The live release and its answers; None before any release (unit tests)."""
        current = self.current_sync()
        if current is None or not current.model_id:
            return None
        return self.for_model(current.model_id)

    # -- writing -------------------------------------------------------------------------
    async def register(
        self, model_path: Path, data_hash: str, *, commit: str | None, change_set_id: int | None,
        author: str | None, publisher: str | None, figures: dict[str, object],
    ) -> Release:
        """Adds a trained model as a release (not yet live). A model already registered
        (same model id) is returned as it is."""
        return await self.store.run(
            lambda: self.register_sync(model_path, data_hash, commit=commit, change_set_id=change_set_id,
                                       author=author, publisher=publisher, figures=figures)
        )

    def register_sync(
        self, model_path: Path, data_hash: str, *, commit: str | None, change_set_id: int | None,
        author: str | None, publisher: str | None, figures: dict[str, object],
    ) -> Release:
        path = Path(model_path).resolve()
        archive = ModelArchive.read(path)
        with self.store.begin() as conn:
            row = conn.execute(
                select(releases).where(releases.c.model_id == archive.model_id).limit(1)
            ).mappings().first()
            if row is not None:
                known = _release(row)
                self._remember(known, archive)
                return known
            new_id = conn.execute(insert(releases).values(
                data_hash=data_hash, model_file=str(path), model_id=archive.model_id, commit=commit,
                change_set_id=change_set_id, author=author, publisher=publisher, figures=figures,
                created_at=utcnow(), activated_at=None, active=False,
            )).inserted_primary_key
            assert new_id is not None
            created = conn.execute(select(releases).where(releases.c.id == new_id[0])).mappings().one()
        release = _release(created)
        self._remember(release, archive)
        return release

    def _remember(self, release: Release, archive: ModelArchive) -> None:
        """Keeps the answers of an archive just read, so :meth:`for_model` need not read the
        (large) archive a second time."""
        catalogue = Catalogue.from_responses(archive.responses, release.data_hash)
        with self._lock:
            self._by_model.setdefault(archive.model_id, release)
            self._catalogues.setdefault(archive.model_id, catalogue)

    async def activate(self, release_id: int, by: str) -> Release:
        """Makes ``release_id`` the live release: every Rasa pulls its model within seconds."""
        return await self.store.run(self._activate, release_id, by, "release.activate")

    async def rollback(self, release_id: int, by: str) -> Release:
        """Makes an earlier release live again (the same swap as :meth:`activate`)."""
        return await self.store.run(self._activate, release_id, by, "release.rollback")

    def activate_sync(self, release_id: int, by: str, *, rollback: bool = False) -> Release:
        return self._activate(release_id, by, "release.rollback" if rollback else "release.activate")

    def _activate(self, release_id: int, by: str, action: str) -> Release:
        with self.store.begin() as conn:
            row = conn.execute(select(releases).where(releases.c.id == release_id)).mappings().first()
            if row is None:
                raise ReleaseError(f"there is no release {release_id}")
            if not Path(str(row["model_file"])).is_file():
                raise ReleaseError(f"release {release_id}'s model file {row['model_file']} is missing")
            previous = self._active_id(conn)
            if action == "release.rollback" and previous == release_id:
                raise ReleaseError(f"release {release_id} is already live; choose an earlier release")
            now = utcnow()
            conn.execute(update(releases).where(releases.c.active.is_(True)).values(active=False))
            conn.execute(update(releases).where(releases.c.id == release_id).values(active=True, activated_at=now))
            audit_trail.record(conn, by, action, f"release:{release_id}",
                               {"previous": previous, "data_hash": str(row["data_hash"])}, now)
            fresh = conn.execute(select(releases).where(releases.c.id == release_id)).mappings().one()
        self._live = (0.0, None)
        logger.info("releases: release %d is live (was %s), by %s", release_id, previous, by)
        return _release(fresh)

    @staticmethod
    def _active_id(conn: Connection) -> int | None:
        value = conn.execute(select(releases.c.id).where(releases.c.active.is_(True))).scalar()
        return int(value) if value is not None else None

    def bootstrap(self, model_path: Path | None, data_hash: str, commit: str | None) -> Release | None:
        """At start: the model trained from the content files on disk (``make run`` trained it
        if they changed) is the live release, registered if it is new. The content files are
        the single source of truth, so a publish or rollback (which commit to them) and a
        restart agree. Without a model file nothing changes."""
        if model_path is None or not Path(model_path).is_file():
            logger.warning("releases: no model file at %s; the live release is unchanged", model_path)
            return self.current_sync()
        release = self.register_sync(Path(model_path), data_hash, commit=commit, change_set_id=None,
                                     author=None, publisher=None, figures={})
        current = self.current_sync()
        if current is None or current.id != release.id:
            release = self._activate(release.id, "system", "release.activate")
        return release


def cli_release(argv: list[str]) -> int:
    """``python -m gateway.cli release list | register MODEL | activate ID | rollback ID``:
    the operator's view of the model releases (the editors' workspace does the same in the
    browser). A running Rasa pulls a newly activated model within seconds."""
    import argparse
    import sys

    from gateway.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m gateway.cli release",
                                     description="List, register, activate or roll back model releases.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every release, newest first; * marks the live one")
    reg = sub.add_parser("register", help="add a trained model (var/models/model-<hash>.tar.gz)")
    reg.add_argument("model", type=Path)
    reg.add_argument("--data-hash", help="its training-data hash (default: from the file name model-<hash>)")
    reg.add_argument("--activate", action="store_true", help="make it live at once (as activate ID)")
    for name in ("activate", "rollback"):
        cmd = sub.add_parser(name, help=f"{name} a release by id")
        cmd.add_argument("release_id", type=int)
    args = parser.parse_args(argv)
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url)
    try:
        store.create_all()
        registry = ReleaseRegistry(store)
        if args.action == "list":
            for release in registry.history_sync():
                mark = "*" if release.active else " "
                print(f"{mark} {release.id:>4}  {release.data_hash}  {release.created_at:%Y-%m-%d %H:%M}  "
                      f"author={release.author or '-'} publisher={release.publisher or '-'}  {release.model_file}")
        elif args.action == "register":
            data_hash = args.data_hash or args.model.name.removeprefix("model-").split(".", 1)[0]
            release = registry.register_sync(args.model, data_hash, commit=None, change_set_id=None,
                                             author=None, publisher=None, figures={})
            if args.activate:
                release = registry.activate_sync(release.id, "cli")
                print(f"Release {release.id} ({release.data_hash}) registered and live; Rasa loads it within seconds.")
            else:
                print(f"Release {release.id} ({release.data_hash}) registered; "
                      f"make it live with 'activate {release.id}'.")
        else:
            release = registry.activate_sync(args.release_id, "cli", rollback=args.action == "rollback")
            print(f"Release {release.id} ({release.data_hash}) is live; Rasa loads it within seconds.")
    except ReleaseError as exc:
        print(f"Could not {args.action}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    return 0
