"""The real servers some tests need: Redis and PostgreSQL on this machine.

CI (``.ci/run``) starts both, and so does a developer who runs ``make test``. A test that
needs one of them and cannot reach it therefore *fails*, with a message that says how to
start the server: a skipped test would let a broken Redis path pass unnoticed. Where a
server really cannot run, deselect its tests explicitly: ``-m "not redis"`` or
``-m "not postgres"``.

The fixtures ``redis_url`` and ``postgres_url`` are made available to the gateway tests by
``tests/gateway/conftest.py``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pg import temporary_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis(url: str = REDIS_URL) -> str:
    """``url`` if a Redis server answers PING there; otherwise the calling test fails."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (OSError, redis.RedisError) as exc:
        pytest.fail(
            f"Redis is not reachable at {url} ({type(exc).__name__}: {exc}). This test needs a "
            "real Redis: start one (`redis-server --daemonize yes --port 6379 --save ''`, as "
            ".ci/run does), point TEST_REDIS_URL at one, or deselect these tests with "
            "-m 'not redis'.",
            pytrace=False,
        )
    return url


@pytest.fixture
def redis_url() -> str:
    """Redis for this test (fails, saying how to start it, when it is not running)."""
    return require_redis()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards (fails, saying how to
    start PostgreSQL, when it is not running)."""
    with temporary_database() as url:
        yield url

