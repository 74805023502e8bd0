"""PostgreSQL's connections shared out between Rasa's tracker stores and the gateways
(docs/replicas.md).

Rasa 3.6's SQL tracker store gives each Rasa process one SQLAlchemy pool of SQL_POOL_SIZE
connections plus SQL_MAX_OVERFLOW more under load (rasa/core/tracker_store.py,
create_engine_kwargs; Rasa's defaults are 50 + 100, i.e. 150 for ONE replica, more than
PostgreSQL's default max_connections of 100). Every process's pool must fit together:

  rasa_replicas x (SQL_POOL_SIZE + SQL_MAX_OVERFLOW)
    + gateways x GATEWAY_SQL_CONNECTIONS          (gateway/store.py: pool 10 + overflow 10)
    <= max_connections - reserved                 (superuser slots, backups, psql, retention)

With the values below, 2 Rasa + 2 gateways use 2 x 10 + 2 x 20 = 60 of 100 - 10 = 90.
Set SQL_POOL_SIZE / SQL_MAX_OVERFLOW in the environment to change them; check a layout with
``postgres_headroom``. A turn makes a few short tracker queries, so 5 + 5 per Rasa is ample.
"""
from __future__ import annotations

import os


class PoolBudgetError(ValueError):
    """The pools do not fit in PostgreSQL's connection limit."""


RASA_SQL_POOL_SIZE = 5
RASA_SQL_MAX_OVERFLOW = 5
GATEWAY_SQL_CONNECTIONS = 20
POSTGRES_RESERVED = 10


def rasa_sql_pool(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The pool settings for a Rasa process: the environment's, else ours (not Rasa's 50 + 100)."""
    environ = dict(os.environ if environ is None else environ)
    return {"SQL_POOL_SIZE": environ.get("SQL_POOL_SIZE", str(RASA_SQL_POOL_SIZE)),
            "SQL_MAX_OVERFLOW": environ.get("SQL_MAX_OVERFLOW", str(RASA_SQL_MAX_OVERFLOW))}


def postgres_headroom(max_connections: int, rasa_replicas: int, gateways: int,
                      environ: dict[str, str] | None = None, reserved: int = POSTGRES_RESERVED) -> int:
    """Connections left over when every pool is full; raises ``PoolBudgetError`` if they do not fit."""
    pool = rasa_sql_pool(environ)
    per_rasa = int(pool["SQL_POOL_SIZE"]) + int(pool["SQL_MAX_OVERFLOW"])
    used = rasa_replicas * per_rasa + gateways * GATEWAY_SQL_CONNECTIONS
    left = max_connections - reserved - used
    if left < 0:
        raise PoolBudgetError(
            f"PostgreSQL allows {max_connections} connections ({reserved} kept for administration), "
            f"but {rasa_replicas} Rasa x {per_rasa} + {gateways} gateways x {GATEWAY_SQL_CONNECTIONS} "
            f"= {used}. Lower SQL_POOL_SIZE/SQL_MAX_OVERFLOW or raise max_connections."
        )
    return left
