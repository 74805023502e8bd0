"""A model bundle: the hub files of pinned models in one archive, for servers without internet.

``write_bundle`` (``make models-bundle``, on a machine with internet) puts each model's
``hf/`` files, already checked against the lock, into one tar archive with a
``MANIFEST.json`` that lists every file's size and SHA-256. ``import_bundle``
(``make models-import BUNDLE=...``) trusts neither: every model in it must be pinned in the
repository's own ``models.lock`` with the same commit and the same files, every member must
be a plain file the manifest names, and every file's SHA-256 is checked while it is
unpacked into a staging directory. Only when all of that holds are the models moved into
place; otherwise nothing is installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

from translation.lock import ModelLock, ModelLockError

MANIFEST = "MANIFEST.json"
FORMAT = "karlstad-translation-models"
FORMAT_VERSION = 1


def write_bundle(out: Path, lock: ModelLock, models: dict[str, Path]) -> dict[str, Any]:
    """Write ``models`` (name -> its hf/ directory) to the archive ``out``; returns the manifest."""
    entries: dict[str, Any] = {}
    for name, directory in sorted(models.items()):
        locked = lock.verify(name, directory)
        entries[name] = {
            "hf_id": locked.hf_id,
            "commit": locked.commit,
            "files": {path: {"sha256": digest, "size": (directory / path).stat().st_size}
                      for path, digest in sorted(locked.files.items())},
        }
    manifest = {"format": FORMAT, "version": FORMAT_VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "models": entries}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w") as archive:
        data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
        archive.addfile(_info(MANIFEST, len(data)), io.BytesIO(data))
        for name, directory in sorted(models.items()):
            for path in entries[name]["files"]:
                source = directory / path
                with source.open("rb") as handle:
                    archive.addfile(_info(f"{name}/hf/{path}", source.stat().st_size), handle)
    partial.replace(out)
    return manifest


def import_bundle(bundle: Path, lock: ModelLock, models_dir: Path, known: set[str]) -> list[str]:
    """Verify ``bundle`` against ``lock`` and install its models under ``models_dir``.

    Returns the installed model names; raises ``ModelLockError`` (and installs nothing) on
    any difference.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = models_dir / f".import-{uuid.uuid4().hex[:8]}"
    try:
        with tarfile.open(bundle, "r:*") as archive:
            manifest = _manifest(archive, bundle)
            expected = _expected_files(manifest, lock, known, bundle)
            seen: set[str] = set()
            for member in archive:
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or member.name in seen or not member.isfile():
                    raise ModelLockError(
                        f"{bundle.name}: member {member.name[:120]!r} is not a file the lock expects; "
                        "the archive was changed after it was made. Nothing was installed."
                    )
                seen.add(member.name)
                _unpack(archive, member, staging / member.name, expected[member.name], bundle)
            missing = sorted(set(expected) - seen)
            if missing:
                raise ModelLockError(f"{bundle.name} lacks {', '.join(missing[:5])}. Nothing was installed.")
        names = sorted(manifest["models"])
        for name in names:
            target = models_dir / name / "hf"
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            shutil.rmtree(models_dir / name / "ct2", ignore_errors=True)  # made from the old files
            (staging / name / "hf").replace(target)
            (models_dir / name / "REVISION").write_text(str(lock.models[name].commit) + "\n", encoding="utf-8")
        return names
    except tarfile.TarError as exc:
        raise ModelLockError(f"{bundle} is not a readable tar archive ({exc}). Nothing was installed.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0  # the same models give the same archive
    return info


def _manifest(archive: tarfile.TarFile, bundle: Path) -> dict[str, Any]:
    first = archive.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise ModelLockError(f"{bundle.name} does not start with {MANIFEST}; it is not a model bundle.")
    handle = archive.extractfile(first)
    if handle is None:
        raise ModelLockError(f"{bundle.name}: {MANIFEST} cannot be read.")
    try:
        manifest: dict[str, Any] = json.loads(handle.read(1 << 20))
    except ValueError as exc:
        raise ModelLockError(f"{bundle.name}: {MANIFEST} is not JSON.") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise ModelLockError(f"{bundle.name}: not a {FORMAT} bundle of version {FORMAT_VERSION}.")
    if not isinstance(manifest.get("models"), dict) or not manifest["models"]:
        raise ModelLockError(f"{bundle.name}: the manifest lists no models.")
    return manifest


def _expected_files(manifest: dict[str, Any], lock: ModelLock, known: set[str], bundle: Path) -> dict[str, str]:
    """Archive member name -> the sha256 the repository's lock demands for it."""
    expected: dict[str, str] = {}
    for name, entry in manifest["models"].items():
        if name not in known:
            raise ModelLockError(
                f"{bundle.name} holds {name!r}, which translation/models.yml does not list. "
                f"Known: {', '.join(sorted(known))}. Nothing was installed."
            )
        locked = lock.entry(name)
        files = entry.get("files") if isinstance(entry, dict) else None
        listed = {str(p): str(f.get("sha256")) for p, f in files.items()} if isinstance(files, dict) else {}
        if entry.get("commit") != locked.commit or listed != dict(locked.files):
            problems = locked.mismatches(listed) or [f"commit {entry.get('commit')!r}, locked {locked.commit}"]
            raise ModelLockError(
                f"{bundle.name}: {name!r} does not match {lock.path.name} ({'; '.join(problems[:5])}). "
                "Make the bundle from the same lock file. Nothing was installed."
            )
        for path, digest in locked.files.items():
            expected[f"{name}/hf/{path}"] = digest
    return expected


def _unpack(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, digest: str, bundle: Path) -> None:
    source = archive.extractfile(member)
    if source is None:
        raise ModelLockError(f"{bundle.name}: {member.name} cannot be read.")
    target.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256()
    with target.open("wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            sha.update(block)
            out.write(block)
    if sha.hexdigest() != digest:
        raise ModelLockError(
            f"{bundle.name}: {member.name} has sha256 {sha.hexdigest()[:12]}..., the lock says "
            f"{digest[:12]}... The archive was changed or damaged. Nothing was installed."
        )
