"""Operator commands: ``python -m gateway.cli staff-user | purge | audit-verify``.

Each subcommand lives with the concept it operates on; this module only dispatches.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS = {
    "staff-user": ("gateway.staff_auth", "cli_create_user", "create a staff/auditor account"),
    "purge": ("gateway.retention", "cli_purge", "purge conversations past the retention period"),
    "audit-verify": ("gateway.basis_queries", "cli_verify", "check every basis-record hash chain"),
}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m gateway.cli")
    parser.add_argument("command", choices=sorted(COMMANDS), help="what to do")
    args, rest = parser.parse_known_args(argv)
    module_name, function, _ = COMMANDS[args.command]
    module = importlib.import_module(module_name)
    result: int = getattr(module, function)(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
