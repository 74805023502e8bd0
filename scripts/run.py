"""``make run``: start Rasa, the action server and the gateway, keep them running, stop all on Ctrl-C.

A service that crashes is started again with back-off (scripts/stack.py ``Supervisor``);
the gateway stays up meanwhile and tells citizens the assistant is briefly unavailable.

On a fresh clone (no full model of the content on disk yet) ``make run`` has trained a short
first model (scripts/train.sh --first-start): it is served at once, the full model trains in
the background at low priority, and when it is done it is registered and made live
(``python -m gateway.cli release register --activate``); Rasa pulls it without a restart,
as after an editor's publish.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.data_hash import training_data_hash  # noqa: E402
from scripts.stack import APP_PYTHON, ROOT, Stack, StackError, main_model  # noqa: E402

MODELS = ROOT / "var" / "models"


def choose_model() -> tuple[Path, Path | None]:
    """The model to serve and, when it is a first-start model, the full model still to train."""
    data_hash = training_data_hash(ROOT)
    full = MODELS / f"model-{data_hash}.tar.gz"
    first = MODELS / f"model-{data_hash}.first.tar.gz"
    if full.is_file():
        return full, None
    if first.is_file():
        return first, full
    return main_model(), None


class FullTraining:
    """scripts/train.sh in the background (nice 10, so citizens' turns keep the CPU they
    need); when it has trained ``full``, the model is registered and made live, and a
    service the supervisor restarts later starts with it."""

    def __init__(self, stack: Stack, full: Path, train_args: tuple[str, ...] = ()) -> None:
        self.stack = stack
        self.full = full
        self.log = (stack.log_dir or ROOT / "var" / "logs") / "train-full.log"
        self.started = time.monotonic()
        self.live_release: int | None = None
        with open(self.log, "ab") as out:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["nice", "-n", "10", "bash", str(ROOT / "scripts" / "train.sh"), *train_args],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc is not None

    def poll(self) -> None:
        if self.proc is None or self.proc.poll() is None:
            return
        code, self.proc = self.proc.returncode, None
        took = time.monotonic() - self.started
        if code != 0 or not self.full.is_file():
            print(f"{time.strftime('%H:%M:%S')} The full training failed (exit {code}; see {self.log}); "
                  "the first-start model keeps answering.", file=sys.stderr, flush=True)
            return
        done = subprocess.run(
            [str(APP_PYTHON), "-m", "gateway.cli", "release", "register", "--activate", str(self.full)],
            cwd=ROOT, env=self.stack.gateway_env(), capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{time.strftime('%H:%M:%S')} The full model could not be made live: "
                  f"{done.stderr.strip() or done.stdout.strip()}", file=sys.stderr, flush=True)
            return
        self.stack.model = self.full
        release = re.search(r"Release (\d+)", done.stdout)
        self.live_release = int(release.group(1)) if release else None
        print(f"{time.strftime('%H:%M:%S')} The full model is trained ({took:.0f} s) and live"
              f"{f' as release {release.group(1)}' if release else ''}; Rasa loads it within seconds, "
              "without a restart.", flush=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
            print("The full training was stopped; the next `make run` starts it again.")


def _last_seconds(name: str, default: str) -> str:
    try:
        return (MODELS / name).read_text().strip()
    except OSError:
        return default


def _report(name: str, event: str, detail: str) -> None:
    labels = {"exited": "stopped unexpectedly", "restarted": "started again", "gave_up": "could not be restarted"}
    print(f"{time.strftime('%H:%M:%S')} {name} {labels.get(event, event)} ({detail})", flush=True)


def main() -> int:
    model, full = choose_model()
    stack = Stack(
        model=model,
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
    training = None
    if full is not None:
        training = FullTraining(stack, full)
        last = _last_seconds(".last-train-seconds", "")
        took = f"the last one took {last} s" if last else "on 2 cores 10-20 min"
        print(f"Answering with a short first-start model ({model.name}). The full model is training in "
              f"the background ({took}; {training.log}) and replaces it without a restart.")
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
            if training is not None:
                training.poll()
            time.sleep(0.5)
    finally:
        print("Stopping...")
        if training is not None:
            training.stop()
        stack.stop()
        print("Stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())
