"""``make bench`` section: from an edited example to the new model served, under load.

With the benchmark's stack running, citizens' Swedish turns run in a loop (two at a time)
while an editor's change is simulated the way the workspace does it: the content is copied,
one example is added to an existing topic, the model is trained from the copy (the fast
path first: ``scripts/train.sh --root COPY --finetune``), registered as a release and made
live. Every Rasa pulls and loads it without a restart. Prints the time from "new data" to
"served" (training, then swap) and the turns that failed meanwhile (must be 0).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from scripts.loadclient import TurnLoop

ROOT = Path(__file__).resolve().parent.parent
NEW_EXAMPLE = "var kan jag lämna tillbaka en ljudbok som jag lånat"
TOPIC_FILE = "nlu_data/bibliotek.yml"


def _copy_with_new_example(target: Path) -> None:
    for name in ("config.yml", "bot", "nlu_data"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    path = target / TOPIC_FILE
    text = path.read_text(encoding="utf-8")
    # the first "examples: |" block of the file gets one more line, indented like the others
    match = re.search(r"examples: \|\n(\s+)- ", text)
    if match is None:
        raise SystemExit(f"{TOPIC_FILE} has no examples block to add to")
    indent = match.group(1)
    text = text[: match.end(1) - len(indent)] + f"{indent}- {NEW_EXAMPLE}\n" + text[match.end(1) - len(indent):]
    path.write_text(text, encoding="utf-8")


def _rasa_model(url: str) -> str | None:
    try:
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return None
    return (ready.get("checks", {}).get("rasa") or {}).get("model_id")


def swap_under_load(stack: object) -> dict[str, object]:
    """Runs the section against a started :class:`scripts.stack.Stack`; returns its figures."""
    from gateway.releases import ReleaseRegistry
    from gateway.store import Store

    gateway_url: str = stack.gateway_url  # type: ignore[attr-defined]
    var_dir: Path = stack.var_dir  # type: ignore[attr-defined]
    fast = "--finetune" in (ROOT / "scripts" / "train.sh").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp, TurnLoop(gateway_url) as load:
        content = Path(tmp)
        time.sleep(2)
        started = time.monotonic()  # "new data"
        _copy_with_new_example(content)
        command = ["bash", "scripts/train.sh", "--root", str(content)] + (["--finetune"] if fast else [])
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"training failed:\n{done.stderr[-2000:]}")
        model = (ROOT / done.stdout.strip().splitlines()[-1]).resolve()
        trained = time.monotonic()
        how = "finetuned" if "finetuned" in model.name else "full training"
        data_hash = model.name.removeprefix("model-").split(".", 1)[0]
        store = Store(f"sqlite:///{var_dir / 'gateway.db'}")
        try:
            registry = ReleaseRegistry(store)
            previous = registry.current_sync()
            release = registry.register_sync(model, data_hash, commit=None, change_set_id=None,
                                             author="bench", publisher="bench", figures={})
            registry.activate_sync(release.id, "bench")
            while _rasa_model(gateway_url) != release.model_id and time.monotonic() - trained < 300:
                time.sleep(0.5)
            served = time.monotonic()
            time.sleep(3)
            if previous is not None:  # leave the stack as it was for later sections
                registry.activate_sync(previous.id, "bench", rollback=True)
        finally:
            store.dispose()
    return {"how": how, "train_s": trained - started, "swap_s": served - trained, "total_s": served - started,
            "turns": load.turns, "failed": load.failed, "served": _rasa_model(gateway_url) is not None}


def print_table(figures: dict[str, object]) -> None:
    print("Example-only change -> new model served, with turns running (target <= 90 s, 0 failed turns)")
    print(f"{'path':>14} | {'train s':>8} {'swap s':>7} {'total s':>8} | {'turns':>6} {'failed':>6}")
    print("-" * 62)
    print(f"{figures['how']!s:>14} | {figures['train_s']:>8.1f} {figures['swap_s']:>7.1f} "
          f"{figures['total_s']:>8.1f} | {figures['turns']!s:>6} {figures['failed']!s:>6}")
