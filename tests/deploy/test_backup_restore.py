"""Backup and restore of PostgreSQL as a round trip (issue 16, item 5; docs/drift.md).

A citizen talks to a gateway whose database is PostgreSQL; the database is backed up while
the services run (scripts/backup.sh); the dump is restored into a new, empty database
(scripts/restore.sh); the same command as ``make audit-verify`` finds every basis-record chain
intact there; and a gateway and Rasa pointed at the restored database carry on the same
conversation: the citizen's token still works and the transcript holds the old turn and the
new one, each answer with its basis record.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg import temporary_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"


def _stack(model: Path, var_dir: Path, database_url: str) -> Any:
    from scripts.stack import Stack, free_port

    return Stack(
        model=model,
        var_dir=var_dir,
        gateway_port=free_port(),
        rasa_port=free_port(),
        action_port=free_port(),
        database_url=database_url,
        supervise=False,
        extra_env={"GATEWAY_ENVIRONMENT": "test", "GATEWAY_MODELS_DIR": str(var_dir / "none"),
                   "GATEWAY_OPENING_HOURS": "mon-sun 00:00-23:59"},
    )


def _audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    """What ``make audit-verify`` runs, with DATABASE_URL pointing at ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    env.pop("GATEWAY_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "gateway.cli", "audit-verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _turn(base_url: str, cid: str, token: str, text: str) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/api/conversations/{cid}/messages", json={"text": text},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    with temporary_database() as source, temporary_database() as target:
        yield source, target


def test_restored_backup_passes_audit_verify_and_the_citizen_carries_on(
    trained_model: Path, tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    source, target = two_databases
    dump = tmp_path / "backups" / "karlstad.dump"

    first = _stack(trained_model, tmp_path / "var-before", source)
    first.start(timeout=240)
    try:
        created = httpx.post(f"{first.gateway_url}/api/conversations", timeout=30).json()
        cid, token = created["conversation_id"], created["token"]
        before = _turn(first.gateway_url, cid, token, "Hur ansöker jag om plats i förskolan?")
        first_answer = before["messages"][0]
        assert first_answer["basis_id"]
        # Backed up while the gateway and Rasa run, as IT will do it at night.
        backup = subprocess.run(["bash", str(BACKUP), str(dump)], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "DATABASE_URL": source}, timeout=300)
    finally:
        first.stop()
    assert backup.returncode == 0, backup.stderr
    assert dump.exists() and dump.stat().st_mode & 0o077 == 0  # citizens' messages: owner only
    assert "backup: " in backup.stdout and "tables" in backup.stdout

    restore = subprocess.run(["bash", str(RESTORE), str(dump), target], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert restore.returncode == 0, restore.stderr
    assert "make audit-verify" in restore.stdout

    # A second restore into the same (now filled) database is refused, not merged.
    again = subprocess.run(["bash", str(RESTORE), str(dump), target], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 3
    assert "not empty" in again.stderr

    verified = _audit_verify(target)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 conversations" in verified.stdout and "all chains intact" in verified.stdout

    second = _stack(trained_model, tmp_path / "var-after", target)
    second.start(timeout=240)
    try:
        after = _turn(second.gateway_url, cid, token, "Var hittar jag information om bygglov?")
        transcript = httpx.get(f"{second.gateway_url}/api/conversations/{cid}/messages",
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
        records = httpx.get(f"{second.gateway_url}/api/conversations/{cid}/basis",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    finally:
        second.stop()
    assert transcript.status_code == 200, transcript.text
    messages = transcript.json()["messages"]
    texts = [m["text"] for m in messages if m["role"] == "citizen"]
    assert texts == ["Hur ansöker jag om plats i förskolan?", "Var hittar jag information om bygglov?"]
    answer_ids = [m["id"] for m in messages if m["basis_id"]]
    assert first_answer["id"] in answer_ids and after["messages"][0]["id"] in answer_ids
    assert records.status_code == 200, records.text
    export = records.json()
    assert {first_answer["basis_id"], after["messages"][0]["basis_id"]} <= {r["id"] for r in export["records"]}
    assert export["chain"]["ok"] is True

    # The chain goes on across the restore: the new record links to the restored one.
    assert _audit_verify(target).returncode == 0


def test_restore_refuses_what_is_not_a_dump(tmp_path: Path) -> None:
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello\n", encoding="utf-8")
    result = subprocess.run(["bash", str(RESTORE), str(not_a_dump), "postgresql://postgres@127.0.0.1/none"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a pg_dump custom-format archive" in result.stderr


def test_backup_says_what_to_set_without_a_database_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "GATEWAY_DATABASE_URL"}}
    result = subprocess.run(["bash", str(BACKUP), str(tmp_path / "x.dump")], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 2
    assert "set DATABASE_URL" in result.stderr
    assert not (tmp_path / "x.dump").exists()
