"""scripts/train.sh --finetune falls back to a full training when Rasa refuses to finetune.

Rasa can only finetune a model on data with the same labels. An editor who adds a topic
changes the labels, so the fast path must train a full model instead, and that model must
know the new topic. This test copies the model inputs into a temporary directory, adds a
topic, makes the current model of this repository the one to finetune, and runs the real
script. To keep the test near 5 minutes the copy trains 10 instead of 40 epochs: Rasa ignores
the epochs when it decides whether it can finetune, so the refusal is about the new topic.

Needs a trained model: $KARLSTAD_MODEL or var/models/current.tar.gz (skipped without one).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEST_EPOCHS = 10

NEW_TOPIC = """version: "3.1"
nlu:
- intent: faq/hundar_testamne
  examples: |
    - måste jag registrera min hund
    - var finns det hundrastgårdar i karlstad
    - får hunden springa lös i stadsparken
    - hundrastgård nära Kronoparken
    - koppeltvång för hundar i Karlstad
    - var får man bada med hund
    - hundbad vid Skutberget
    - måste hunden vara kopplad på Sandgrundsudden
    - hundlatrin var slänger jag hundbajs
    - hundpåsar i parkerna
    - var får min hund vara lös
    - hundrastgårdar öppettider
- intent: faq/hundar_testamne
  metadata:
    language: en
  examples: |
    - where can my dog run off the lead in Karlstad
    - dog parks in Karlstad
    - do dogs have to be on a leash in the city park
    - where can I swim with my dog
    - dog waste bins in the parks
    - fenced dog park near Kronoparken
responses:
  utter_faq/hundar_testamne:
  - text: "Hundrastgårdar och regler för hundar står på karlstad.se."
  - text: "Dog parks and the rules for dogs are on karlstad.se."
    condition:
      - type: slot
        name: language
        value: en
"""


def current_model() -> Path:
    env = os.environ.get("KARLSTAD_MODEL")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT / "var" / "models" / "current.tar.gz")
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    pytest.skip("No trained model to finetune: set KARLSTAD_MODEL or run scripts/train.sh.")


def test_a_new_topic_makes_finetuning_fall_back_to_a_full_training(tmp_path: Path) -> None:
    model = current_model()
    for name in ("config.yml", "bot", "nlu_data"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, tmp_path / name)
    config = yaml.safe_load((tmp_path / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if "epochs" in component:
            component["epochs"] = TEST_EPOCHS
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    (tmp_path / "scripts").mkdir()
    for name in ("train.sh", "data_hash.py"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / ".venv-rasa").symlink_to((ROOT / ".venv-rasa").resolve())
    models = tmp_path / "var" / "models"
    models.mkdir(parents=True)
    (models / model.name).symlink_to(model)
    (models / "current.tar.gz").symlink_to(model.name)
    (tmp_path / "nlu_data" / "hundar_testamne.yml").write_text(NEW_TOPIC, encoding="utf-8")

    done = subprocess.run(["bash", "scripts/train.sh", "--finetune"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    print(done.stderr[-600:])  # what train.sh said, with its timings (pytest -s)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Finetuning" in done.stderr and "training fully instead" in done.stderr, done.stderr
    assert "Cannot finetune" in done.stderr, done.stderr  # Rasa's own reason is passed on
    trained = tmp_path / done.stdout.strip().splitlines()[-1]
    assert trained.name.endswith(".tar.gz") and ".finetuned" not in trained.name
    assert trained.exists()
    assert (models / "current.tar.gz").resolve() == trained.resolve()

    from rasa.core.agent import Agent

    agent = Agent.load(str(trained))

    async def top_keys(texts: list[str]) -> list[str | None]:
        keys = []
        for text in texts:
            parse = await agent.parse_message(text)
            ranking = ((parse.get("response_selector") or {}).get("default") or {}).get("ranking") or []
            keys.append(ranking[0]["intent_response_key"] if ranking else None)
        return keys

    texts = ["var finns det hundrastgårdar i karlstad", "dog parks in Karlstad",
             "hur söker jag bygglov för ett uterum"]
    assert asyncio.run(top_keys(texts)) == ["faq/hundar_testamne", "faq/hundar_testamne", "faq/bygglov"]
