"""Settings of bot/components/topic_selector.py (LinearTopicSelector) measured offline.

    PYTHONPATH=. .venv-rasa/bin/python scripts/topic_selector_sweep.py MODEL '{"C": 1000}' ...

MODEL must be a model trained with LinearTopicSelector in its pipeline (config.yml with the
ResponseSelector replaced, docs/nlu-eval.md "A linear topic selector instead of the
ResponseSelector"). The script parses every training example and every message of the dev
sets and the paraphrases once, keeps what the selector sees (DIET's intent and ranking, the
sentence features), then for each JSON setting (keyword arguments of scikit-learn's
LogisticRegression) fits the selector on the training examples and scores the dev sets and
the paraphrases as the assistant acts on them (TopicAmbiguityDetector, FallbackClassifier,
scripts/evaluate.py:effective_prediction). tests/nlu/independent/test*.yml is never read.
"""
from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from evaluate import effective_prediction  # noqa: E402
from nlu_scoring import (  # noqa: E402
    independent_figures,
    load_agent,
    load_independent,
    load_paraphrases,
    paraphrase_figures,
)
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import bot.components.topic_selector as ts  # noqa: E402
from bot.components.topic_ambiguity import TopicAmbiguityDetector  # noqa: E402

CAPTURED: dict[str, tuple[Any, Any, Any]] = {}


def _capture(model: Path, texts: list[str]) -> None:
    original = ts.LinearTopicSelector.process

    def spy(self: Any, messages: list[Message]) -> list[Message]:
        for m in messages:
            CAPTURED[m.get("text")] = (ts.sentence_features(m), copy.deepcopy(m.get("intent")),
                                       copy.deepcopy(m.get("intent_ranking")))
        return original(self, messages)

    ts.LinearTopicSelector.process = spy  # type: ignore[method-assign]
    agent = load_agent(model)

    async def parse() -> None:
        for text in texts:
            await agent.parse_message(text)

    asyncio.run(parse())
    ts.LinearTopicSelector.process = original  # type: ignore[method-assign]


def _score(model: LogisticRegression, items: list[dict[str, str]], config: dict[str, Any]) -> list[dict[str, Any]]:
    ambiguity = TopicAmbiguityDetector({"confident": 0.80, "margin": 0.25})
    fallback = FallbackClassifier({**FallbackClassifier.get_default_config(), **config})
    rows = []
    for item in items:
        row, intent, ranking = CAPTURED[item["text"]]
        m = Message(data={"text": item["text"], "intent": copy.deepcopy(intent),
                          "intent_ranking": copy.deepcopy(ranking)})
        if row is not None and row.nnz:
            p = model.predict_proba(row)[0]
            order = np.argsort(-p)[:10]
            top = [{"confidence": float(p[i]), "intent_response_key": str(model.classes_[i])} for i in order]
            m.set("response_selector", {"default": {"response": dict(top[0]), "ranking": top}})
        ambiguity.process([m])
        fallback.process([m])
        parse = {"intent": m.get("intent"), "intent_ranking": m.get("intent_ranking"),
                 "response_selector": m.get("response_selector") or {}}
        rows.append({"text": item["text"], "gold": item["intent"], "lang": item["lang"],
                     **effective_prediction(parse)})
    return rows


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    model_path = Path(argv[0])
    sets = {"dev": load_independent(ROOT / "tests/nlu/independent/dev.yml"),
            "dev2": load_independent(ROOT / "tests/nlu/independent/dev2.yml"),
            "paraphrases": load_paraphrases()}
    examples = []
    for path in sorted((ROOT / "nlu_data").glob("*.yml")):
        data = load_data(str(path))
        examples += [(e.get("text"), e.get("intent_response_key")) for e in data.training_examples
                     if "/" in str(e.get("intent_response_key") or "")]
    started = time.perf_counter()
    _capture(model_path, sorted({t for t, _ in examples} | {i["text"] for s in sets.values() for i in s}))
    print(f"parsed {len(CAPTURED)} messages in {time.perf_counter() - started:.0f} s")
    x = scipy.sparse.vstack([CAPTURED[t][0] for t, _ in examples]).tocsr()
    y = [k for _, k in examples]
    fallback = {"threshold": 0.45, "ambiguity_threshold": 0.05}
    for spec in argv[1:]:
        settings = json.loads(spec)
        started = time.perf_counter()
        model = LogisticRegression(max_iter=2000, random_state=42, **settings).fit(x, y)
        line = [f"{spec}: fit {time.perf_counter() - started:.0f} s"]
        for name in ("dev", "dev2"):
            f = independent_figures(_score(model, sets[name], fallback))
            per = f["per_language"]
            line.append(f"{name} FAQ sv {per['sv']['faq_topic_accuracy']:.2%} en {per['en']['faq_topic_accuracy']:.2%}"
                        f" acute {f['acute_handed_off']:.1%} plain handed off {f['plain_questions_handed_off']:.2%}")
        p = paraphrase_figures(_score(model, sets["paraphrases"], fallback), str(model_path))
        line.append(f"paraphrases FAQ {p['faq_topic_accuracy']:.2%} acute {p['acute_sensitive_recall']:.1%}"
                    f" handed off {p['faq_false_handoff_rate']:.2%} asked {p['faq_did_you_mean_rate']:.2%}")
        print(" | ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
