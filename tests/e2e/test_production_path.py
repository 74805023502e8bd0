"""The production path: PostgreSQL for the gateway and Rasa's tracker store, Redis for
Rasa's lock store — real servers on this machine, the same code as the default."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg import temporary_database
from tests.services import require_redis

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def pg_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scripts.stack import Stack, free_port

    with temporary_database() as url:
        var_dir = tmp_path_factory.mktemp("var-pg")
        stack = Stack(
            model=trained_model,
            var_dir=var_dir,
            gateway_port=free_port(),
            rasa_port=free_port(),
            action_port=free_port(),
            database_url=url,
            redis_url=require_redis(),  # fails with a clear message before Rasa starts
            extra_env={"GATEWAY_ENVIRONMENT": "test", "GATEWAY_MODELS_DIR": str(var_dir / "none")},
        )
        stack.start(timeout=240)
        try:
            yield stack, url
        finally:
            stack.stop()


def test_conversation_is_stored_in_postgresql_by_gateway_and_rasa(pg_stack: Any) -> None:
    import psycopg

    stack, url = pg_stack
    client = httpx.Client(base_url=stack.gateway_url, timeout=30)
    created = client.post("/api/conversations").json()
    cid = created["conversation_id"]
    response = client.post(
        f"/api/conversations/{cid}/messages",
        headers={"Authorization": f"Bearer {created['token']}"},
        json={"text": "Hur ansöker jag om plats i förskolan?"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["source"]["url"].startswith("https://karlstad.se/")
    with psycopg.connect(url) as conn:
        gateway_rows = conn.execute("SELECT count(*) FROM messages WHERE conversation_id = %s", (cid,)).fetchone()
        rasa_rows = conn.execute("SELECT count(*) FROM events WHERE sender_id = %s", (cid,)).fetchone()
    assert gateway_rows is not None and gateway_rows[0] == 3
    assert rasa_rows is not None and rasa_rows[0] > 0  # Rasa's SQL tracker store in PostgreSQL
