"""A newcomer's first `make run`: a short first model answers at once, the full model trains in
the background and takes over without a restart and without a failed turn.

This runs the real pieces `make run` uses: ``scripts/train.sh --first-start`` trains the short
model, ``scripts/stack.py`` serves it, and ``scripts/run.py``'s ``FullTraining`` runs
``scripts/train.sh`` in the background and makes the result live through
``python -m gateway.cli release register --activate``, which Rasa pulls.

To keep the test to a few minutes it trains a copy of the content whose ``config.yml`` has 4
epochs instead of 40 (so neither model of it exists yet, and the "full" training is short):
the same scripts, the same background process and the same swap, on a smaller training.
It is part of ``make test-ops``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.store import Store, basis_records
from scripts.loadclient import TurnLoop
from scripts.run import FullTraining
from scripts.stack import ROOT, Stack, free_port

pytestmark = pytest.mark.e2e

def _staging(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    for name in ("bot", "nlu_data"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if "epochs" in component:
            component["epochs"] = 4
    (root / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def _model_id(archive: Path) -> str:
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if Path(member.name).name == "metadata.json":
                data = tar.extractfile(member)
                assert data is not None
                return str(json.load(data)["model_id"])
    raise AssertionError(f"{archive} has no metadata.json")


def _about(stack: Stack) -> dict[str, Any]:
    return dict(httpx.get(f"{stack.gateway_url}/api/about", timeout=30).json())


def test_first_start_model_answers_then_the_full_model_takes_over_without_a_failed_turn(tmp_path: Path) -> None:
    staging = _staging(tmp_path)
    env = {**os.environ, "FIRST_START_EPOCH_FRACTION": "0.25"}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "train.sh"), "--root", str(staging), "--first-start"],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    first = ROOT / done.stdout.strip().splitlines()[-1]
    assert first.name.endswith(".first.tar.gz") and first.is_file(), done.stdout
    assert "First start: training a short first model" in done.stderr
    full = first.with_name(first.name.replace(".first.tar.gz", ".tar.gz"))
    assert not full.exists(), "the full model of this content must not exist before the test"
    with open(ROOT / "var" / "models" / "first-start-config.yml", encoding="utf-8") as f:
        short = yaml.safe_load(f)
    assert {c["name"]: c["epochs"] for c in short["pipeline"] if "epochs" in c} == {
        "DIETClassifier": 1, "ResponseSelector": 1}  # a quarter of 4, as for 40 -> 10

    var_dir = tmp_path / "var"
    stack = Stack(model=first, var_dir=var_dir, gateway_port=free_port(), rasa_port=free_port(),
                  action_port=free_port(),
                  extra_env={"GATEWAY_ENVIRONMENT": "test", "GATEWAY_OPENING_HOURS": "mon-sun 00:00-23:59",
                             "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000",
                             "GATEWAY_CREATE_RATE_LIMIT_PER_MINUTE": "1000",
                             "GATEWAY_MODELS_DIR": str(var_dir / "no-models")})
    stack.start(timeout=240)
    training: FullTraining | None = None
    try:
        about = _about(stack)
        assert about["models"]["nlu"]["training"] == "first"
        assert "model_first" in {c["id"] for c in about["claims"]}
        page = httpx.get(f"{stack.gateway_url}/om-ai", timeout=30).text
        assert "kort första träning" in page and first.name in page

        # one citizen; whether each reply is the right answer is not counted: the first-start
        # model here has one epoch and often asks back
        with TurnLoop(stack.gateway_url, threads=1, pause=0.5) as load:
            time.sleep(2)
            training = FullTraining(stack, full, train_args=("--root", str(staging)))
            deadline = time.monotonic() + 900
            while training.running and time.monotonic() < deadline:
                training.poll()
                time.sleep(1)
            assert not training.running, "the background training did not finish within 15 min"
            assert full.is_file() and training.live_release is not None, training.log.read_text()[-3000:]
            assert stack.model == full  # a service restarted later starts with the full model
            full_id = _model_id(full)
            waited = time.monotonic()
            while time.monotonic() - waited < 300:
                ready = httpx.get(f"{stack.gateway_url}/readyz", timeout=10).json()
                if (ready["checks"].get("rasa") or {}).get("model_id") == full_id:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError("Rasa did not load the full model within 300 s")
            time.sleep(3)
        assert not load.failures, load.failures[:5]
        assert load.turns > 0

        about = _about(stack)
        assert about["models"]["nlu"]["training"] == "full"
        assert about["models"]["nlu"]["model_file"] == full.name
        assert "model_first" not in {c["id"] for c in about["claims"]}
        store = Store(f"sqlite:///{var_dir / 'gateway.db'}")
        try:
            with store.connect() as conn:
                rows = conn.execute(basis_records.select()).mappings().all()
        finally:
            store.dispose()
        answered_by = {str(r["record"]["release"].get("model_release")) for r in rows
                       if (r["record"].get("nlu") or {}).get("model_id")}
        # turns answered by the first-start release, then by the full one
        assert str(training.live_release) in answered_by and len(answered_by) == 2, answered_by
    finally:
        if training is not None:
            training.stop()
        stack.stop()
        for model in (first, full):
            model.unlink(missing_ok=True)
