"""Helpers for the editors' workspace tests: a temporary git clone of the content, fake
train and gate commands (the real ones need the Rasa environment and minutes), a fake
release registry, a Rasa stand-in that misses on purpose, and logged-in editors."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, rasa_reply
from tests.gateway.staff_helpers import handoff_reply, make_staff, staff_login

FAKE_TRAIN = '''
import hashlib, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from scripts.data_hash import training_data_hash
args = sys.argv[1:]
root = Path(args[args.index("--root") + 1])
digest = training_data_hash(root)
out = Path({models!r}); out.mkdir(parents=True, exist_ok=True)
model = out / f"model-{{digest}}.tar.gz"
model.write_bytes(b"fake model " + digest.encode())
print(model)
'''

FAKE_GATE = '''
import json, sys
from pathlib import Path
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
extra = Path(args["--extra"]).read_text(encoding="utf-8")
net = Path(args["--safety-net"]).read_text(encoding="utf-8")
Path({calls!r}).write_text(json.dumps({{"args": args, "extra": extra, "net": net}}), encoding="utf-8")
fail = Path({fail_marker!r}).exists()
# The shape of scripts/gate.py's report (the figures here are made up).
report = {{"passed": not fail, "paraphrases": 332, "faq_topic_accuracy": 0.9731, "acute_sensitive_recall": 0.9778,
          "acute_reaches_person": 1.0, "acute_caught_only_by_safety_lexicon": ["jag vill inte finnas längre"],
          "faq_false_handoff_rate": 0.0038, "extras": {{"total": 1, "correct": 1, "wrong": []}},
          "baseline": {{"faq_topic_accuracy": {{"baseline": 0.9692, "model": 0.9731}},
                       "acute_sensitive_recall": {{"baseline": 1.0, "model": 0.9778}},
                       "faq_false_handoff_rate": {{"baseline": 0.0038, "model": 0.0038}},
                       "topics_worse": [], "topics_better": [{{"topic": "faq/bibliotek", "baseline": "6/7",
                                                              "model": "7/7", "change": 1}}]}},
          "reasons": []}}
if fail:
    report["acute_reaches_person"] = 0.9778
    report["reasons"] = ["acute messages reaching a person 97.8 % < 100 %", "1 of 1 extra questions wrong"]
Path(args["--out"]).write_text(json.dumps(report), encoding="utf-8")
sys.exit(1 if fail else 0)
'''


def content_clone(tmp_path: Path) -> Path:
    """A git clone of this repository's committed content, to edit and commit into."""
    target = tmp_path / "content"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True)
    return target


@dataclass
class Fakes:
    root: Path
    train: Path
    gate: Path
    gate_calls: Path
    gate_fails: Path

    def settings(self) -> dict[str, Any]:
        return {
            "content_root": self.root,
            "editor_train_command": [sys.executable, str(self.train)],
            "editor_gate_command": [sys.executable, str(self.gate)],
        }


def fakes(tmp_path: Path) -> Fakes:
    root = content_clone(tmp_path)
    train, gate = tmp_path / "fake_train.py", tmp_path / "fake_gate.py"
    calls, fail = tmp_path / "gate_calls.json", tmp_path / "gate_fails"
    train.write_text(FAKE_TRAIN.format(root=str(ROOT), models=str(tmp_path / "models")), encoding="utf-8")
    gate.write_text(FAKE_GATE.format(calls=str(calls), fail_marker=str(fail)), encoding="utf-8")
    return Fakes(root, train, gate, calls, fail)


@dataclass(frozen=True)
class FakeRelease:
    id: int
    data_hash: str
    model_file: str
    commit: str | None
    change_set_id: int | None
    author: str | None
    publisher: str | None
    figures: dict[str, object]
    created_at: datetime
    activated_at: datetime | None = None
    active: bool = False


@dataclass
class FakeRegistry:
    """The release registry's interface (gateway/releases.py) in memory."""

    releases: list[FakeRelease] = field(default_factory=list)
    calls: list[tuple[str, int, str]] = field(default_factory=list)

    async def register(self, model_path: Path, data_hash: str, *, commit: str | None,
                       change_set_id: int | None, author: str | None, publisher: str | None,
                       figures: dict[str, object]) -> FakeRelease:
        release = FakeRelease(len(self.releases) + 1, data_hash, str(model_path), commit, change_set_id,
                              author, publisher, figures, datetime.now(UTC))
        self.releases.append(release)
        return release

    async def activate(self, release_id: int, by: str) -> FakeRelease:
        self.calls.append(("activate", release_id, by))
        now = datetime.now(UTC)
        self.releases = [replace(r, active=r.id == release_id,
                                 activated_at=now if r.id == release_id else r.activated_at)
                         for r in self.releases]
        return next(r for r in self.releases if r.id == release_id)

    async def current(self) -> FakeRelease | None:
        return next((r for r in self.releases if r.active), None)

    async def history(self) -> list[FakeRelease]:
        return list(reversed(self.releases))

    async def rollback(self, release_id: int, by: str) -> FakeRelease:
        self.calls.append(("rollback", release_id, by))
        return await self.activate(release_id, by)


def services_of(client: httpx.AsyncClient) -> Any:
    return client.app.state.services  # type: ignore[attr-defined]


async def login_as(client: httpx.AsyncClient, username: str, role: str, name: str | None = None) -> dict[str, Any]:
    """Log ``client`` in as ``username`` (made with ``role`` on first use)."""
    from sqlalchemy import select

    from gateway.store import staff_users

    store = services_of(client).store
    with store.connect() as conn:
        exists = conn.execute(select(staff_users.c.id).where(staff_users.c.username == username)).first()
    if exists is None:
        make_staff(store, username, name or username.title(), role)
    client.cookies.clear()
    return await staff_login(client, username)


def missing_rasa(request: httpx.Request) -> httpx.Response:
    """Rasa as it misses: by keyword in the message."""
    import json

    text = json.loads(request.content)["message"].lower()
    if "människa" in text:
        return httpx.Response(200, json=handoff_reply())
    if text.startswith("/choose_topic"):
        return httpx.Response(200, json=rasa_reply("Bibliotek.", response_id="utter_faq/bibliotek",
                                                   intent="choose_topic", topic=None, confidence=1.0))
    if "ärende" in text:
        return httpx.Response(200, json=rasa_reply(
            "Jag kopplar dig.", response_id="utter_sensitive/personal_case", intent="sensitive",
            topic="sensitive/personal_case", handoff={"reason": "sensitive/personal_case", "acute": False}))
    if "bok" in text or "book" in text:
        return httpx.Response(200, json=rasa_reply("Menade du något av det här?", response_id="utter_did_you_mean",
                                                   intent="faq_ambiguous", topic="faq/bibliotek", confidence=0.5))
    if "simhall" in text:
        return httpx.Response(200, json=rasa_reply("Simhallen.", response_id="utter_faq/simhall",
                                                   topic="faq/simhall", confidence=0.45))
    if "bygglov" in text:
        return httpx.Response(200, json=rasa_reply("Bygglov.", response_id="utter_faq/bygglov",
                                                   topic="faq/bygglov", confidence=0.95))
    return httpx.Response(200, json=rasa_reply("Jag är inte säker på att jag förstod.",
                                               response_id="utter_ask_rephrase", intent="nlu_fallback",
                                               topic=None, confidence=0.3))


async def say(client: httpx.AsyncClient, texts: list[str], language: str | None = None) -> list[dict[str, Any]]:
    """One citizen conversation: the turns' responses."""
    saved = dict(client.cookies)
    client.cookies.clear()
    created = await client.post("/api/conversations", json={"language": language} if language else None)
    assert created.status_code == 201, created.text
    cid, token = created.json()["conversation_id"], created.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    if language:
        chosen = await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": language})
        assert chosen.status_code == 200, chosen.text
    out = []
    for text in texts:
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
        assert response.status_code == 200, response.text
        out.append({"cid": cid, "auth": auth, **response.json()})
    for name, value in saved.items():
        client.cookies.set(name, value)
    return out


async def wait_for_state(client: httpx.AsyncClient, change_id: int, states: tuple[str, ...],
                         timeout_s: float = 90) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        body = (await client.get(f"/staff/api/editor/changes/{change_id}")).json()
        if body.get("state") in states or loop.time() > deadline:
            return dict(body)
        await asyncio.sleep(0.3)
