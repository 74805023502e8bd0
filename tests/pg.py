"""A throwaway PostgreSQL database on the local server (127.0.0.1:5432)."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def temporary_database() -> Iterator[str]:
    import psycopg  # pinned in requirements/app.txt: a missing driver is a failure, not a skip

    name = f"karlstad_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - CI starts PostgreSQL
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_URL} ({str(exc).strip()}). This test needs a real "
            "PostgreSQL with trust auth for user postgres: start it (`pg_ctlcluster <version> "
            "main start`, as .ci/run does), point TEST_POSTGRES_ADMIN_URL at one, or deselect "
            "these tests with -m 'not postgres'.",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
