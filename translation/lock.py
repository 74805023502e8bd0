"""The model lock: the hub commit and the SHA-256 of every file each translation model must have.

``translation/models.lock`` (next to the registry, ``models.yml``) is committed to the
repository and is the one thing an installation trusts: ``make models`` downloads a model at
its locked commit and refuses it unless every file has its locked checksum, and
``make models-import`` installs a bundle only if every file matches the lock (the bundle's
own manifest only guards the transport). A model without a pinned entry is refused; the
entry is recorded by ``make models ARGS=--update-lock`` on a machine with internet, and the
changed lock file is reviewed and committed like code.

Format (YAML)::

    version: 1
    models:
      opus-mt-sv-en:
        hf_id: Helsinki-NLP/opus-mt-sv-en
        commit: 0123...cdef          # 40 hex digits, or null until pinned
        files:                       # path inside the model's hf/ directory -> sha256
          config.json: 9f86...0f00a08
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from translation.errors import TranslationError

LOCK_VERSION = 1
COMMIT = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Left in a model directory by huggingface_hub, not part of the model.
IGNORED_DIRS = (".cache",)
HEADER = """\
# The pinned translation models: hub commit and SHA-256 of every file (translation/lock.py).
# `make models` and `make models-import` refuse a model whose entry is missing, not pinned
# (commit: null) or does not match. Pin or update entries on a machine with internet:
#   make models ARGS=--update-lock      then review and commit this file.
"""


class ModelLockError(TranslationError):
    """The lock file is malformed, a model is not pinned, or files do not match the lock."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` (relative POSIX paths), caches left out."""
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and relative.parts[0] not in IGNORED_DIRS:
            files[relative.as_posix()] = sha256_file(path)
    return files


@dataclass(frozen=True)
class LockedModel:
    name: str
    hf_id: str
    commit: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def pinned(self) -> bool:
        return self.commit is not None and bool(self.files)

    def mismatches(self, found: Mapping[str, str]) -> list[str]:
        """What differs between the locked files and ``found`` (path -> sha256)."""
        problems = [f"{path}: missing" for path in sorted(set(self.files) - set(found))]
        problems += [f"{path}: not in the lock" for path in sorted(set(found) - set(self.files))]
        problems += [
            f"{path}: sha256 {found[path][:12]}..., locked {digest[:12]}..."
            for path, digest in sorted(self.files.items())
            if path in found and found[path] != digest
        ]
        return problems

    def as_dict(self) -> dict[str, Any]:
        return {"hf_id": self.hf_id, "commit": self.commit, "files": dict(sorted(self.files.items()))}


@dataclass
class ModelLock:
    path: Path
    models: dict[str, LockedModel] = field(default_factory=dict)

    @staticmethod
    def default_path(registry_path: Path) -> Path:
        return registry_path.with_suffix(".lock")

    @classmethod
    def load(cls, path: Path) -> ModelLock:
        if not path.is_file():
            return cls(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ModelLockError(f"{path} is not valid YAML ({exc}). Restore it from git.") from exc
        if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
            raise ModelLockError(f"{path} must be a mapping with version: {LOCK_VERSION}.")
        models: dict[str, LockedModel] = {}
        for name, raw in (data.get("models") or {}).items():
            models[str(name)] = _entry(path, str(name), raw)
        return cls(path, models)

    def save(self) -> None:
        body = {"version": LOCK_VERSION, "models": {n: m.as_dict() for n, m in sorted(self.models.items())}}
        self.path.write_text(HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def entry(self, name: str) -> LockedModel:
        """The pinned entry of ``name``; refuses a missing or unpinned one."""
        model = self.models.get(name)
        if model is None or not model.pinned:
            state = "has no entry" if model is None else "is not pinned (commit: null)"
            raise ModelLockError(
                f"Model {name!r} {state} in {self.path}. Installing it unpinned is refused. On a "
                "machine with internet run `make models ARGS=--update-lock`, review and commit "
                f"{self.path.name}, then install."
            )
        return model

    def unpinned(self, names: list[str]) -> list[str]:
        return [n for n in names if n not in self.models or not self.models[n].pinned]

    def verify(self, name: str, directory: Path) -> LockedModel:
        """Check every file in ``directory`` against the lock; raises on any difference."""
        model = self.entry(name)
        problems = model.mismatches(hash_tree(directory))
        if problems:
            raise ModelLockError(
                f"Model {name!r} in {directory} does not match {self.path.name} "
                f"(commit {model.commit}): " + "; ".join(problems[:10])
                + ". The files were not installed; fetch them again from the locked commit."
            )
        return model

    def record(self, name: str, hf_id: str, commit: str, directory: Path) -> LockedModel:
        """Pin ``name`` to ``commit`` and the files now in ``directory`` (--update-lock)."""
        if not COMMIT.match(commit):
            raise ModelLockError(f"Commit {commit!r} of {name!r} is not 40 hex digits.")
        files = hash_tree(directory)
        if not files:
            raise ModelLockError(f"{directory} holds no files to pin for {name!r}.")
        model = LockedModel(name, hf_id, commit, files)
        self.models[name] = model
        return model


def _entry(path: Path, name: str, raw: Any) -> LockedModel:
    if not isinstance(raw, dict) or not raw.get("hf_id"):
        raise ModelLockError(f"{path}: model {name!r} needs hf_id, commit and files.")
    commit = raw.get("commit")
    if commit is not None and not COMMIT.match(str(commit)):
        raise ModelLockError(f"{path}: model {name!r} has commit {commit!r}; use 40 hex digits or null.")
    files = raw.get("files") or {}
    if not isinstance(files, dict):
        raise ModelLockError(f"{path}: model {name!r} files must map paths to sha256 values.")
    for file_path, digest in files.items():
        if not SHA256.match(str(digest)) or ".." in Path(str(file_path)).parts or str(file_path).startswith("/"):
            raise ModelLockError(f"{path}: model {name!r} file {file_path!r} has a bad path or sha256.")
    return LockedModel(name, str(raw["hf_id"]), str(commit) if commit else None,
                       {str(k): str(v) for k, v in files.items()})
