"""The second factor of local staff accounts: time-based one-time codes (TOTP, RFC 6238).

- Codes are made and checked by ``pyotp`` (six digits, 30-second steps, HMAC-SHA1: what every
  authenticator app reads from an ``otpauth://`` URI). A code is accepted one step either side
  of now (phones whose clocks are a little off), and never twice: the last accepted step is
  kept, and a code for that step or an earlier one is refused (RFC 6238, section 5.2).
- Enrolment has two steps: :func:`begin` makes a new secret (not yet in force), shown once in
  the console with its URI; :func:`confirm` puts it in force when the person types a code from
  the app, which proves the app has it.
- Roles in :data:`REQUIRED_FOR` must use it for a password login (``gateway.staff_sessions``);
  single sign-on leaves the second factor to the municipality's identity provider.
- The secret is kept in the database (table ``staff_totp``) as base32: whoever can read the
  database can make codes, so protect it and its backups like the password hashes.
"""
from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from gateway.store import staff_totp, upsert, utcnow

REQUIRED_FOR = ("admin", "publisher")
ISSUER = "Karlstads kommun chatt"
STEP_S = 30
DRIFT_STEPS = 1  # one step either side of now


@dataclass(frozen=True)
class TotpState:
    secret: str
    confirmed: bool
    last_step: int | None


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://totp/...: what a QR code in an authenticator app would carry


def required_for(role: str) -> bool:
    return role in REQUIRED_FOR


def state(conn: Connection, user_id: str) -> TotpState | None:
    row = conn.execute(select(staff_totp).where(staff_totp.c.user_id == user_id)).first()
    if row is None:
        return None
    return TotpState(row.secret, row.confirmed_at is not None, row.last_step)


def uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=username, issuer_name=ISSUER)


def begin(conn: Connection, user_id: str, username: str) -> Enrolment:
    """A new secret for ``user_id``, waiting for :func:`confirm` (replaces an unconfirmed one)."""
    secret = pyotp.random_base32()  # 32 characters, 160 bits
    statement = upsert(conn, staff_totp).values(
        user_id=user_id, secret=secret, confirmed_at=None, last_step=None, created_at=utcnow())
    conn.execute(statement.on_conflict_do_update(
        index_elements=[staff_totp.c.user_id],
        set_={"secret": secret, "confirmed_at": None, "last_step": None, "created_at": utcnow()},
    ))
    return Enrolment(secret, uri(secret, username))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within the allowed drift), or None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check(conn: Connection, user_id: str, code: str, now: float | None = None,
          pending: bool = False) -> bool:
    """Whether ``code`` is a fresh code of the account's secret (the confirmed one, or with
    ``pending`` the one waiting for confirmation); a good code uses up its step."""
    current = state(conn, user_id)
    if current is None or current.confirmed == pending:
        return False
    step = matching_step(current.secret, code, now)
    if step is None or (current.last_step is not None and step <= current.last_step):
        return False
    # Only one of two requests with the same code can move the step forward.
    moved = conn.execute(
        update(staff_totp)
        .where(staff_totp.c.user_id == user_id, staff_totp.c.secret == current.secret,
               (staff_totp.c.last_step.is_(None)) | (staff_totp.c.last_step < step))
        .values(last_step=step)
    ).rowcount
    return bool(moved)


def confirm(conn: Connection, user_id: str, code: str, now: datetime | None = None) -> bool:
    """Put the waiting secret in force if ``code`` is one of its codes."""
    if not check(conn, user_id, code, now.timestamp() if now else None, pending=True):
        return False
    conn.execute(update(staff_totp).where(staff_totp.c.user_id == user_id)
                 .values(confirmed_at=now or utcnow()))
    return True


def set_confirmed(conn: Connection, user_id: str, username: str) -> Enrolment:
    """A new secret in force at once (an administrator hands it over: ``staff-user --totp``)."""
    enrolment = begin(conn, user_id, username)
    conn.execute(update(staff_totp).where(staff_totp.c.user_id == user_id).values(confirmed_at=utcnow()))
    return enrolment


def remove(conn: Connection, user_id: str) -> bool:
    """Remove the account's second factor (an administrator's reset); whether it had one."""
    return bool(conn.execute(delete(staff_totp).where(staff_totp.c.user_id == user_id)).rowcount)
