"""Operator commands: ``python -m gateway.cli staff-user | purge | audit-verify | release``.

``staff-user`` (create an account) is defined here; ``purge`` lives with the retention job
(``gateway.retention.cli_purge``) and ``audit-verify`` with the chain check
(``gateway.basis_queries.chains.cli_verify``); this module dispatches to them.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable

from gateway import retention
from gateway.basis_queries import cli_verify
from gateway.errors import GatewayError
from gateway.releases import cli_release
from gateway.settings import Settings
from gateway.staff_accounts import ROLES, StaffAccountError, create_user
from gateway.store import Store


def create_staff_user(argv: list[str]) -> int:
    """``python -m gateway.cli staff-user [--username ...] [--password-stdin]``."""
    parser = argparse.ArgumentParser(prog="python -m gateway.cli staff-user",
                                     description="Create a staff, auditor, editor, publisher or admin account.")
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
        role = args.role or ask("--role", "Roll (staff/auditor/editor/publisher/admin) [staff]: ", "staff")
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


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "staff-user": (create_staff_user, "create a staff/auditor/editor/publisher account"),
    "purge": (retention.cli_purge, "purge conversations past the retention period"),
    "audit-verify": (cli_verify, "check every basis-record hash chain"),
    "release": (cli_release, "list, register, activate or roll back model releases"),
}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m gateway.cli")
    parser.add_argument("command", choices=sorted(COMMANDS), help="what to do")
    args, rest = parser.parse_known_args(argv)
    command, _ = COMMANDS[args.command]
    return command(rest)


if __name__ == "__main__":
    sys.exit(main())
