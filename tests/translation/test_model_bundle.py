"""Model supply chain: models are pinned (commit + SHA-256 of every file) in a lock file, and
an offline server installs them from a bundle only when everything matches that lock.

Exercised with the tiny Marian models built in the session (tests/translation/conftest.py)
through the real command (scripts/download_models.py): bundle -> import -> translate."""
from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from scripts.download_models import main as models_command
from translation.lock import ModelLock, ModelLockError, hash_tree
from translation.registry import DEFAULT_REGISTRY, ModelRegistry
from translation.service import TranslationService

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TINY = ["tiny-sv-en", "tiny-en-sv"]


@pytest.fixture
def pinned(models_dir: Path, registry_path: Path, tmp_path: Path) -> dict[str, Path]:
    """A copy of the test registry with a lock that pins the tiny models as they are on disk."""
    registry = tmp_path / "models.yml"
    shutil.copy(registry_path, registry)
    # A private copy: bundling records the pinned commit beside the models, and the session's
    # shared tiny models must keep their own revision for the other translation tests.
    source = tmp_path / "source-models"
    shutil.copytree(models_dir, source)
    models_dir = source
    lock = ModelLock(ModelLock.default_path(registry))
    for name in TINY:
        lock.record(name, f"local/{name}", COMMIT, models_dir / name / "hf")
    lock.save()
    return {"registry": registry, "lock": lock.path, "source": models_dir, "target": tmp_path / "offline-models",
            "bundle": tmp_path / "models-bundle.tar"}


def _run(paths: dict[str, Path], *args: str, models_dir: Path | None = None) -> int:
    return models_command(["--registry", str(paths["registry"]), "--models-dir", str(models_dir or paths["source"]),
                           "--vmap", "none", *args])


def _bundle(paths: dict[str, Path]) -> None:
    assert _run(paths, "--only", *TINY, "--bundle", str(paths["bundle"])) == 0


def _rewrite(bundle: Path, out: Path, change: str, data: bytes | None = None) -> None:
    """Copy ``bundle`` to ``out`` with member ``change`` replaced by ``data`` (or one byte
    flipped), or with an extra member ``change`` if the bundle has none of that name."""
    with tarfile.open(bundle) as src, tarfile.open(out, "w") as dst:
        names = src.getnames()
        for member in src:
            content = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == change:
                content = data if data is not None else content[:100] + bytes([content[100] ^ 1]) + content[101:]
                member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
        if change not in names:
            extra = tarfile.TarInfo(change)
            extra.size = len(data or b"")
            dst.addfile(extra, io.BytesIO(data or b""))


def test_bundle_then_offline_import_installs_the_locked_files_and_they_translate(
        pinned: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _bundle(pinned)
    assert _run(pinned, "--import-bundle", str(pinned["bundle"]), models_dir=pinned["target"]) == 0
    for name in TINY:
        assert hash_tree(pinned["target"] / name / "hf") == hash_tree(pinned["source"] / name / "hf")
        assert (pinned["target"] / name / "REVISION").read_text().strip() == COMMIT
    assert (pinned["target"] / "tiny-sv-en" / "ct2" / "model.bin").is_file()  # converted offline
    service = TranslationService.from_config(pinned["target"], pinned["registry"])
    result = service.from_swedish("hej världen", "en")
    assert result.ok and result.text == "hello world"
    assert (result.engine, result.model, result.revision) == ("ct2", "tiny-sv-en", COMMIT)
    assert "sha256" in capsys.readouterr().out  # the archive's own checksum, to compare out of band


def test_a_tampered_file_is_refused_and_nothing_is_replaced(
        pinned: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bundle(pinned)
    assert _run(pinned, "--import-bundle", str(pinned["bundle"]), models_dir=pinned["target"]) == 0
    before = hash_tree(pinned["target"])
    tampered = tmp_path / "tampered.tar"
    _rewrite(pinned["bundle"], tampered, "tiny-sv-en/hf/model.safetensors")
    capsys.readouterr()
    assert _run(pinned, "--import-bundle", str(tampered), models_dir=pinned["target"]) == 1
    error = capsys.readouterr().err
    assert "tiny-sv-en/hf/model.safetensors has sha256" in error and "Nothing was installed" in error
    assert hash_tree(pinned["target"]) == before  # the good installation is untouched
    assert not list(pinned["target"].glob(".import-*"))


def test_a_bundle_that_matches_its_own_manifest_but_not_the_lock_is_refused(
        pinned: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _bundle(pinned)
    lock = ModelLock.load(pinned["lock"])
    lock.record("tiny-sv-en", "local/tiny-sv-en", "f" * 40, pinned["source"] / "tiny-sv-en" / "hf")
    lock.save()  # the repository now pins another commit
    assert _run(pinned, "--import-bundle", str(pinned["bundle"]), models_dir=pinned["target"]) == 1
    assert "does not match models.lock" in capsys.readouterr().err
    assert not (pinned["target"] / "tiny-sv-en").exists()


def test_a_file_the_manifest_does_not_name_is_refused(
        pinned: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bundle(pinned)
    sneaky = tmp_path / "sneaky.tar"
    _rewrite(pinned["bundle"], sneaky, "../outside.txt", b"hello")
    assert _run(pinned, "--import-bundle", str(sneaky), models_dir=pinned["target"]) == 1
    assert "'../outside.txt' is not a file the lock expects" in capsys.readouterr().err
    assert not (pinned["target"].parent / "outside.txt").exists()
    assert not (pinned["target"] / "tiny-sv-en").exists()


def test_unpinned_models_are_refused_before_anything_is_fetched(
        pinned: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # tiny-random has no entry in the lock: `make models` refuses without touching the network.
    assert _run(pinned, "--only", "tiny-sv-en", "tiny-random", models_dir=tmp_path / "empty") == 2
    error = capsys.readouterr().err
    assert "Not pinned" in error and "tiny-random" in error and "--update-lock" in error
    assert not (tmp_path / "empty").exists()


def test_the_repository_lock_covers_every_model_and_the_docs_say_how_many_are_pinned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = ModelLock.load(ModelLock.default_path(DEFAULT_REGISTRY))
    names = sorted(ModelRegistry.load().models)
    assert sorted(lock.models) == names
    unpinned = lock.unpinned(names)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "translation.md").read_text(encoding="utf-8")
    assert f"Pinned today: {len(names) - len(unpinned)} of {len(names)} models." in docs
    if unpinned:  # `make models` refuses them before fetching anything
        assert models_command(["--models-dir", str(tmp_path / "m"), "--vmap", "none"]) == 2
        assert unpinned[0] in capsys.readouterr().err


def test_files_that_differ_from_the_lock_are_named(pinned: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(pinned["source"] / "tiny-sv-en" / "hf", copy)
    (copy / "vocab.json").write_text("{}", encoding="utf-8")
    (copy / "extra.bin").write_bytes(b"x")
    with pytest.raises(ModelLockError) as refused:
        ModelLock.load(pinned["lock"]).verify("tiny-sv-en", copy)
    assert "extra.bin: not in the lock" in str(refused.value)
    assert "vocab.json: sha256" in str(refused.value)
