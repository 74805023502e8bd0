"""Operator commands: ``python -m gateway.cli staff-user | purge | audit-verify | release``.

``staff-user`` (create, deactivate, activate, list accounts; set a password; reset TOTP) lives in
``gateway.staff_cli``; ``purge`` with the retention job (``gateway.retention.cli_purge``) and
``audit-verify`` with the chain check (``gateway.basis_queries.chains.cli_verify``); this
module dispatches to them.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from gateway import retention
from gateway.basis_queries import cli_verify
from gateway.releases import cli_release
from gateway.staff_cli import staff_user

COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "staff-user": (staff_user, "create, deactivate, activate or list staff accounts; password; TOTP reset"),
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
