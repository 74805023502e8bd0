"""Staff single sign-on: a person logged in at the municipality's OpenID Connect provider
gets a console session for *their existing staff account*.

The rule (what a municipality expects; docs/staff.md says it in Swedish):

- The provider proves who the person is. Whether they may use the console, with which role,
  and whether the account is active is decided here, by an administrator (``staff-user``,
  the admin API): nobody gets an account just by being in the municipality's directory.
- The first login finds the account by a claim (``oidc_username_claim``, default ``email``):
  ``anna.andersson@karlstad.se`` names the account ``anna.andersson`` when the domain is
  ``oidc_email_domain``; a bare value names the account as it is. An e-mail the provider marks
  unverified (``email_verified: false``) names nobody. That login links the provider's
  stable subject (``iss`` + ``sub``) to the account; later logins go by the link, so a
  renamed e-mail address keeps its account and a re-used address cannot take over another's.
- Refused, with a clear Swedish message on the console's login page: no such account, a
  deactivated account, an account linked to another subject, a login that expired or was
  begun in another browser, and a provider that cannot be reached or sends what fails checks.
- The provider is responsible for the second factor of these logins (the municipality's MFA);
  the session's method is ``oidc``, which satisfies the admin and publisher requirement.

A login in progress is a row in ``sso_logins`` (the hash of its ``state``, its nonce and PKCE
verifier, ten minutes to live) and a cookie with the state in the browser that began it; the
callback must bring both, and uses the row up.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from gateway import audit_trail, staff_accounts
from gateway.oidc import OidcClient, OidcError, Started
from gateway.settings import Settings
from gateway.staff_accounts import USERNAME, user_from_row
from gateway.staff_sessions import Session, open_session
from gateway.store import Store, aware, sso_logins, staff_identities, staff_users, utcnow

logger = logging.getLogger(__name__)

SSO_COOKIE = "staff_sso"
PENDING_TTL = timedelta(minutes=10)

# Why a single sign-on login was refused: the code goes to the console (/staff?sso=<code>),
# which shows the message (it reads them from /staff/api/login-options).
MESSAGES = {
    "no_account": "Du är inloggad hos kommunen men har inget konto i chattens personalgränssnitt. "
                  "Be din chef eller en administratör om ett konto.",
    "deactivated": "Ditt konto i chattens personalgränssnitt är inaktiverat. Kontakta en administratör.",
    "other_identity": "Kontot är redan kopplat till en annan inloggning hos kommunen. Kontakta en administratör.",
    "expired": "Inloggningen tog för lång tid eller startades i en annan webbläsare. Försök igen.",
    "cancelled": "Inloggningen avbröts.",
    "unavailable": "Kommunens inloggning svarar inte just nu. Försök igen om en stund.",
    "invalid": "Inloggningen kunde inte slutföras. Försök igen; kvarstår felet, kontakta IT.",
    "off": "Inloggning med kommunens konto är inte påslagen här.",
}


class SsoRefusedError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


async def begin(store: Store, client: OidcClient, now: datetime | None = None) -> Started:
    """Start a login: remember its state, nonce and verifier; return where to send the browser."""
    try:
        started = await client.start()
    except OidcError as exc:
        raise SsoRefusedError(exc.reason) from None
    now = now or utcnow()

    def remember() -> None:
        with store.begin() as conn:
            conn.execute(delete(sso_logins).where(sso_logins.c.expires_at < now))
            conn.execute(insert(sso_logins).values(
                state_hash=_hash(started.state), nonce=started.nonce,
                code_verifier=started.code_verifier, expires_at=now + PENDING_TTL))

    await store.run(remember)
    return started


@dataclass(frozen=True)
class _Pending:
    nonce: str
    code_verifier: str


def _take_pending(store: Store, state: str, now: datetime) -> _Pending | None:
    """The login begun with ``state``, used up (a second callback with it finds nothing)."""
    with store.begin() as conn:
        row = conn.execute(select(sso_logins).where(sso_logins.c.state_hash == _hash(state))).first()
        if row is None:
            return None
        taken = conn.execute(delete(sso_logins).where(sso_logins.c.state_hash == _hash(state))).rowcount
    if not taken or aware(row.expires_at) <= now:
        return None
    return _Pending(row.nonce, row.code_verifier)


async def complete(store: Store, client: OidcClient, settings: Settings, *, state: str,
                   cookie_state: str | None, code: str, now: datetime | None = None) -> Session:
    """Finish a login at the callback: the console session, or :class:`SsoRefusedError`."""
    now = now or utcnow()
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
        raise SsoRefusedError("expired")
    pending = await store.run(_take_pending, store, state, now)
    if pending is None:
        raise SsoRefusedError("expired")
    try:
        claims = await client.finish(code, pending.nonce, pending.code_verifier)
    except OidcError as exc:
        raise SsoRefusedError(exc.reason) from None
    return await store.run(session_for, store, settings, client.issuer, claims, now)


def username_from(claims: dict[str, Any], settings: Settings) -> str | None:
    """The account the claims name on a first login (see the module's rule), or None."""
    claim = settings.oidc_username_claim
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        return None
    if claim == "email" and claims.get("email_verified") is False:
        return None
    name = staff_accounts.normalise_username(value)
    if "@" in name:
        local, _, domain = name.rpartition("@")
        if domain != (settings.oidc_email_domain or settings.editor_email_domain).strip().lower():
            return None
        name = local
    return name if USERNAME.match(name) else None


def _account_for(conn: Connection, settings: Settings, issuer: str, claims: dict[str, Any],
                 now: datetime) -> tuple[Any, str]:
    """(the account's row or None, the refusal reason or "")."""
    subject = str(claims["sub"])
    linked = conn.execute(select(staff_identities.c.user_id).where(
        staff_identities.c.issuer == issuer, staff_identities.c.subject == subject)).scalar()
    if linked is not None:
        row = conn.execute(select(staff_users).where(staff_users.c.id == linked)).first()
        return row, "" if row is not None else "no_account"
    username = username_from(claims, settings)
    row = None
    if username is not None:
        row = conn.execute(select(staff_users).where(staff_users.c.username == username)).first()
    if row is None:
        return None, "no_account"
    other = conn.execute(select(staff_identities.c.subject).where(
        staff_identities.c.issuer == issuer, staff_identities.c.user_id == row.id)).scalar()
    if other is not None:
        return row, "other_identity"
    conn.execute(insert(staff_identities).values(issuer=issuer, subject=subject, user_id=row.id, created_at=now))
    audit_trail.record(conn, row.username, "staff.sso_linked", row.id, {"issuer": issuer}, now)
    return row, ""


def session_for(store: Store, settings: Settings, issuer: str, claims: dict[str, Any],
                now: datetime) -> Session:
    with store.begin() as conn:
        row, reason = _account_for(conn, settings, issuer, claims, now)
        if not reason and not row.active:
            reason = "deactivated"
        if not reason:
            return open_session(conn, user_from_row(row), "oidc", now, {"issuer": issuer})
    with store.begin() as conn:
        actor = row.username if row is not None else audit_trail.unknown_user_marker(store, str(claims["sub"]))
        audit_trail.record(conn, actor, "staff.login_failed", row.id if row is not None else None,
                           {"method": "oidc", "reason": reason}, now)
    logger.info("sso: login refused: %s", reason)
    raise SsoRefusedError(reason)
