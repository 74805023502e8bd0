"""The release registry as the editors' workspace uses it (``gateway/releases.py``,
``services.releases``): register a trained model with its content commit and figures, make
it live, list the history and roll back. Typed here as a Protocol so the workspace depends
on the interface only."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol


class ReleaseLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def data_hash(self) -> str: ...
    @property
    def model_file(self) -> str: ...
    @property
    def commit(self) -> str | None: ...
    @property
    def change_set_id(self) -> int | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def publisher(self) -> str | None: ...
    @property
    def figures(self) -> dict[str, object]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def activated_at(self) -> datetime | None: ...
    @property
    def active(self) -> bool: ...


class ReleaseRegistryPort(Protocol):
    async def register(self, model_path: Path, data_hash: str, *, commit: str | None,
                       change_set_id: int | None, author: str | None, publisher: str | None,
                       figures: dict[str, object]) -> ReleaseLike: ...

    async def activate(self, release_id: int, by: str) -> ReleaseLike: ...

    async def current(self) -> ReleaseLike | None: ...

    async def history(self) -> Sequence[ReleaseLike]: ...

    async def rollback(self, release_id: int, by: str) -> ReleaseLike: ...


def release_dict(release: ReleaseLike) -> dict[str, object]:
    return {
        "id": release.id, "data_hash": release.data_hash, "model_file": str(release.model_file),
        "commit": release.commit, "change_set_id": release.change_set_id, "author": release.author,
        "publisher": release.publisher, "figures": release.figures,
        "created_at": release.created_at.isoformat() if release.created_at else None,
        "activated_at": release.activated_at.isoformat() if release.activated_at else None,
        "active": release.active,
    }
