"""Change sets from draft to published and back (gateway/editor/): submit stages the change
and the job runner validates, trains and gates it (fake train and gate commands here: the
real ones need the Rasa environment); a publisher who is not the author publishes it as a
git commit in a temporary clone of the content and makes it live through the release
registry (a fake with its interface); rollback restores the earlier content."""
from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from gateway.editor.tables import change_sets
from tests.gateway.editor_helpers import (
    FakeRegistry,
    fakes,
    login_as,
    missing_rasa,
    say,
    services_of,
    wait_for_state,
)

API = "/staff/api/editor"
EXAMPLE = "var lånar man saker utan att köpa dem"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


async def assigned_draft(client: Any) -> int:
    await say(client, ["var lånar man grejer utan att köpa dem"])
    await login_as(client, "eva", "editor", "Eva Redaktör")
    item = (await client.get(f"{API}/inbox")).json()["items"][0]
    response = await client.post(f"{API}/inbox/{item['id']}/assign", json={"topic": "faq/bibliotek", "text": EXAMPLE})
    assert response.status_code == 201, response.text
    return int(response.json()["change_set"])


async def test_submit_trains_gates_and_a_second_person_publishes(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    registry = FakeRegistry()
    first_commit = git(fake.root, "rev-parse", "HEAD")
    initial = await registry.register(Path("initial.tar.gz"), "initial", commit=first_commit, change_set_id=None,
                                      author=None, publisher=None, figures={})
    await registry.activate(initial.id, by="setup")
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        services_of(client).editor.registry = registry
        change_id = await assigned_draft(client)
        submitted = await client.post(f"{API}/changes/{change_id}/submit")
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["state"] in ("queued", "training", "testing", "ready")
        assert "+    - " + EXAMPLE in submitted.json()["diff"]
        ready = await wait_for_state(client, change_id, ("ready", "failed"))
        assert ready["state"] == "ready", ready.get("reason")
        assert ready["figures"]["acute_reaches_person"] == 1.0
        first_gate = fake.gate_calls.read_text(encoding="utf-8")

        own = await client.post(f"{API}/changes/{change_id}/publish")  # an editor, and the author
        await login_as(client, "per", "publisher", "Per Publicerare")
        releases_before = (await client.get(f"{API}/releases")).json()["items"]
        published = await client.post(f"{API}/changes/{change_id}/publish")
        assert published.status_code == 200, published.text
        releases = (await client.get(f"{API}/releases")).json()["items"]
        staged_live_file = (fake.root / "nlu_data" / "bibliotek.yml").read_text(encoding="utf-8")
        published_head = git(fake.root, "rev-parse", "HEAD")
        published_author = git(fake.root, "log", "-1", "--format=%an <%ae>")
        published_message = git(fake.root, "log", "-1", "--format=%B")
        published_status = git(fake.root, "status", "--porcelain")
        await login_as(client, "eva", "editor")
        editor_rollback = await client.post(f"{API}/releases/{initial.id}/rollback")
        await login_as(client, "per", "publisher")
        rolled_back = await client.post(f"{API}/releases/{initial.id}/rollback")
        assert rolled_back.status_code == 200, rolled_back.text
        after_rollback = (fake.root / "nlu_data" / "bibliotek.yml").read_text(encoding="utf-8")
        # The next change set's gate no longer asks for the rolled-back question, only its own.
        await say(client, ["vart lämnar man tillbaka lånade ljudböcker"])
        await login_as(client, "eva", "editor")
        item = next(i for i in (await client.get(f"{API}/inbox")).json()["items"] if "ljudböcker" in i["text"])
        later = (await client.post(f"{API}/inbox/{item['id']}/assign", json={
            "topic": "faq/bibliotek", "text": "vart lämnar man tillbaka lånade ljudböcker"})).json()["change_set"]
        await client.post(f"{API}/changes/{later}/submit")
        assert (await wait_for_state(client, later, ("ready", "failed")))["state"] == "ready"
        later_extra = json.loads(fake.gate_calls.read_text(encoding="utf-8"))["extra"]
        assert "ljudböcker" in later_extra and EXAMPLE not in later_extra

    assert own.status_code == 403 and [r["id"] for r in releases_before] == [initial.id]
    assert editor_rollback.status_code == 403
    gate = json.loads(first_gate)
    assert EXAMPLE in gate["extra"] and "faq/bibliotek" in gate["extra"]
    assert Path(gate["args"]["--model"]).exists()
    # The gate learns which of its acute questions the gateway's safety lexicon catches.
    net = yaml.safe_load(gate["net"])
    assert "I want to end my life" in net and "min man slog mig igår kväll" in net
    assert not any("bibliotek" in text.lower() for text in net)
    body = published.json()
    assert body["state"] == "published" and body["publisher"] == "Per Publicerare"
    commit = body["commit"]
    assert published_head == commit and commit != first_commit
    assert published_author == "Eva Redaktör <eva@karlstad.se>"
    assert "Reviewed-by: Per Publicerare <per@karlstad.se>" in published_message
    assert published_status == ""
    assert f"    - {EXAMPLE}\n" in staged_live_file
    assert [(r["commit"], r["change_set_id"], r["author"], r["active"]) for r in releases] == [
        (commit, change_id, "Eva Redaktör", True), (first_commit, None, None, False)]
    # Rollback: the earlier content as a new commit, and the earlier release live again.
    assert EXAMPLE not in after_rollback
    assert rolled_back.json()["commit"] not in (commit, first_commit)
    assert git(fake.root, "diff", first_commit, "HEAD", "--", "nlu_data", "bot", "config.yml") == ""
    assert registry.calls[-3:] == [("activate", 2, "per"), ("rollback", initial.id, "per"),
                                   ("activate", initial.id, "per")]
    assert rolled_back.json()["release"]["active"] is True


async def test_the_author_cannot_publish_even_as_a_publisher(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        services_of(client).editor.registry = FakeRegistry()
        await say(client, ["var lånar man grejer utan att köpa dem"])
        await login_as(client, "pia", "publisher", "Pia")
        item = (await client.get(f"{API}/inbox")).json()["items"][0]
        change_id = (await client.post(f"{API}/inbox/{item['id']}/assign",
                                       json={"topic": "faq/bibliotek", "text": EXAMPLE})).json()["change_set"]
        await client.post(f"{API}/changes/{change_id}/submit")
        assert (await wait_for_state(client, change_id, ("ready", "failed")))["state"] == "ready"
        head_before = git(fake.root, "rev-parse", "HEAD")
        own = await client.post(f"{API}/changes/{change_id}/publish")
        head = git(fake.root, "rev-parse", "HEAD")
    assert own.status_code == 403
    assert "egen ändring" in own.json()["error"]["message"] and "your own" in own.json()["error"]["message"]
    assert head == head_before  # nothing was committed


async def test_a_failing_gate_fails_the_change_with_its_reason(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    fake.gate_fails.write_text("yes", encoding="utf-8")
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        change_id = await assigned_draft(client)
        await client.post(f"{API}/changes/{change_id}/submit")
        failed = await wait_for_state(client, change_id, ("ready", "failed"))
        await login_as(client, "per", "publisher")
        publish = await client.post(f"{API}/changes/{change_id}/publish")
    assert failed["state"] == "failed" and "acute messages reaching a person 97.8 %" in failed["reason"]
    assert publish.status_code in (409, 503)


async def test_an_empty_draft_cannot_be_submitted_and_others_cannot_submit_it(
    gateway_factory: Any, tmp_path: Path
) -> None:
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        change_id = await assigned_draft(client)
        await login_as(client, "olle", "editor")
        theirs = await client.post(f"{API}/changes/{change_id}/submit")
        missing = await client.get(f"{API}/changes/9999")
    assert theirs.status_code == 403 and missing.status_code == 404


async def test_an_interrupted_job_goes_back_to_the_queue_and_finishes(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        change_id = await assigned_draft(client)
        await client.post(f"{API}/changes/{change_id}/submit")
        await wait_for_state(client, change_id, ("ready", "failed"))
        # As if the gateway had stopped while training.
        with services_of(client).store.begin() as conn:
            conn.execute(update(change_sets).where(change_sets.c.id == change_id).values(state="training"))
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        await login_as(client, "eva", "editor")
        again = await wait_for_state(client, change_id, ("ready", "failed"))
    assert again["state"] == "ready"


async def test_answer_edit_preview_diff_and_review_list(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        await login_as(client, "eva", "editor")
        answers = (await client.get(f"{API}/answers")).json()["items"]
        edit = {"topic": "faq/bibliotek", "text_sv": "Biblioteken har nya öppettider från januari.",
                "owner": "Kulturförvaltningen", "checked": "2026-12-07"}
        preview = await client.post(f"{API}/answers/preview", json=edit)
        bad_url = await client.post(f"{API}/answers/preview", json={**edit, "url": "https://example.com/x"})
        saved = await client.post(f"{API}/answers", json=edit)
        detail = (await client.get(f"{API}/changes/{saved.json()['change_set']}")).json()
        live = (fake.root / "nlu_data" / "bibliotek.yml").read_text(encoding="utf-8")
        due = (await client.get(f"{API}/answers", params={"overdue": "true"})).json()["items"]
    library = next(a for a in answers if a["topic"] == "faq/bibliotek")
    assert library["url"] == "https://karlstad.se/bibliotek" and library["text_en"]
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["preview"]["sv"]["text"] == edit["text_sv"]
    assert body["preview"]["sv"]["source"]["url"] == "https://karlstad.se/bibliotek"
    assert '+  - text: "Biblioteken har nya öppettider från januari."' in body["diff"]
    assert '+        owner: "Kulturförvaltningen"' in body["diff"]
    assert bad_url.status_code == 422
    assert detail["answers"][0]["topic"] == "faq/bibliotek"
    assert "nya öppettider" not in live  # nothing changes live before publishing
    assert all(a["overdue"] for a in due)


async def test_the_workspace_runs_on_postgresql(gateway_factory: Any, tmp_path: Path, postgres_url: str) -> None:
    """The inbox query, the change-set tables and the job runner on PostgreSQL too."""
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, database_url=postgres_url, **fake.settings()) as client:
        assert services_of(client).store.dialect == "postgresql"
        await say(client, ["var lånar man grejer utan att köpa dem?"])
        change_id = await assigned_draft(client)
        await client.post(f"{API}/changes/{change_id}/submit")
        done = await wait_for_state(client, change_id, ("ready", "failed"))
        inbox_items = (await client.get(f"{API}/inbox")).json()["items"]
    assert done["state"] == "ready", done.get("reason")
    assert inbox_items == []  # both wordings were one item, and it was assigned


@pytest.mark.redis
@pytest.mark.postgres
async def test_two_gateways_publish_a_change_set_once(
    gateway_factory: Any, tmp_path: Path, redis_url: str, postgres_url: str
) -> None:
    """Two publishers press Publicera on the same change set at the same moment, each through
    another gateway behind the load balancer (one PostgreSQL, one Redis, one content checkout):
    one publishes, the other is told it is already published; one commit, one release."""
    fake = fakes(tmp_path)
    registry = FakeRegistry()
    first_commit = git(fake.root, "rev-parse", "HEAD")
    shared = {"redis_url": redis_url, "database_url": postgres_url, **fake.settings()}
    async with gateway_factory(missing_rasa, **shared) as one, gateway_factory(missing_rasa, **shared) as two:
        services_of(one).editor.registry = registry
        services_of(two).editor.registry = registry
        change_id = await assigned_draft(one)
        await one.post(f"{API}/changes/{change_id}/submit")
        assert (await wait_for_state(one, change_id, ("ready", "failed")))["state"] == "ready"
        await login_as(one, "per", "publisher", "Per Publicerare")
        await login_as(two, "pia", "publisher", "Pia Publicerare")
        answers = await asyncio.gather(one.post(f"{API}/changes/{change_id}/publish"),
                                       two.post(f"{API}/changes/{change_id}/publish"))
        detail = (await two.get(f"{API}/changes/{change_id}")).json()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()["error"]["message"]
    assert "publicerad" in refused.lower() and "published" in refused
    commits = git(fake.root, "rev-list", f"{first_commit}..HEAD").split()
    assert len(commits) == 1 and detail["state"] == "published" and detail["commit"] == commits[0]
    assert [c[0] for c in registry.calls] == ["activate"] and len(registry.releases) == 1
    assert git(fake.root, "status", "--porcelain") == ""


async def test_a_finetuned_model_the_gate_refuses_is_trained_fully_and_gated_again(
    gateway_factory: Any, tmp_path: Path
) -> None:
    import sys

    fake = fakes(tmp_path)
    trainings, gated = tmp_path / "trainings.txt", tmp_path / "gated.txt"
    train, gate = tmp_path / "train_ft.py", tmp_path / "gate_ft.py"
    train.write_text(
        "import sys\nfrom pathlib import Path\n"
        f"finetune = '--finetune' in sys.argv\nout = Path({str(tmp_path)!r}) / ('m.finetuned.tar.gz' if finetune "
        "else 'm.tar.gz')\nout.write_bytes(b'model')\n"
        f"open({str(trainings)!r}, 'a').write(('finetune' if finetune else 'full') + '\\n')\nprint(out)\n",
        encoding="utf-8")
    gate.write_text(
        "import json, sys\nargs = dict(zip(sys.argv[1::2], sys.argv[2::2]))\n"
        f"open({str(gated)!r}, 'a').write(args['--model'] + '\\n')\n"
        "bad = 'finetuned' in args['--model'].rsplit('/', 1)[-1]\n"
        "open(sys.argv[-1], 'w').write(json.dumps({'passed': not bad, 'reasons': ['acute recall 0.98 < 1.0'] "
        "if bad else []}))\nsys.exit(1 if bad else 0)\n", encoding="utf-8")
    live = tmp_path / "live.tar.gz"
    live.write_bytes(b"live model")
    registry = FakeRegistry()
    await registry.activate((await registry.register(live, "live", commit=None, change_set_id=None, author=None,
                                                     publisher=None, figures={})).id, by="setup")
    settings = {**fake.settings(), "editor_train_command": [sys.executable, str(train)],
                "editor_gate_command": [sys.executable, str(gate)]}


    async def live_model() -> Path:
        return live

    async with gateway_factory(missing_rasa, **settings) as client:
        services_of(client).editor.registry = registry
        # the runner finetunes the live release's model (not var/models/current.tar.gz, which a
        # fresh clone has not trained yet while this test runs)
        services_of(client).editor.runner.baseline = live_model
        change_id = await assigned_draft(client)
        await client.post(f"{API}/changes/{change_id}/submit")
        done = await wait_for_state(client, change_id, ("ready", "failed"))
    assert done["state"] == "ready", done.get("reason")
    assert trainings.read_text(encoding="utf-8").split() == ["finetune", "full"]
    assert [Path(p).name for p in gated.read_text(encoding="utf-8").split()] == ["m.finetuned.tar.gz", "m.tar.gz"]
