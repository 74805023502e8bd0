"""``make run``: start Rasa, the action server and the gateway, keep them running, stop all on Ctrl-C.

A service that crashes is started again with back-off (scripts/stack.py ``Supervisor``);
the gateway stays up meanwhile and tells citizens the assistant is briefly unavailable.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.stack import Stack, StackError, main_model  # noqa: E402


def _report(name: str, event: str, detail: str) -> None:
    labels = {"exited": "stopped unexpectedly", "restarted": "started again", "gave_up": "could not be restarted"}
    print(f"{time.strftime('%H:%M:%S')} {name} {labels.get(event, event)} ({detail})", flush=True)


def main() -> int:
    stack = Stack(
        model=main_model(),
        gateway_port=int(os.environ.get("GATEWAY_PORT", "8000")),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
        on_event=_report,
    )
    print("Starting Rasa, the action server and the gateway (Rasa takes ~20 s to load)...")
    try:
        stack.start(timeout=240)
    except StackError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    url = stack.gateway_url
    print()
    print(f"  Demo page (citizen widget): {url}/")
    print(f"  Staff console:              {url}/staff")
    print(f"  About this AI:              {url}/om-ai")
    print(f"  API docs:                   {url}/api/docs")
    print(f"  Logs:                       {stack.log_dir}")
    print()
    print("A service that crashes is started again; press Ctrl-C to stop all three services.")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    status = 0
    try:
        while not stopping:
            if stack.supervisor is not None and stack.supervisor.gave_up:
                print(f"Giving up: {', '.join(sorted(stack.supervisor.gave_up))} keeps failing; "
                      f"see {stack.log_dir}.", file=sys.stderr)
                status = 1
                break
            time.sleep(0.5)
    finally:
        print("Stopping...")
        stack.stop()
        print("Stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())
