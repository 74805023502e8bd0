"""What happens to a staff account after it is made: deactivated (its sessions end at once)
and activated again, a new password (by its owner, who gives the old one, or by an
administrator), its second factor enrolled or reset, and the list an administrator reads.

Every change is one transaction together with its audit event (``gateway.audit_trail``):
the account changes and the trail says who did it, or neither happens. ``actor`` is the
administrator's username, ``cli`` for ``python -m gateway.cli staff-user``, or the account's
own username.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from gateway import audit_trail, staff_accounts, totp
from gateway.errors import ConflictError, ForbiddenError, NotFoundError
from gateway.staff_accounts import MIN_PASSWORD, StaffAccountError, StaffUser, user_from_row
from gateway.staff_sessions import Session, end_sessions, strengthen
from gateway.store import Store, staff_identities, staff_totp, staff_users

logger = logging.getLogger(__name__)
MAX_PASSWORD = 256


@dataclass(frozen=True)
class AccountSummary:
    username: str
    display_name: str
    role: str
    active: bool
    totp: bool  # a second factor is in force
    sso: bool  # linked to an identity at the OIDC provider

    def as_dict(self) -> dict[str, object]:
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "active": self.active, "totp": self.totp, "sso": self.sso}


def _account(conn: Connection, username: str) -> tuple[StaffUser, bool]:
    name = staff_accounts.normalise_username(username)
    row = conn.execute(select(staff_users).where(staff_users.c.username == name)).first()
    if row is None:
        raise NotFoundError(f"Det finns inget personalkonto '{name[:64]}'.")
    return user_from_row(row), bool(row.active)


def accounts(store: Store) -> list[AccountSummary]:
    with store.connect() as conn:
        enrolled = set(conn.execute(
            select(staff_totp.c.user_id).where(staff_totp.c.confirmed_at.is_not(None))).scalars())
        linked = set(conn.execute(select(staff_identities.c.user_id)).scalars())
        rows = conn.execute(select(staff_users).order_by(staff_users.c.username)).all()
    return [AccountSummary(r.username, r.display_name, r.role, bool(r.active), r.id in enrolled, r.id in linked)
            for r in rows]


def set_active(store: Store, username: str, active: bool, actor: str) -> tuple[StaffUser, int]:
    """Deactivate (ending every session of the account in the same transaction) or activate
    an account; returns it and how many sessions ended."""
    with store.begin() as conn:
        user, was_active = _account(conn, username)
        if not active and user.username == actor:
            raise ConflictError("Du kan inte inaktivera ditt eget konto. Be en annan administratör.")
        conn.execute(update(staff_users).where(staff_users.c.id == user.id).values(active=active))
        ended = 0 if active else end_sessions(conn, user.id)
        action = "staff.user_activated" if active else "staff.user_deactivated"
        audit_trail.record(conn, actor, action, user.id,
                           {"username": user.username, "was_active": was_active, "sessions_ended": ended})
    logger.info("staff account %s: id=%s sessions_ended=%d", "activated" if active else "deactivated",
                user.id, ended)
    return user, ended


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffAccountError(
            f"Lösenordet är för kort ({len(password)} tecken). Använd minst {MIN_PASSWORD} tecken.")
    if len(password) > MAX_PASSWORD:
        raise StaffAccountError(f"Lösenordet är för långt. Använd högst {MAX_PASSWORD} tecken.")


def _store_password(conn: Connection, user_id: str, password: str) -> None:
    conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                 .values(password_hash=staff_accounts.hash_password(password)))


def change_own_password(store: Store, session: Session, old: str, new: str) -> int:
    """The logged-in person's new password; the old one must be given. Every other session
    of the account ends. Returns how many did."""
    user = session.user
    with store.connect() as conn:
        stored = conn.execute(select(staff_users.c.password_hash).where(staff_users.c.id == user.id)).scalar()
    if not staff_accounts.password_matches(stored, old):
        with store.begin() as conn:
            audit_trail.record(conn, user.username, "staff.password_change_failed", user.id)
        raise ForbiddenError("Det nuvarande lösenordet stämmer inte. Inget har ändrats.")
    validate_password(new)
    if new == old:
        raise StaffAccountError("Det nya lösenordet är samma som det gamla. Välj ett nytt.")
    with store.begin() as conn:
        _store_password(conn, user.id, new)
        ended = end_sessions(conn, user.id, keep=session)
        audit_trail.record(conn, user.username, "staff.password_changed", user.id, {"other_sessions_ended": ended})
    return ended


def set_password(store: Store, username: str, password: str, actor: str) -> StaffUser:
    """An administrator sets a new password (a forgotten one); every session of the account ends."""
    validate_password(password)
    with store.begin() as conn:
        user, _ = _account(conn, username)
        _store_password(conn, user.id, password)
        ended = end_sessions(conn, user.id)
        audit_trail.record(conn, actor, "staff.password_set", user.id,
                           {"username": user.username, "sessions_ended": ended})
    return user


def begin_totp(store: Store, session: Session) -> totp.Enrolment:
    """A new secret for the logged-in person's authenticator app (not in force until confirmed)."""
    with store.begin() as conn:
        current = totp.state(conn, session.user.id)
        if current is not None and current.confirmed:
            raise ConflictError(
                "Tvåstegsverifiering är redan aktiverad för ditt konto. Har du bytt telefon: be en "
                "administratör återställa den, så kan du aktivera den igen.")
        enrolment = totp.begin(conn, session.user.id, session.user.username)
        audit_trail.record(conn, session.user.username, "staff.totp_enrolment_started", session.user.id)
    return enrolment


class InvalidCodeError(ForbiddenError):
    """The code does not prove that the app has the secret."""

    code = "invalid_code"


def confirm_totp(store: Store, session: Session, code: str) -> None:
    with store.begin() as conn:
        if not totp.confirm(conn, session.user.id, code):
            raise InvalidCodeError(
                "Koden stämmer inte. Kontrollera att telefonens klocka går rätt och skriv den kod "
                "som appen visar just nu.")
        if session.method == "password":
            strengthen(conn, session, "password+totp")
        audit_trail.record(conn, session.user.username, "staff.totp_enrolled", session.user.id)


def reset_totp(store: Store, username: str, actor: str) -> tuple[StaffUser, int]:
    """Remove an account's second factor (a lost phone) and end its sessions; for admin and
    publisher the next password login can then only enrol a new one."""
    with store.begin() as conn:
        user, _ = _account(conn, username)
        if user.username == actor:
            raise ConflictError("Du kan inte återställa din egen tvåstegsverifiering. Be en annan administratör.")
        had = totp.remove(conn, user.id)
        ended = end_sessions(conn, user.id)
        audit_trail.record(conn, actor, "staff.totp_reset", user.id,
                           {"username": user.username, "had_totp": had, "sessions_ended": ended})
    return user, ended


def enrol_totp_now(store: Store, username: str, actor: str) -> totp.Enrolment:
    """A second factor in force at once, for an administrator to hand over (``--totp``)."""
    with store.begin() as conn:
        user, _ = _account(conn, username)
        enrolment = totp.set_confirmed(conn, user.id, user.username)
        ended = end_sessions(conn, user.id)
        audit_trail.record(conn, actor, "staff.totp_enrolled", user.id,
                           {"username": user.username, "by_administrator": True, "sessions_ended": ended})
    return enrolment
