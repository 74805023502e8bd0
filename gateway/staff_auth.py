"""Staff accounts, sessions and the audit trail.

- Passwords are hashed with Argon2id (memory-hard, argon2-cffi defaults).
- A session id is a random secret in an HttpOnly, SameSite=Strict cookie; the database
  keeps only its SHA-256 hash, with an expiry.
- State-changing requests (POST/PUT/PATCH/DELETE) must carry the session's CSRF token in
  the ``X-CSRF-Token`` header (given by the login response and ``GET /staff/api/me``).
- Every staff action is written to ``audit_events`` with :func:`audit`. A failed login
  with a username that is no account is recorded as ``unknown:<keyed hash>``, never as
  typed (it is often a password in the wrong field); repeats of one name share the marker.
- Usernames are compared in one normal form (:func:`normalise_username`), which the login
  throttle (``gateway.login_throttle``) keys on too.

Other route modules protect their endpoints with ``require_staff``::

    AuditorDep = Annotated[StaffUser, Depends(require_staff("auditor"))]

The ``admin`` role satisfies every role check; ``require_staff()`` accepts any role.
"""
from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import logging
import re
import secrets
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.auth import new_id
from gateway.errors import ConflictError, ForbiddenError, GatewayError, UnauthorisedError
from gateway.store import Store, audit_events, staff_sessions, staff_users, utcnow

logger = logging.getLogger(__name__)

ROLES = ("staff", "auditor", "admin")
SESSION_COOKIE = "staff_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL = timedelta(hours=8)  # one working day; then log in again
MIN_PASSWORD = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_hasher = PasswordHasher()
# Verified against when the username does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class StaffAccountError(GatewayError):
    """A staff account cannot be created as asked."""

    status = 422
    code = "invalid_account"


@dataclass(frozen=True)
class StaffUser:
    id: str
    username: str
    display_name: str
    role: str

    def has_role(self, *roles: str) -> bool:
        return not roles or self.role == "admin" or self.role in roles

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }


@dataclass(frozen=True)
class Session:
    id: str  # the secret that goes into the cookie; never stored
    csrf_token: str
    expires_at: datetime
    user: StaffUser


def _user(row: Any) -> StaffUser:
    return StaffUser(id=row.id, username=row.username, display_name=row.display_name, role=row.role)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    """The one form a username is stored, looked up and throttled in: NFKC (fullwidth and
    compatibility characters fold to ASCII), invisible format characters removed, Unicode
    whitespace stripped at both ends, lower case."""
    folded = unicodedata.normalize("NFKC", username)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return visible.strip().lower()


def unknown_user_marker(store: Store, username: str) -> str:
    """How the audit trail names a login attempt for a username that is no account: a keyed
    hash (the key lives in the database), so repeats can be told apart and correlated but
    what was typed cannot be read back."""
    digest = hmac.new(store.key("audit-unknown-user"), username.encode("utf-8"), hashlib.sha256)
    return f"unknown:{digest.hexdigest()[:16]}"


# ---- audit trail ---------------------------------------------------------------------
def audit(
    conn: Connection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append one audit event. ``actor`` is a staff username; never put citizens' text in ``detail``."""
    conn.execute(
        insert(audit_events).values(
            actor=actor, action=action, target=target, detail=detail, created_at=now or utcnow()
        )
    )


# ---- accounts ------------------------------------------------------------------------
def _validate(username: str, display_name: str, role: str, password: str) -> None:
    if not USERNAME.match(username):
        raise StaffAccountError(
            f"Username '{username[:64]}' is not allowed. Use 2-64 characters: lower-case a-z, "
            "digits, '.', '_' or '-', starting with a letter or digit."
        )
    if not display_name.strip() or len(display_name) > 128:
        raise StaffAccountError("Display name must be 1-128 characters, e.g. 'Anna på Kontaktcenter'.")
    if role not in ROLES:
        raise StaffAccountError(f"Role '{role}' is not known. Roles: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise StaffAccountError(
            f"The password is too short ({len(password)} characters). Use at least {MIN_PASSWORD}."
        )


def create_user(store: Store, username: str, display_name: str, role: str, password: str) -> StaffUser:
    """Create an active account; raises :class:`StaffAccountError` / ``ConflictError``."""
    username = normalise_username(username)
    display_name = display_name.strip()
    _validate(username, display_name, role, password)
    user = StaffUser(id=new_id(), username=username, display_name=display_name, role=role)
    try:
        with store.begin() as conn:
            conn.execute(
                insert(staff_users).values(
                    id=user.id,
                    username=username,
                    display_name=display_name,
                    role=role,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=utcnow(),
                )
            )
            audit(conn, "cli", "staff.user_created", user.id, {"username": username, "role": role})
    except IntegrityError as exc:
        raise ConflictError(f"A staff account named '{username}' already exists.") from exc
    logger.info("staff account created: id=%s role=%s", user.id, role)
    return user


# ---- sessions ------------------------------------------------------------------------
def login(store: Store, username: str, password: str, now: datetime | None = None) -> Session:
    """A new session, or ``UnauthorisedError`` (same message for unknown user and bad password)."""
    now = now or utcnow()
    username = normalise_username(username)
    with store.connect() as conn:
        row = conn.execute(select(staff_users).where(staff_users.c.username == username)).first()
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if row is None or not ok or not row.active:
        actor = row.username if row is not None else unknown_user_marker(store, username)
        with store.begin() as conn:
            audit(conn, actor, "staff.login_failed", None, None, now)
        raise UnauthorisedError("Fel användarnamn eller lösenord.")
    session = Session(
        id=secrets.token_urlsafe(32),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + SESSION_TTL,
        user=_user(row),
    )
    with store.begin() as conn:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
        conn.execute(
            insert(staff_sessions).values(
                id_hash=hash_session_id(session.id),
                user_id=row.id,
                csrf_token=session.csrf_token,
                created_at=now,
                expires_at=session.expires_at,
            )
        )
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                update(staff_users)
                .where(staff_users.c.id == row.id)
                .values(password_hash=_hasher.hash(password))
            )
        audit(conn, row.username, "staff.login", row.id, None, now)
    return session


def lookup(store: Store, session_id: str, now: datetime | None = None) -> Session | None:
    """The live session for a cookie value, or None (unknown, expired or deactivated)."""
    now = now or utcnow()
    with store.connect() as conn:
        row = conn.execute(
            select(staff_sessions, staff_users)
            .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
            .where(staff_sessions.c.id_hash == hash_session_id(session_id))
        ).first()
    if row is None or not row.active:
        return None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
    if expires_at <= now:
        return None
    return Session(session_id, row.csrf_token, expires_at, _user(row))


def logout(store: Store, session: Session) -> None:
    with store.begin() as conn:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.id_hash == hash_session_id(session.id)))
        audit(conn, session.user.username, "staff.logout", session.user.id)


async def current_session(request: Request) -> Session:
    """The request's staff session (401 without one); checks CSRF on unsafe methods."""
    cached: Session | None = getattr(request.state, "staff_session", None)
    if cached is not None:
        return cached
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise UnauthorisedError("Logga in för att använda personalgränssnittet.")
    store: Store = request.app.state.services.store
    session = await store.run(lookup, store, session_id)
    if session is None:
        raise UnauthorisedError("Din inloggning har gått ut. Logga in igen.")
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, session.csrf_token):
            raise ForbiddenError(
                f"CSRF-token saknas eller stämmer inte. Skicka headern {CSRF_HEADER} "
                "med token från inloggningen eller GET /staff/api/me."
            )
    request.state.staff_session = session
    return session


def require_staff(*roles: str) -> Callable[[Request], Awaitable[StaffUser]]:
    """A FastAPI dependency: the logged-in StaffUser with one of ``roles`` (admin always passes)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"Unknown role(s) {unknown}. Roles: {', '.join(ROLES)}.")

    async def dependency(request: Request) -> StaffUser:
        session = await current_session(request)
        if not session.user.has_role(*roles):
            raise ForbiddenError(
                f"Ditt konto har rollen '{session.user.role}'; det här kräver "
                f"{' eller '.join(roles)}."
            )
        return session.user

    return dependency


# ---- command line --------------------------------------------------------------------
def cli_create_user(argv: list[str]) -> int:
    """``python -m gateway.cli staff-user [--username ...] [--password-stdin]``."""
    from gateway.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m gateway.cli staff-user",
                                     description="Create a staff, auditor or admin account.")
    parser.add_argument("--username")
    parser.add_argument("--display-name")
    parser.add_argument("--role", choices=ROLES)
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    args = parser.parse_args(argv)

    interactive = sys.stdin.isatty() and not args.password_stdin

    def ask(option: str, prompt: str, default: str | None = None) -> str:
        if not interactive:
            if default:
                return default
            raise StaffAccountError(f"{option} is missing; pass it on the command line.")
        return input(prompt).strip() or (default or "")

    try:
        username = args.username or ask("--username", "Användarnamn: ")
        display_name = args.display_name or ask("--display-name", f"Visningsnamn [{username}]: ", username)
        role = args.role or ask("--role", "Roll (staff/auditor/admin) [staff]: ", "staff")
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Lösenord (minst 12 tecken): ")
            if getpass.getpass("Upprepa lösenordet: ") != password:
                print("The passwords differ. No account was created.", file=sys.stderr)
                return 2
        settings = Settings()  # fields come from the environment
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.effective_database_url)
        try:
            store.create_all()
            user = create_user(store, username, display_name, role, password)
        finally:
            store.dispose()
    except (GatewayError, EOFError) as exc:
        message = exc.message if isinstance(exc, GatewayError) else "input ended"
        print(f"Could not create the account: {message}", file=sys.stderr)
        return 2
    print(f"Created {user.role} account '{user.username}' ({user.display_name}).")
    return 0
