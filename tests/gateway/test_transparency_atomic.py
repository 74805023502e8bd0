"""An answer without its record must be impossible: the gateway is killed (SIGKILL) in the
middle of the turn's transaction, and the database holds either both or neither.

The gateway runs as a real process (uvicorn) against a real database file. The fault is
injected from outside the product: the bootstrap below hooks SQLAlchemy's engine events and
kills its own process at the chosen moment, so no test hook lives in the gateway's code.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from gateway.basis import verify_chain
from gateway.store import basis_records, conversations, messages
from scripts.stack import free_port
from tests.conftest import ROOT
from tests.pg import temporary_database

BOOTSTRAP = '''
import os, signal, sys
sys.path.insert(0, {root!r})
import httpx, uvicorn
from sqlalchemy import event
from sqlalchemy.engine import Engine
from gateway.main import create_app
from gateway.settings import Settings
from tests.conftest import rasa_reply

KILL_AT = os.environ.get("KILL_AT", "")

def die():
    os.kill(os.getpid(), signal.SIGKILL)

@event.listens_for(Engine, "before_cursor_execute")
def before(conn, cursor, statement, parameters, context, executemany):
    text = statement.lstrip().upper()
    if text.startswith("INSERT INTO BASIS_RECORDS"):
        conn.info["records_written"] = conn.info.get("records_written", 0) + 1
    # the record is written, the answer is about to be
    if KILL_AT == "before_answer" and text.startswith("INSERT INTO MESSAGES") and conn.info.get("records_written"):
        die()

@event.listens_for(Engine, "commit")
def commit(conn):
    # record and answer both written, COMMIT not yet sent
    if KILL_AT == "before_commit" and conn.info.get("records_written"):
        die()

def rasa(request):
    return httpx.Response(200, json=rasa_reply("Du behöver ofta bygglov."))

settings = Settings(environment="test", var_dir={var!r}, models_dir={var!r} + "/no-models",
                    rasa_token="test-token-0123456789", opening_hours="mon-sun 00:00-23:59")
app = create_app(settings, rasa_transport=httpx.MockTransport(rasa))
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
'''


@contextmanager
def gateway_process(
    tmp_path: Path, database_url: str, kill_at: str = ""
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    script = tmp_path / "bootstrap.py"
    script.write_text(BOOTSTRAP.format(root=str(ROOT), var=str(tmp_path / "var")), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "KILL_AT": kill_at, "GATEWAY_DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"gateway exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("gateway did not start")
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


def counts(database_url: str, conversation_id: str) -> dict[str, Any]:
    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            def n(table: Any, *where: Any) -> int:
                return int(conn.execute(select(func.count()).select_from(table).where(
                    table.c.conversation_id == conversation_id, *where)).scalar_one())
            return {
                "records": n(basis_records),
                "answers": n(messages, messages.c.role == "bot", messages.c.turn >= 1),
                "citizen": n(messages, messages.c.role == "citizen"),
                "turns": conn.execute(select(conversations.c.turns).where(
                    conversations.c.id == conversation_id)).scalar_one(),
                "chain_ok": verify_chain(conn, conversation_id).ok,
            }
    finally:
        engine.dispose()


def _killed_mid_turn_leaves_neither(tmp_path: Path, database_url: str, kill_at: str) -> None:
    with gateway_process(tmp_path, database_url, kill_at) as (url, process):
        created = httpx.post(url + "/api/conversations", timeout=10).json()
        cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
        with pytest.raises(httpx.HTTPError):  # the process dies while answering
            httpx.post(f"{url}/api/conversations/{cid}/messages", headers=auth,
                       json={"text": "Behöver jag bygglov?"}, timeout=10)
        assert process.wait(timeout=10) == -signal.SIGKILL
    assert counts(database_url, cid) == {"records": 0, "answers": 0, "citizen": 0, "turns": 0, "chain_ok": True}

    # Restarted, the same question is answered, with its record.
    with gateway_process(tmp_path, database_url) as (url, _):
        reply = httpx.post(f"{url}/api/conversations/{cid}/messages", headers=auth,
                           json={"text": "Behöver jag bygglov?"}, timeout=10)
        assert reply.status_code == 200, reply.text
    assert counts(database_url, cid) == {"records": 1, "answers": 1, "citizen": 1, "turns": 1, "chain_ok": True}


@pytest.mark.parametrize("kill_at", ["before_answer", "before_commit"])
def test_killed_gateway_leaves_neither_answer_nor_record_on_sqlite(tmp_path: Path, kill_at: str) -> None:
    _killed_mid_turn_leaves_neither(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", kill_at)


@pytest.mark.postgres
def test_killed_gateway_leaves_neither_answer_nor_record_on_postgresql(tmp_path: Path) -> None:
    with temporary_database() as url:
        _killed_mid_turn_leaves_neither(tmp_path, url, "before_commit")
