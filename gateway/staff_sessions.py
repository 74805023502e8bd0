"""Staff sessions: logging in and out, the session behind a cookie, and the FastAPI
dependency that protects the staff routes.

- A session id is a random secret in an HttpOnly, SameSite=Strict cookie; the database
  keeps only its SHA-256 hash, with an expiry (one working day).
- State-changing requests (POST/PUT/PATCH/DELETE) must carry the session's CSRF token in
  the ``X-CSRF-Token`` header (given by the login response and ``GET /staff/api/me``).
- Logins, failed logins and logouts go to the audit trail (``gateway.audit_trail``); a
  failed login with a username that is no account is recorded as a keyed hash, never as typed.
- Accounts with a second factor (``gateway.totp``) log in with password *and* code; an
  account whose role requires one (admin, publisher) but has none yet gets a session that
  can only enrol it (:attr:`Session.needs_totp`). Single sign-on (``gateway.staff_sso``) opens
  sessions with :func:`open_session` too, with the method ``oidc``.

Route modules protect their endpoints with :func:`require_staff`::

    AuditorDep = Annotated[StaffUser, Depends(require_staff("auditor"))]

``require_staff()`` accepts any role; ``admin`` passes every role check. Only
:func:`require_login` lets a session that still has to enrol its second factor through
(the account's own page, ``/me`` and logging out).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from gateway import audit_trail, staff_accounts, totp
from gateway.errors import ForbiddenError, UnauthorisedError
from gateway.staff_accounts import ROLES, StaffUser, user_from_row
from gateway.store import Store, aware, staff_sessions, staff_users, utcnow

SESSION_COOKIE = "staff_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL = timedelta(hours=8)  # one working day; then log in again
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Login methods that satisfy a role's second-factor requirement.
STRONG_METHODS = frozenset({"password+totp", "oidc"})


class TotpRequiredError(UnauthorisedError):
    """The password was right; the account's second factor is asked for next."""

    code = "totp_required"


@dataclass(frozen=True)
class Session:
    id: str  # the secret that goes into the cookie; never stored
    csrf_token: str
    expires_at: datetime
    user: StaffUser
    method: str = "password"  # password | password+totp | oidc

    @property
    def needs_totp(self) -> bool:
        """The role requires a second factor this session did not give: enrol it first."""
        return totp.required_for(self.user.role) and self.method not in STRONG_METHODS


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(conn: Connection, user: StaffUser, method: str, now: datetime,
                 detail: audit_trail.Detail | None = None) -> Session:
    """Store a new session for ``user`` (logged in by ``method``) and audit the login."""
    session = Session(
        id=secrets.token_urlsafe(32),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + SESSION_TTL,
        user=user,
        method=method,
    )
    conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
    conn.execute(
        insert(staff_sessions).values(
            id_hash=hash_session_id(session.id),
            user_id=user.id,
            csrf_token=session.csrf_token,
            created_at=now,
            expires_at=session.expires_at,
            method=method,
        )
    )
    audit_trail.record(conn, user.username, "staff.login", user.id, {"method": method, **(detail or {})}, now)
    return session


def end_sessions(conn: Connection, user_id: str, keep: Session | None = None) -> int:
    """End every session of ``user_id`` (but ``keep``) at once; how many there were."""
    statement = delete(staff_sessions).where(staff_sessions.c.user_id == user_id)
    if keep is not None:
        statement = statement.where(staff_sessions.c.id_hash != hash_session_id(keep.id))
    return int(conn.execute(statement).rowcount)


def strengthen(conn: Connection, session: Session, method: str) -> None:
    """The session's person has now given a second factor (enrolled it)."""
    conn.execute(update(staff_sessions).where(staff_sessions.c.id_hash == hash_session_id(session.id))
                 .values(method=method))


def login(store: Store, username: str, password: str, code: str | None = None,
          now: datetime | None = None) -> Session:
    """A new session, or ``UnauthorisedError`` (same message for unknown user and bad password);
    ``TotpRequiredError`` when the password is right and the account's code is missing."""
    now = now or utcnow()
    username = staff_accounts.normalise_username(username)
    with store.connect() as conn:
        row = conn.execute(select(staff_users).where(staff_users.c.username == username)).first()
    ok = staff_accounts.password_matches(row.password_hash if row is not None else None, password)
    if row is None or not ok or not row.active:
        actor = row.username if row is not None else audit_trail.unknown_user_marker(store, username)
        with store.begin() as conn:
            audit_trail.record(conn, actor, "staff.login_failed", None, None, now)
        raise UnauthorisedError("Fel användarnamn eller lösenord.")
    with store.begin() as conn:
        second = totp.state(conn, row.id)
        if second is None or not second.confirmed:
            method = "password"
        elif not code:
            raise TotpRequiredError("Skriv den sexsiffriga koden från din autentiseringsapp.")
        elif totp.check(conn, row.id, code, now.timestamp()):
            method = "password+totp"
        else:
            method = ""
    if not method:
        with store.begin() as conn:
            audit_trail.record(conn, row.username, "staff.login_failed", row.id, {"reason": "totp"}, now)
        raise UnauthorisedError(
            "Koden stämmer inte. Skriv den kod som appen visar just nu (varje kod gäller en gång)."
        )
    with store.begin() as conn:
        session = open_session(conn, user_from_row(row), method, now)
        staff_accounts.rehash_if_needed(conn, row.id, row.password_hash, password)
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
    expires_at = aware(row.expires_at)
    if expires_at <= now:
        return None
    return Session(session_id, row.csrf_token, expires_at, user_from_row(row), row.method or "password")


def set_cookie(response: Response, session: Session, secure: bool) -> None:
    """Give the browser the session: HttpOnly, SameSite=Strict, for the whole site."""
    response.set_cookie(
        SESSION_COOKIE, session.id, max_age=int(SESSION_TTL.total_seconds()),
        httponly=True, samesite="strict", secure=secure, path="/",
    )


def logout(store: Store, session: Session) -> None:
    with store.begin() as conn:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.id_hash == hash_session_id(session.id)))
        audit_trail.record(conn, session.user.username, "staff.logout", session.user.id)


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


async def require_login(request: Request) -> StaffUser:
    """A FastAPI dependency: the logged-in StaffUser, also while the account's second factor
    still has to be enrolled (only for /me, logging out and the account's own page)."""
    return (await current_session(request)).user


def require_staff(*roles: str) -> Callable[[Request], Awaitable[StaffUser]]:
    """A FastAPI dependency: the logged-in StaffUser with one of ``roles`` (admin always passes),
    whose session has given the second factor the role requires."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"Unknown role(s) {unknown}. Roles: {', '.join(ROLES)}.")

    async def dependency(request: Request) -> StaffUser:
        session = await current_session(request)
        if session.needs_totp:
            raise ForbiddenError(
                f"Ditt konto har rollen '{session.user.role}' och kräver tvåstegsverifiering. "
                "Aktivera den under Mitt konto först."
            )
        if not session.user.has_role(*roles):
            raise ForbiddenError(
                f"Ditt konto har rollen '{session.user.role}'; det här kräver "
                f"{' eller '.join(roles)}."
            )
        return session.user

    return dependency
