"""The job runner: one background task that takes queued change sets one at a time,
validates the staged content, trains a candidate model and runs the release gate.

    validate  python scripts/validate_data.py --nlu-dir <staging>/nlu_data   (state training)
    train     bash scripts/train.sh --root <staging> --finetune --base <live>  (state training)
    gate      scripts/gate.py --model <new> --baseline <live> --extra <file>
                              --safety-net <file> --out <report>             (state testing)

The safety-net file lists the gate's questions that the gateway's safety lexicon catches
(gateway/safety_net.py): an acute message reaches a person when the model or the lexicon
recognises it, and the gate judges that (scripts/gate.py).

Each step is a subprocess (the gateway never imports Rasa); the commands come from the
settings, so tests put small fakes there. The state lives in the database: a gateway that
stops mid-job puts it back in the queue when it starts (``changes.requeue_interrupted``).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.editor import changes
from gateway.safety_net import write_net
from gateway.settings import ROOT, Settings
from gateway.store import Store

logger = logging.getLogger(__name__)
POLL_S = 5.0
TAIL = 1500
PARAPHRASES = ROOT / "tests" / "nlu" / "paraphrases.yml"


@dataclass(frozen=True)
class StepResult:
    ok: bool
    stdout: str
    stderr: str


def staging_dir(settings: Settings, change_id: int) -> Path:
    return settings.var_dir / "staging" / str(change_id)


async def run_step(argv: list[str], timeout_s: float, cwd: Path = ROOT) -> StepResult:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    return StepResult(process.returncode == 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


class JobRunner:
    """Runs queued change sets one at a time (``start`` in the lifespan, ``stop`` after)."""

    def __init__(self, store: Store, settings: Settings,
                 baseline: Callable[[], Awaitable[Path | None]]) -> None:
        self.store = store
        self.settings = settings
        self.baseline = baseline  # the live model's file
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        with self.store.begin() as conn:
            requeued = changes.requeue_interrupted(conn)
        if requeued:
            logger.info("editor jobs: %d interrupted job(s) back in the queue", requeued)
        self.task = asyncio.create_task(self._loop(), name="editor-jobs")

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None

    def poke(self) -> None:
        self.wake.set()

    async def _loop(self) -> None:
        while True:
            change_id = await self.store.run(self._take)
            if change_id is None:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), POLL_S)
                continue
            try:
                await self.run(change_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a job's failure must not stop the runner
                logger.error("editor jobs: change %d failed unexpectedly (%s)", change_id, type(exc).__name__)
                await self.store.run(self._fail, change_id, "Ett oväntat fel i jobbet. Skicka in ändringen igen.")

    def _take(self) -> int | None:
        with self.store.begin() as conn:
            change_id = changes.next_queued(conn)
            if change_id is not None and changes.move(conn, change_id, ("queued",), "training", reason=None):
                return int(change_id)
        return None

    def _fail(self, change_id: int, reason: str, figures: dict[str, object] | None = None) -> None:
        """The job ended in ``failed`` with ``reason`` (in words for the editor)."""
        with self.store.begin() as conn:
            changes.move(conn, change_id, changes.RUNNING, "failed", reason=reason[-TAIL:], figures=figures)

    def _move(self, change_id: int, state: str, **values: object) -> bool:
        with self.store.begin() as conn:
            return changes.move(conn, change_id, changes.RUNNING, state, **values)

    async def run(self, change_id: int) -> None:
        staging = staging_dir(self.settings, change_id)
        timeout = self.settings.editor_job_timeout_s
        logger.info("editor jobs: change %d: validate", change_id)
        validated = await run_step(
            [sys.executable, str(ROOT / "scripts" / "validate_data.py"), "--nlu-dir", str(staging / "nlu_data"),
             "--paraphrases", str(PARAPHRASES)], timeout)
        if not validated.ok:
            errors = [line for line in validated.stdout.splitlines() if line.startswith("FEL:")]
            await self.store.run(self._fail, change_id, "Innehållet klarar inte kontrollen: " +
                                 ("\n".join(errors) or validated.stderr))
            return
        # The fast path first (issue 14): finetune the live model on the changed examples;
        # train.sh trains fully when Rasa refuses (a new topic, a changed answer or config).
        # A finetuned model the gate refuses is not the last word: a full training of the
        # same content is gated again (finetuning can lose what a full training keeps, e.g.
        # an acute paraphrase), and only its verdict fails the change set.
        live = await self.baseline()
        fast = ["--finetune", "--base", str(live)] if live is not None and live.is_file() else []
        attempts = [fast, []] if fast else [[]]
        for attempt, options in enumerate(attempts, start=1):
            last = attempt == len(attempts)
            outcome = await self._train_and_gate(change_id, staging, timeout, options, final=last)
            if outcome is None:
                return  # failed (recorded) or moved elsewhere meanwhile
            passed, figures = outcome
            if passed:
                break
            logger.info("editor jobs: change %d: the finetuned model failed the gate; training fully", change_id)
            if not await self.store.run(lambda: self._move(change_id, "training")):
                return
        await self.store.run(lambda: self._move(change_id, "ready", figures=figures or {}))
        logger.info("editor jobs: change %d: ready", change_id)

    async def _train_and_gate(self, change_id: int, staging: Path, timeout: float, options: list[str],
                              final: bool) -> tuple[bool, dict[str, object] | None] | None:
        """Train the staged content (``options``: the fast path or none) and gate the model:
        (passed, figures); None when the change set failed (recorded) or moved elsewhere.
        A refusal by the gate fails the change set only when ``final``."""
        logger.info("editor jobs: change %d: train", change_id)
        trained = await run_step([*self.settings.editor_train_command, "--root", str(staging), *options], timeout)
        lines = trained.stdout.strip().splitlines()
        if not trained.ok or not lines:
            await self.store.run(self._fail, change_id, "Träningen misslyckades: " + trained.stderr[-TAIL:])
            return None
        model = Path(lines[-1])
        model = model if model.is_absolute() else ROOT / model
        baseline = await self.baseline()
        extra = staging / "extra_questions.yml"
        with self.store.connect() as conn:
            assigned = changes.assigned_examples(conn, also=change_id)
        extra.write_text(yaml.safe_dump(
            [{"text": text, "intent": topic, "lang": lang} for topic, lang, text in assigned],
            allow_unicode=True, sort_keys=False), encoding="utf-8")
        net = staging / "safety_net.yml"
        write_net([PARAPHRASES, extra], net)
        if not await self.store.run(lambda: self._move(change_id, "testing", model_file=str(model))):
            return None  # moved elsewhere meanwhile
        logger.info("editor jobs: change %d: gate", change_id)
        report = staging / "gate.json"
        report.unlink(missing_ok=True)
        gated = await run_step([*self.settings.editor_gate_command, "--model", str(model),
                                "--baseline", str(baseline or model), "--extra", str(extra),
                                "--safety-net", str(net),
                                self.settings.editor_gate_report_option, str(report)], timeout)
        figures: dict[str, object] | None = None
        if report.exists():
            with contextlib.suppress(ValueError):
                loaded = json.loads(report.read_text(encoding="utf-8"))
                figures = loaded if isinstance(loaded, dict) else {"report": loaded}
        if gated.ok:
            return True, figures
        if not final:
            return False, figures
        reasons = (figures or {}).get("reasons")
        why = ("; ".join(map(str, reasons)) if isinstance(reasons, list) and reasons else None) \
            or (figures or {}).get("reason") or gated.stderr[-TAIL:] or gated.stdout[-TAIL:]
        await self.store.run(self._fail, change_id, f"Släppkontrollen godkände inte modellen: {why}", figures)
        return None
