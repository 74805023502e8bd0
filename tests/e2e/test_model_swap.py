"""A new model release reaches the running Rasa without a restart and without a failed turn.

While citizens' turns run in a loop, a second release is made live and later rolled back.
Rasa pulls each model from the gateway (its ``models:`` endpoint) and loads it in place.
Every turn must succeed, and every turn's basis record must name the release whose model
actually answered it (the model id Rasa reports), on both sides of each swap.

The second release here is the same trained model under a new model id, so that this test
needs one training, not two; the editors' workspace test trains a genuinely different model.
"""
from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.releases import ReleaseRegistry
from gateway.store import Store, basis_records

pytestmark = pytest.mark.e2e

QUESTIONS = ["Behöver jag bygglov för ett garage?", "När töms soptunnan?", "Hur söker jag färdtjänst?"]


def _copy_with_new_model_id(model: Path, target: Path) -> str:
    """The archive at ``model`` with another model id in its metadata.json."""
    new_id = uuid.uuid4().hex
    with tarfile.open(model, "r:gz") as src, tarfile.open(target, "w:gz", compresslevel=1) as dst:
        for member in src:
            data = src.extractfile(member) if member.isfile() else None
            if data is not None and Path(member.name).name == "metadata.json":
                meta = json.load(data)
                meta["model_id"] = new_id
                raw = json.dumps(meta).encode()
                member.size = len(raw)
                dst.addfile(member, io.BytesIO(raw))
            else:
                dst.addfile(member, data)
    return new_id


def _rasa_model(stack: Any) -> str | None:
    ready = httpx.get(f"{stack.gateway_url}/readyz", timeout=10).json()
    return (ready["checks"].get("rasa") or {}).get("model_id")


def _wait_for_model(stack: Any, model_id: str, timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _rasa_model(stack) == model_id:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"Rasa did not load model {model_id} within {timeout}s")


class Load:
    """Two citizens asking questions in a loop; every turn's outcome is kept."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.turns: list[tuple[float, str]] = []  # (time, conversation id)
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.stack.gateway_url, timeout=60) as client:
            while not self.stop.is_set():
                created = client.post("/api/conversations", json={"language": "sv"})
                if created.status_code != 201:
                    self.failures.append(f"create: {created.status_code}")
                    continue
                data = created.json()
                headers = {"Authorization": f"Bearer {data['token']}"}
                for question in QUESTIONS:
                    if self.stop.is_set():
                        break
                    reply = client.post(f"/api/conversations/{data['conversation_id']}/messages",
                                        json={"text": question}, headers=headers)
                    answered = reply.status_code == 200 and any(
                        m["role"] == "bot" and m.get("source") for m in reply.json()["messages"])
                    if not answered:
                        self.failures.append(f"turn: {reply.status_code} {reply.text[:200]}")
                    self.turns.append((time.monotonic(), data["conversation_id"]))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)


def _records(store: Store) -> list[dict[str, Any]]:
    with store.connect() as conn:
        rows = conn.execute(basis_records.select().order_by(basis_records.c.created_at)).mappings().all()
    return [dict(r["record"]) for r in rows]


def test_a_new_release_goes_live_under_load_without_a_failed_turn_and_rolls_back(
    live_stack: Any, trained_model: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{live_stack.var_dir / 'gateway.db'}")
    registry = ReleaseRegistry(store)
    first = registry.current_sync()
    assert first is not None and first.model_id == _rasa_model(live_stack), "the trained model is live at start"
    second_id = _copy_with_new_model_id(trained_model, tmp_path / "model-second.tar.gz")
    second = registry.register_sync(tmp_path / "model-second.tar.gz", "swaptest0000001", commit=None,
                                    change_set_id=None, author="test", publisher="test", figures={})
    already = len(_records(store))
    moments: dict[str, datetime] = {}
    try:
        with Load(live_stack) as load:
            time.sleep(3)
            moments["activate"] = datetime.now(UTC)
            registry.activate_sync(second.id, "test")
            swap_seconds = _wait_for_model(live_stack, second_id)
            moments["second_loaded"] = datetime.now(UTC)
            time.sleep(4)
            moments["rollback"] = datetime.now(UTC)
            registry.activate_sync(first.id, "test", rollback=True)
            back_seconds = _wait_for_model(live_stack, str(first.model_id))
            moments["first_loaded"] = datetime.now(UTC)
            time.sleep(4)
    finally:
        registry.activate_sync(first.id, "test")  # leave the shared stack as it was
        store.dispose()
    assert not load.failures, load.failures[:5]
    # How fast a swap is belongs to `make bench`; here it only has to happen (within 300 s).
    assert swap_seconds > 0 and back_seconds > 0

    store = Store(f"sqlite:///{live_stack.var_dir / 'gateway.db'}")
    try:
        records = [r for r in _records(store)[already:] if (r.get("nlu") or {}).get("model_id")]
    finally:
        store.dispose()
    by_model = {str(first.model_id): first.id, second_id: second.id}
    margin = timedelta(seconds=1)  # a turn that started just before a swap may finish after it
    phases: dict[str, set[str]] = {"before": set(), "second": set(), "after": set()}
    for record in records:
        model_id = record["nlu"]["model_id"]
        # The record names the release whose model answered, whatever was live by then.
        assert record["release"].get("model_release") == by_model[model_id], record["release"]
        at = datetime.fromisoformat(record["created_at"])
        if at < moments["activate"] - margin:
            phases["before"].add(model_id)
        elif moments["second_loaded"] + margin < at < moments["rollback"]:
            phases["second"].add(model_id)
        elif at > moments["first_loaded"] + margin:
            phases["after"].add(model_id)
    assert phases == {"before": {str(first.model_id)}, "second": {second_id}, "after": {str(first.model_id)}}, phases
