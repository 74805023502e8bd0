"""``python -m gateway.cli staff-user [ACTION] ...``: staff accounts from the command line.

Actions (``create`` when none is named, so ``staff-user --username anna ...`` still works):

- ``create``: a new account; ``--no-password`` for one that logs in only with single sign-on,
  ``--totp`` to put a second factor in force at once and print its secret for the person.
- ``deactivate`` / ``activate``: deactivating ends every session of the account at once.
- ``set-password``: a new password (a forgotten one); the account's sessions end.
- ``totp-reset``: remove the second factor (a lost phone); the account's sessions end.
- ``list``: every account with role, state, second factor and single sign-on link.

Each change is in the audit trail with the actor ``cli``. Exit code 0 on success, 2 with a
message on standard error otherwise.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from gateway import staff_lifecycle
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.staff_accounts import ROLES, StaffAccountError, create_user
from gateway.store import Store

ACTIONS = ("create", "deactivate", "activate", "set-password", "totp-reset", "list")


def _store() -> Store:
    settings = Settings()  # fields come from the environment
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url)
    store.create_all()
    return store


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Lösenord (minst 12 tecken): ")
    if getpass.getpass("Upprepa lösenordet: ") != password:
        raise StaffAccountError("The passwords differ. Nothing was changed.")
    return password


def _create(store: Store, args: argparse.Namespace) -> str:
    interactive = sys.stdin.isatty() and not args.password_stdin

    def ask(option: str, prompt: str, default: str | None = None) -> str:
        if not interactive:
            if default:
                return default
            raise StaffAccountError(f"{option} is missing; pass it on the command line.")
        return input(prompt).strip() or (default or "")

    username = args.username or ask("--username", "Användarnamn: ")
    display_name = args.display_name or ask("--display-name", f"Visningsnamn [{username}]: ", username)
    role = args.role or ask("--role", "Roll (staff/auditor/editor/publisher/admin) [staff]: ", "staff")
    password = None if args.no_password else _read_password(args)
    user = create_user(store, username, display_name, role, password)
    lines = [f"Created {user.role} account '{user.username}' ({user.display_name})."]
    if args.no_password:
        lines.append("It has no password: it logs in with single sign-on only.")
    if args.totp:
        enrolment = staff_lifecycle.enrol_totp_now(store, user.username, "cli")
        lines += [f"TOTP secret: {enrolment.secret}", f"otpauth URI: {enrolment.uri}",
                  "Give the secret to the person in person; it is not shown again."]
    return "\n".join(lines)


def _deactivate(store: Store, args: argparse.Namespace) -> str:
    user, ended = staff_lifecycle.set_active(store, _username(args), False, "cli")
    return f"Deactivated '{user.username}'; {ended} session(s) ended."


def _activate(store: Store, args: argparse.Namespace) -> str:
    user, _ = staff_lifecycle.set_active(store, _username(args), True, "cli")
    return f"Activated '{user.username}'."


def _set_password(store: Store, args: argparse.Namespace) -> str:
    user = staff_lifecycle.set_password(store, _username(args), _read_password(args), "cli")
    return f"New password set for '{user.username}'; its sessions have ended."


def _totp_reset(store: Store, args: argparse.Namespace) -> str:
    user, ended = staff_lifecycle.reset_totp(store, _username(args), "cli")
    return f"Second factor removed for '{user.username}'; {ended} session(s) ended."


def _list(store: Store, _: argparse.Namespace) -> str:
    rows = [f"{'username':<24} {'role':<10} {'active':<6} {'totp':<5} {'sso':<5} display name"]
    for a in staff_lifecycle.accounts(store):
        rows.append(f"{a.username:<24} {a.role:<10} {'yes' if a.active else 'no':<6} "
                    f"{'yes' if a.totp else 'no':<5} {'yes' if a.sso else 'no':<5} {a.display_name}")
    return "\n".join(rows)


def _username(args: argparse.Namespace) -> str:
    if not args.username:
        raise StaffAccountError("--username is missing; pass it on the command line.")
    return str(args.username)


RUN: dict[str, Callable[[Store, argparse.Namespace], str]] = {
    "create": _create, "deactivate": _deactivate, "activate": _activate,
    "set-password": _set_password, "totp-reset": _totp_reset, "list": _list,
}


def staff_user(argv: list[str]) -> int:
    """``python -m gateway.cli staff-user [create|deactivate|activate|set-password|totp-reset|list]``."""
    action = argv[0] if argv and argv[0] in ACTIONS else "create"
    rest = argv[1:] if argv and argv[0] in ACTIONS else argv
    parser = argparse.ArgumentParser(
        prog=f"python -m gateway.cli staff-user {action}",
        description="Create, deactivate, activate or list staff accounts; set a password; reset TOTP.")
    parser.add_argument("--username")
    if action == "create":
        parser.add_argument("--display-name")
        parser.add_argument("--role", choices=ROLES)
        parser.add_argument("--no-password", action="store_true",
                            help="no password: the account logs in with single sign-on only")
        parser.add_argument("--totp", action="store_true",
                            help="put a second factor (TOTP) in force now and print its secret")
    if action in ("create", "set-password"):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
    args = parser.parse_args(rest)
    try:
        store = _store()
        try:
            print(RUN[action](store, args))
        finally:
            store.dispose()
    except (GatewayError, EOFError) as exc:
        message = exc.message if isinstance(exc, GatewayError) else "input ended"
        print(f"staff-user {action}: {message}", file=sys.stderr)
        return 2
    return 0
