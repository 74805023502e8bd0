"""Rasa's SQL tracker-store pool is sized for PostgreSQL's connection limit
(scripts/postgres_budget.py, used by scripts/stack.py): the installed Rasa reads the pool
settings the stack gives it, and two Rasa replicas and two gateways fit in PostgreSQL's
default 100 connections, which Rasa's own defaults do not."""
from __future__ import annotations

import json
import subprocess

import pytest

from scripts.postgres_budget import PoolBudgetError, postgres_headroom, rasa_sql_pool
from scripts.stack import RASA_BIN

RASA_PYTHON = RASA_BIN.parent / "python"
PROBE = (
    "import json; from rasa.core.tracker_store import create_engine_kwargs as k; "
    "print(json.dumps(k('postgresql://rasa@127.0.0.1:5432/test')))"
)


def test_the_installed_rasa_takes_the_pool_size_the_stack_gives_it() -> None:
    env = {"PATH": "/usr/bin:/bin", **rasa_sql_pool({})}
    out = subprocess.run([str(RASA_PYTHON), "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    kwargs = json.loads(out.strip().splitlines()[-1])
    assert (kwargs["pool_size"], kwargs["max_overflow"]) == (5, 5)
    assert rasa_sql_pool({"SQL_POOL_SIZE": "8"})["SQL_POOL_SIZE"] == "8"  # the operator's value wins


def test_two_rasa_and_two_gateways_fit_in_postgres_default_limit_and_rasa_defaults_do_not() -> None:
    assert postgres_headroom(100, rasa_replicas=2, gateways=2, environ={}) == 30
    with pytest.raises(PoolBudgetError, match=r"2 Rasa x 150 \+ 2 gateways x 20 = 340"):
        postgres_headroom(100, rasa_replicas=2, gateways=2,
                          environ={"SQL_POOL_SIZE": "50", "SQL_MAX_OVERFLOW": "100"})
