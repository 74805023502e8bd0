"""The staff audit trail: who did what, when (table ``audit_events``).

Every staff action (log in and out, claim, reply, note, close, export, chain check) and a
few citizen events on tickets (a call-back request, a danger sign) are appended here with
:func:`record`. The trail never holds citizens' text. Not to be confused with the auditor's
queries over basis records (``gateway.basis_queries``).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from gateway.store import Store, audit_events, utcnow

# What an event may carry besides actor, action and target: ids, codes, counts, flags,
# an export's filters (JSON). Never citizens' text.
Detail = dict[str, object]


def record(
    conn: Connection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: Detail | None = None,
    now: datetime | None = None,
) -> None:
    """Append one event. ``actor`` is a staff username, ``citizen``, ``cli`` or an
    :func:`unknown_user_marker`; never put citizens' text in ``detail``."""
    conn.execute(
        insert(audit_events).values(
            actor=actor, action=action, target=target, detail=detail, created_at=now or utcnow()
        )
    )


def unknown_user_marker(store: Store, username: str) -> str:
    """How the trail names a login attempt for a username that is no account: a keyed hash
    (the key lives in the database), so repeats can be told apart and correlated but what
    was typed (often a password in the wrong field) cannot be read back."""
    digest = hmac.new(store.key("audit-unknown-user"), username.encode("utf-8"), hashlib.sha256)
    return f"unknown:{digest.hexdigest()[:16]}"
