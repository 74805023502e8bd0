"""Model releases: Rasa gets the live model from the gateway, and each answer names the
release whose model gave it, with that release's sources.

The model archives here are small tar.gz files with the two things the gateway reads from a
Rasa model (``metadata.json``: the model id and the domain's responses); the swap of real
models in a running Rasa is tests/e2e/test_model_swap.py.
"""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import httpx

from gateway.releases import ModelArchive, ReleaseError, ReleaseRegistry
from gateway.store import Store, audit_events
from tests.conftest import rasa_reply

TOKEN = "test-token-0123456789"


def model_archive(path: Path, model_id: str, source_url: str) -> Path:
    """A file shaped like a Rasa model archive: components first, metadata.json last."""
    metadata = {
        "model_id": model_id,
        "domain": {"responses": {"utter_faq/bygglov": [
            {"text": "Du behöver bygglov för ett garage.",
             "metadata": {"source": {"title": "Bygglov", "url": source_url}}},
            {"text": "You need a building permit for a garage.",
             "condition": [{"type": "slot", "name": "language", "value": "en"}]},
        ]}},
    }
    with tarfile.open(path, "w:gz") as archive:
        members = (("components/x/weights.bin", b"\0" * 1024), ("metadata.json", json.dumps(metadata).encode()))
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_model_archive_gives_its_id_and_answers(tmp_path: Path) -> None:
    archive = ModelArchive.read(model_archive(tmp_path / "m.tar.gz", "model-a", "https://karlstad.se/a"))
    assert archive.model_id == "model-a" and "utter_faq/bygglov" in archive.responses
    (tmp_path / "broken.tar.gz").write_bytes(b"not a model")
    try:
        ModelArchive.read(tmp_path / "broken.tar.gz")
    except ReleaseError as exc:
        assert "broken.tar.gz" in str(exc)
    else:
        raise AssertionError("a file that is no model archive must be refused")


def test_activate_and_roll_back_are_audited_and_rollback_refuses_the_live_release(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    store.create_all()
    registry = ReleaseRegistry(store)
    first = registry.bootstrap(model_archive(tmp_path / "a.tar.gz", "model-a", "https://karlstad.se/a"), "hash-a", None)
    assert first is not None and first.active
    again = registry.bootstrap(tmp_path / "a.tar.gz", "hash-a", None)
    assert again is not None and again.id == first.id, "a restart with the same model adds no release"
    second = registry.register_sync(model_archive(tmp_path / "b.tar.gz", "model-b", "https://karlstad.se/b"),
                                    "hash-b", commit=None, change_set_id=7, author="anna", publisher="bo",
                                    figures={"faq_topic_accuracy": 0.99})
    assert not second.active and registry.live_id(max_age_s=0) == first.id
    registry.activate_sync(second.id, "bo")
    assert registry.live_id(max_age_s=0) == second.id
    try:
        registry.activate_sync(second.id, "bo", rollback=True)
    except ReleaseError as exc:
        assert "already live" in str(exc)
    else:
        raise AssertionError("rolling back to the live release must be refused")
    registry.activate_sync(first.id, "bo", rollback=True)
    assert [r.id for r in registry.history_sync() if r.active] == [first.id]
    with store.connect() as conn:
        actions = [(r.actor, r.action, r.target) for r in conn.execute(audit_events.select())]
    assert ("bo", "release.activate", f"release:{second.id}") in actions
    assert ("bo", "release.rollback", f"release:{first.id}") in actions
    store.dispose()


async def test_rasa_gets_the_live_model_once_and_answers_name_the_release_that_answered(
    gateway_factory: Any, tmp_path: Path
) -> None:
    models = {"model-a": model_archive(tmp_path / "model-aaaa.tar.gz", "model-a", "https://karlstad.se/gammal"),
              "model-b": model_archive(tmp_path / "model-bbbb.tar.gz", "model-b", "https://karlstad.se/ny")}
    answering = {"model": "model-a"}

    def rasa(request: httpx.Request) -> httpx.Response:
        body = rasa_reply("Du behöver bygglov för ett garage.", source=None)
        body["model_id"] = answering["model"]
        return httpx.Response(200, json=body)

    async with gateway_factory(rasa, model_file=models["model-a"]) as client:
        registry: ReleaseRegistry = client.app.state.services.releases
        first = registry.current_sync()
        assert first is not None and first.model_id == "model-a"

        url = "/internal/rasa/model"
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, params={"token": "wrong-token-0123456"})).status_code == 401
        got = await client.get(url, params={"token": TOKEN})
        assert got.status_code == 200 and got.content == models["model-a"].read_bytes()
        etag = got.headers["etag"]
        assert (await client.get(url, params={"token": TOKEN}, headers={"If-None-Match": etag})).status_code == 304
        assert (await client.get(url, params={"token": TOKEN},
                                 headers={"X-Loaded-Model-Id": "model-a"})).status_code == 304

        second = registry.register_sync(models["model-b"], "bbbb", commit=None, change_set_id=None,
                                        author="anna", publisher="bo", figures={})
        registry.activate_sync(second.id, "bo")
        newer = await client.get(url, params={"token": TOKEN}, headers={"If-None-Match": etag})
        assert newer.status_code == 200 and newer.content == models["model-b"].read_bytes()
        assert newer.headers["etag"] != etag

        created = (await client.post("/api/conversations", json={"language": "sv"})).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        cid = created["conversation_id"]

        # Rasa has not loaded the new model yet: the answer is the old release's.
        old = (await client.post(f"/api/conversations/{cid}/messages", json={"text": "bygglov garage"},
                                 headers=headers)).json()
        assert old["messages"][0]["source"]["url"] == "https://karlstad.se/gammal"
        answering["model"] = "model-b"
        new = (await client.post(f"/api/conversations/{cid}/messages", json={"text": "bygglov garage"},
                                 headers=headers)).json()
        assert new["messages"][0]["source"]["url"] == "https://karlstad.se/ny"

        services = client.app.state.services
        with services.store.connect() as conn:
            from gateway.store import basis_records

            rows = conn.execute(basis_records.select().where(basis_records.c.conversation_id == cid)
                                .order_by(basis_records.c.seq)).mappings().all()
        releases = [r["record"]["release"] for r in rows]
        assert releases[-2]["model_release"] == first.id and releases[-2]["model_release_live"] is False
        assert releases[-1]["model_release"] == second.id and releases[-1]["model_release_live"] is True
        assert releases[-1]["training_data"] == "bbbb"

        # /om-ai describes the model that answers now.
        page = (await client.get("/om-ai")).text
        assert "bbbb" in page


async def test_the_release_live_at_start_records_the_content_commit_so_a_rollback_can_restore_it(
    gateway_factory: Any, tmp_path: Path
) -> None:
    import subprocess

    from tests.gateway.editor_helpers import content_clone

    content = content_clone(tmp_path)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=content, capture_output=True, text=True,
                          check=True).stdout.strip()
    model = model_archive(tmp_path / "model-aaaa.tar.gz", "model-a", "https://karlstad.se/a")
    async with gateway_factory(model_file=model, content_root=content) as client:
        first = client.app.state.services.releases.current_sync()
        assert first is not None and first.commit == head
    # Content files changed on disk and not committed: no commit describes them.
    with (content / "nlu_data" / "bibliotek.yml").open("a", encoding="utf-8") as file:
        file.write("\n")
    other = model_archive(tmp_path / "model-bbbb.tar.gz", "model-b", "https://karlstad.se/b")
    async with gateway_factory(model_file=other, content_root=content) as client:
        second = client.app.state.services.releases.current_sync()
        assert second is not None and second.model_id == "model-b" and second.commit is None
