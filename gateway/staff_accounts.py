"""Staff accounts: who may use the console and the auditor's API, with which role.

- Passwords are hashed with Argon2id (memory-hard, argon2-cffi defaults); a login with a
  username that is no account is checked against a dummy hash, so both take the same time.
- Usernames are compared in one normal form (:func:`normalise_username`), which the login
  throttle (``gateway.login_throttle``) keys on too.
- The ``admin`` role satisfies every role check.
- An account made for single sign-on only (``create_user(..., password=None)``) has no
  password: its stored hash is :data:`NO_PASSWORD`, which no password matches.

Accounts are created with ``python -m gateway.cli staff-user`` (``gateway.cli``).
"""
from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway import audit_trail
from gateway.auth import new_id
from gateway.errors import ConflictError, GatewayError
from gateway.store import Store, staff_users, utcnow

logger = logging.getLogger(__name__)

ROLES = ("staff", "auditor", "admin", "editor", "publisher")
#: Who may use the editors' workspace (gateway/editor/); only a publisher publishes.
EDITOR_ROLES = ("editor", "publisher")
MIN_PASSWORD = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

NO_PASSWORD = "!sso-only"  # stored instead of a hash: logs in through single sign-on only

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


class AccountRow(Protocol):
    """The columns of a ``staff_users`` row that make a :class:`StaffUser`."""

    id: str
    username: str
    display_name: str
    role: str


def user_from_row(row: AccountRow) -> StaffUser:
    return StaffUser(id=row.id, username=row.username, display_name=row.display_name, role=row.role)


def normalise_username(username: str) -> str:
    """The one form a username is stored, looked up and throttled in: NFKC (fullwidth and
    compatibility characters fold to ASCII), invisible format characters removed, Unicode
    whitespace stripped at both ends, lower case."""
    folded = unicodedata.normalize("NFKC", username)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return visible.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; ``None`` (no such account) and an account
    without a password take as long."""
    usable = password_hash is not None and password_hash != NO_PASSWORD
    try:
        return bool(_hasher.verify(password_hash if password_hash and usable else _DUMMY_HASH, password)) and usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def rehash_if_needed(conn: Connection, user_id: str, password_hash: str, password: str) -> None:
    """Store a new hash after a good login when the hasher's parameters have changed."""
    if _hasher.check_needs_rehash(password_hash):
        conn.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(password_hash=_hasher.hash(password))
        )


def _validate(username: str, display_name: str, role: str, password: str | None) -> None:
    if not USERNAME.match(username):
        raise StaffAccountError(
            f"Username '{username[:64]}' is not allowed. Use 2-64 characters: lower-case a-z, "
            "digits, '.', '_' or '-', starting with a letter or digit."
        )
    if not display_name.strip() or len(display_name) > 128:
        raise StaffAccountError("Display name must be 1-128 characters, e.g. 'Anna på Kontaktcenter'.")
    if role not in ROLES:
        raise StaffAccountError(f"Role '{role}' is not known. Roles: {', '.join(ROLES)}.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise StaffAccountError(
            f"The password is too short ({len(password)} characters). Use at least {MIN_PASSWORD}."
        )


def create_user(store: Store, username: str, display_name: str, role: str, password: str | None) -> StaffUser:
    """Create an active account (``password=None``: single sign-on only); raises
    :class:`StaffAccountError` / ``ConflictError``."""
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
                    password_hash=_hasher.hash(password) if password is not None else NO_PASSWORD,
                    active=True,
                    created_at=utcnow(),
                )
            )
            audit_trail.record(conn, "cli", "staff.user_created", user.id,
                               {"username": username, "role": role, "password": password is not None})
    except IntegrityError as exc:
        raise ConflictError(f"A staff account named '{username}' already exists.") from exc
    logger.info("staff account created: id=%s role=%s", user.id, role)
    return user


def display_name(conn: Connection, user_id: str | None) -> str:
    """The display name of an account, or "en kollega" when there is none."""
    name = conn.execute(select(staff_users.c.display_name).where(staff_users.c.id == user_id)).scalar()
    return str(name or "en kollega")
