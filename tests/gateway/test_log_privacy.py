"""Citizens' text never reaches the gateway's log, even when something breaks mid-turn.

The real entrypoint (``python -m gateway``, as ``make run`` starts it, writing what
becomes gateway.log) gets a database error while it stores a turn: the citizen gets the
503, the log says which error happened and where, and not a word of what the citizen wrote.
The two layers are also tested on their own: database errors carry no parameters, and the
log formatter writes no exception message.
"""
from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from gateway import logconfig
from gateway.store import Store, conversations, messages, utcnow
from tests.conftest import rasa_reply

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Kvittra-Zebrafink-4711 min granne slår sina barn"  # what a citizen might write
FRAGMENTS = ("Kvittra", "Zebrafink", "4711", "granne")


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's channel endpoint answering one FAQ reply (Rasa itself is not what is tested)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps(rasa_reply("Svar.")).encode("utf-8")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_rasa() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def fail_message_inserts(database: Path) -> None:
    """From now on, storing a message fails inside the database (as a full disk would)."""
    with sqlite3.connect(database) as db:
        db.execute("CREATE TRIGGER fail_messages BEFORE INSERT ON messages "
                   "BEGIN SELECT RAISE(ABORT, 'storage failed'); END")


def test_a_database_error_during_a_turn_leaves_no_citizen_text_in_the_log(tmp_path: Path, fake_rasa: str) -> None:
    from scripts.stack import free_port

    port = free_port()
    log_path = tmp_path / "gateway.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_PORT": str(port),
        "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        "GATEWAY_MODELS_DIR": str(tmp_path / "no-models"),
        "GATEWAY_RASA_URL": fake_rasa,
        "GATEWAY_RASA_TOKEN": "test-token-0123456789",
        "GATEWAY_LOG_LEVEL": "DEBUG",  # the most an operator could turn on
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the gateway did not start:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.2)
        created = httpx.post(f"{base}/api/conversations", timeout=10).json()
        fail_message_inserts(tmp_path / "var" / "gateway.db")
        turn = httpx.post(f"{base}/api/conversations/{created['conversation_id']}/messages",
                          headers={"Authorization": f"Bearer {created['token']}"}, json={"text": SECRET}, timeout=10)
        assert turn.status_code == 503
        assert "Nothing was saved" in turn.json()["error"]["message"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    written = log_path.read_text(encoding="utf-8", errors="replace")
    assert "IntegrityError" in written  # the error was logged, by type and place
    for fragment in FRAGMENTS:
        assert fragment not in written, f"{fragment!r} is in the log:\n{written[-3000:]}"


def _failing_insert(store: Store) -> DBAPIError:
    store.create_all()
    now = utcnow()
    with store.begin() as conn:
        conn.execute(insert(conversations).values(id="c" * 32, token_hash="h", created_at=now, last_seen_at=now))
    try:
        with store.begin() as conn:
            conn.execute(insert(messages).values(id="m1", conversation_id="c" * 32, seq=1, turn=1, role="citizen",
                                                 text=SECRET, language="sv", created_at=now))
    except DBAPIError as exc:
        return exc
    raise AssertionError("the insert did not fail")


def test_sqlite_errors_do_not_quote_the_statement_parameters(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    store.create_all()
    fail_message_inserts(tmp_path / "gateway.db")
    error = _failing_insert(store)
    store.dispose()
    assert "storage failed" in str(error) and "INSERT INTO messages" in str(error)
    assert not any(fragment in str(error) for fragment in FRAGMENTS)


@pytest.mark.postgres
def test_postgresql_errors_do_not_quote_the_statement_parameters(postgres_url: str) -> None:
    store = Store("postgresql+psycopg://" + postgres_url.split("://", 1)[1])
    store.create_all()
    with store.begin() as conn:
        conn.execute(text("CREATE FUNCTION fail_messages() RETURNS trigger AS $$ BEGIN "
                          "RAISE EXCEPTION 'storage failed'; END $$ LANGUAGE plpgsql"))
        conn.execute(text("CREATE TRIGGER fail_messages BEFORE INSERT ON messages "
                          "FOR EACH ROW EXECUTE FUNCTION fail_messages()"))
    error = _failing_insert(store)
    store.dispose()
    assert "storage failed" in str(error)
    assert not any(fragment in str(error) for fragment in FRAGMENTS)


def test_the_log_formatter_writes_exceptions_without_their_messages() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logconfig.WithheldExceptionFormatter(logconfig.FORMAT))
    logger = logging.getLogger("tests.log_privacy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            try:
                raise KeyError(SECRET)
            except KeyError as inner:
                raise ValueError(f"could not handle {SECRET!r}") from inner
        except ValueError:
            logger.exception("Exception in ASGI application")
            record = logger.makeRecord("x", logging.ERROR, __file__, 1, "again", None, sys.exc_info())
            record.exc_text = f"Traceback ... ValueError: {SECRET}"  # cached by another handler
            handler.handle(record)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Exception in ASGI application" in written
    assert "ValueError at test_log_privacy.py" in written and "caused by KeyError at" in written
    assert not any(fragment in written for fragment in FRAGMENTS), written
