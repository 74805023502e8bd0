"""``make run``: start Rasa, the action server and the gateway; stop all on Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.stack import Stack, StackError, main_model  # noqa: E402


def main() -> int:
    stack = Stack(
        model=main_model(),
        gateway_port=int(os.environ.get("GATEWAY_PORT", "8000")),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
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
    print("Press Ctrl-C to stop all three services.")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for name, proc in stack.processes.items():
                if proc.poll() is not None:
                    print(f"{name} stopped unexpectedly (exit {proc.returncode}); see {stack.log_dir}/{name}.log")
                    stopping = True
            time.sleep(0.5)
    finally:
        print("Stopping...")
        stack.stop()
        print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
