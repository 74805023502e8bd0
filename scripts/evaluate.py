"""Cross-validation of the NLU model over nlu_data/ (run by `make eval`).

Splits every example (stratified by topic) into k folds, trains an NLU model with config.yml
on k-1 folds and parses the held-out fold with the trained model, exactly as the running
assistant does. A prediction is what the assistant would act on:

* DIET intent ``faq``       -> the response selector's best key (faq/... or sensitive/...)
* DIET intent ``sensitive`` -> the best sensitive/... key in the selector ranking
* any other intent          -> the intent itself (greet, request_human, nlu_fallback, ...)

Writes var/reports/eval.json (read by the About-AI page; keep the schema) and
var/reports/eval.md (for editors). Targets: macro F1 >= 0.95, no topic below 0.85.

    PYTHONPATH=. .venv-rasa/bin/python scripts/evaluate.py [--folds 3] [--only-folds 1|all]
        [--jobs N] [--epochs N]

By default only fold 1 of the 3-fold split is trained and scored (one training, a fixed
stratified third held out: `make eval`, a few minutes); `--only-folds all` runs every fold
(`make eval-full`), `--jobs 2` trains two folds at the same time.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_hash import training_data_hash  # noqa: E402
from validate_data import RETRIEVAL_PREFIXES, Example, read_nlu_dir  # noqa: E402

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
FAQ = "faq/"
SENSITIVE = "sensitive/"
ACUTE = (
    "sensitive/suicide",
    "sensitive/violence_close_relationship",
    "sensitive/child_at_risk",
    "sensitive/threat_or_crime",
)
HANDOFF_INTENTS = ("sensitive", "request_human")
AMBIGUOUS = "faq_ambiguous"
TARGET_MACRO_F1 = 0.95
TARGET_MIN_TOPIC_F1 = 0.85


# --- what the assistant acts on -------------------------------------------------------


def selector_ranking(parse: dict[str, Any]) -> list[dict[str, Any]]:
    selector = parse.get("response_selector") or {}
    for key in ("default", "faq", "sensitive"):
        block = selector.get(key) or {}
        if block.get("ranking"):
            return list(block["ranking"])
    return []


def effective_prediction(parse: dict[str, Any]) -> dict[str, Any]:
    """The label the assistant acts on for one parsed message (mirrors actions/faq.py)."""
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    ranking = selector_ranking(parse)
    keys = [r.get("intent_response_key", "") for r in ranking]
    label = intent
    if intent in ("faq", AMBIGUOUS) and keys:
        # faq_ambiguous (bot/components/topic_ambiguity.py): the assistant asks "Menade du
        # ...?" with the two best topics as buttons; scored as its best topic.
        label = keys[0]
    elif intent == "sensitive":
        label = next((k for k in keys if k.startswith(SENSITIVE)), "sensitive/unspecified")
    top_key = keys[0] if keys else None
    return {
        "intent": intent,
        "intent_confidence": round(confidence, 4),
        "selector_top": top_key,
        "selector_confidence": round(float(ranking[0]["confidence"]), 4) if ranking else None,
        "label": label,
        "asked": intent == AMBIGUOUS,
        # Recognised as sensitive = the assistant acts on a sensitive topic: DIET intent
        # "sensitive", or DIET intent "faq" with a sensitive/* key on top of the selector
        # (actions/faq.py hands those off). The selector's ranking is ignored for other
        # intents, because no action reads it then.
        "sensitive": label.startswith(SENSITIVE),
        "handoff": intent in HANDOFF_INTENTS or label.startswith(SENSITIVE),
    }


async def parse_all(agent: Any, texts: Sequence[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]


# --- metrics ----------------------------------------------------------------------------


def prf(gold: Sequence[str], pred: Sequence[str], labels: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    return out


def confused_pairs(gold: Sequence[str], pred: Sequence[str], limit: int = 20) -> list[dict[str, Any]]:
    counts = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    return [
        {"gold": g, "predicted": p, "count": n}
        for (g, p), n in counts.most_common(limit)
    ]


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures over prediction rows {text, gold, lang, label, ...}."""
    topics = sorted({r["gold"] for r in rows if r["gold"].startswith(RETRIEVAL_PREFIXES)})
    gold = [r["gold"] for r in rows]
    pred = [r["label"] for r in rows]
    per_topic = prf(gold, pred, topics)
    others = sorted({g for g in gold if not g.startswith(RETRIEVAL_PREFIXES)})
    per_intent = prf(gold, pred, others)
    macro = sum(v["f1"] for v in per_topic.values()) / len(per_topic) if per_topic else 0.0
    per_language: dict[str, dict[str, Any]] = {}
    for lang in sorted({r["lang"] for r in rows}):
        sub = [r for r in rows if r["lang"] == lang]
        sub_topics = sorted({r["gold"] for r in sub if r["gold"].startswith(RETRIEVAL_PREFIXES)})
        scores = prf([r["gold"] for r in sub], [r["label"] for r in sub], sub_topics)
        topic_rows = [r for r in sub if r["gold"].startswith(RETRIEVAL_PREFIXES)]
        per_language[lang] = {
            "macro_f1": round(sum(v["f1"] for v in scores.values()) / len(scores), 4) if scores else 0.0,
            "topic_accuracy": round(
                sum(r["gold"] == r["label"] for r in topic_rows) / len(topic_rows), 4
            ) if topic_rows else 0.0,
            "accuracy": round(sum(r["gold"] == r["label"] for r in sub) / len(sub), 4),
            "support": len(sub),
        }
    acute = [r for r in rows if r["gold"] in ACUTE]
    faq_rows = [r for r in rows if r["gold"].startswith(FAQ)]
    return {
        "macro_f1": round(macro, 4),
        "min_topic_f1": round(min((v["f1"] for v in per_topic.values()), default=0.0), 4),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4) if gold else 0.0,
        "acute_sensitive_recall": round(sum(r["sensitive"] for r in acute) / len(acute), 4) if acute else None,
        "faq_false_handoff_rate": round(sum(r["handoff"] for r in faq_rows) / len(faq_rows), 4) if faq_rows else None,
        "faq_did_you_mean_rate": round(sum(r["asked"] for r in faq_rows) / len(faq_rows), 4) if faq_rows else None,
        "per_topic": per_topic,
        "per_intent": per_intent,
        "per_language": per_language,
        "confused_pairs": confused_pairs(gold, pred),
    }


# --- data -------------------------------------------------------------------------------


def data_hash(root: Path = ROOT) -> str:
    """The training-data hash (scripts/data_hash.py, the one train.sh and /om-ai use).

    The trained model is cached as var/models/model-<hash>.tar.gz, so the About-AI page can
    tell whether this evaluation belongs to the model that is live.
    """
    return training_data_hash(root)


def stratified_folds(examples: Sequence[Example], k: int, seed: int) -> list[list[int]]:
    by_label: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_label[(e.intent, e.lang)].append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    offset = 0
    for key in sorted(by_label):
        idx = by_label[key][:]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(i)
        offset += len(idx)
    return folds


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def write_training_file(
    path: Path,
    examples: Sequence[Example],
    responses: dict[str, Any],
    knowledge: Sequence[dict[str, Any]] = (),
) -> None:
    """One fold's training data: its examples, every answer, and the editors' word lists.

    `knowledge` (lookup tables and regexes, e.g. nlu_data/begrepp.yml) is not an example
    that can be held out: it belongs to every fold, as it belongs to the live model.
    """
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in examples:
        blocks[(e.intent, e.lang)].append(e.text)
    nlu: list[dict[str, Any]] = [
        {**block, "examples": _Literal(str(block["examples"]))} for block in knowledge
    ]
    for (intent, lang), texts in sorted(blocks.items()):
        block: dict[str, Any] = {"intent": intent}
        if lang != "sv":
            block["metadata"] = {"language": lang}
        block["examples"] = _Literal("".join(f"- {t}\n" for t in texts))
        nlu.append(block)
    content = {"version": "3.1", "nlu": nlu, "responses": responses}
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def raw_knowledge(nlu_dir: Path) -> list[dict[str, Any]]:
    """The lookup-table and regex blocks of nlu_data/ (no intent examples)."""
    blocks: list[dict[str, Any]] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            if isinstance(block, dict) and ("lookup" in block or "regex" in block):
                blocks.append(block)
    return blocks


def raw_responses(nlu_dir: Path) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses.update(content.get("responses") or {})
    return responses


def config_with_epochs(config: Path, epochs: int | None, workdir: Path) -> Path:
    if epochs is None:
        return config
    content = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in content.get("pipeline") or []:
        if "epochs" in component:
            component["epochs"] = epochs
    out = workdir / "config.yml"
    out.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


# --- cross-validation -------------------------------------------------------------------


def _train_and_parse_fold(
    n: int, folds: int, train: list[Example], test: list[Example], responses: dict[str, Any],
    knowledge: list[dict[str, Any]], cfg: Path, domain: Path, workdir: Path, threads: int | None,
) -> tuple[list[dict[str, Any]], float]:
    """Train one fold's model and parse its held-out examples (runs in a worker process)."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # A fold model is thrown away: writing its featurized data into Rasa's training cache
    # (.rasa/cache) only costs time and disk.
    os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
    if threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # custom components in bot/
    logging.basicConfig(level=logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    fold_dir = workdir / f"fold{n}"
    fold_dir.mkdir()
    write_training_file(fold_dir / "train.yml", train, responses, knowledge)
    started = time.monotonic()
    print(f"fold {n}/{folds}: training on {len(train)} examples ...", flush=True)
    model = train_nlu(
        config=str(cfg),
        nlu_data=str(fold_dir / "train.yml"),
        output=str(workdir / "models"),
        fixed_model_name=f"fold{n}",
        domain=str(domain),
    )
    if not model:
        raise SystemExit(f"Training fold {n} failed; see the Rasa output above.")
    agent = Agent.load(model)
    parses = asyncio.run(parse_all(agent, [e.text for e in test]))
    duration = time.monotonic() - started
    rows = [{"text": e.text, "gold": e.intent, "lang": e.lang, "file": e.file,
             "fold": n, **effective_prediction(parse)} for e, parse in zip(test, parses)]
    correct = sum(r["gold"] == r["label"] for r in rows)
    print(f"fold {n}/{folds}: {correct}/{len(test)} correct, {duration:.0f} s", flush=True)
    return rows, duration


def cross_validate(
    nlu_dir: Path, config: Path, domain: Path, folds: int, seed: int, epochs: int | None,
    jobs: int = 1, only_folds: Sequence[int] | None = None,
) -> tuple[list[dict[str, Any]], list[float]]:
    """Rows of every held-out example and each fold's seconds.

    ``jobs`` > 1 trains that many folds at once in separate processes (TensorFlow then gets
    one thread each); ``only_folds`` (1-based) evaluates some of the folds only, the same
    folds as in a full run.
    """
    data = read_nlu_dir(nlu_dir, ROOT)
    if data.problems:
        raise SystemExit("\n".join(data.problems))
    examples = data.examples
    responses = raw_responses(nlu_dir)
    knowledge = raw_knowledge(nlu_dir)
    rows: list[dict[str, Any]] = []
    durations: list[float] = []
    with tempfile.TemporaryDirectory(prefix="karlstad-eval-") as tmp:
        workdir = Path(tmp)
        cfg = config_with_epochs(config, epochs, workdir)
        tasks = []
        for n, test_idx in enumerate(stratified_folds(examples, folds, seed), start=1):
            if only_folds and n not in only_folds:
                continue
            test_set = set(test_idx)
            train = [e for i, e in enumerate(examples) if i not in test_set]
            test = [examples[i] for i in sorted(test_idx)]
            tasks.append((n, folds, train, test, responses, knowledge, cfg, domain, workdir))
        if jobs <= 1:
            results = [_train_and_parse_fold(*task, threads=None) for task in tasks]
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            threads = max(1, (os.cpu_count() or 2) // jobs)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(_train_and_parse_fold, *task, threads=threads) for task in tasks]
                results = [f.result() for f in futures]
        for fold_rows, duration in results:
            rows.extend(fold_rows)
            durations.append(duration)
    return rows, durations


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    lines = [
        "# Utvärdering av språkmodellen (korsvalidering)",
        "",
        f"Skapad {report['generated_at']}, data-hash `{report['data_hash']}`, "
        f"{report['folds']} delar, {report['examples']} exempel, "
        f"{report['duration_seconds']:.0f} sekunder.",
        "",
        f"- Makro-F1 över alla ämnen: **{report['macro_f1']:.3f}** (mål minst {TARGET_MACRO_F1})",
        f"- Lägsta F1 för ett ämne: **{report['min_topic_f1']:.3f}** (mål minst {TARGET_MIN_TOPIC_F1})",
        f"- Känsliga akuta meddelanden som känns igen som känsliga: "
        f"**{(report['acute_sensitive_recall'] or 0):.1%}**",
        f"- FAQ-frågor som felaktigt skickas till en person: "
        f"**{(report['faq_false_handoff_rate'] or 0):.1%}**",
        f"- Målen är {'uppfyllda' if report['targets_met'] else 'INTE uppfyllda'}.",
        "",
        "## Per språk",
        "",
        "| språk | makro-F1 | träffsäkerhet ämnen | antal exempel |",
        "|---|---|---|---|",
    ]
    for lang, v in report["per_language"].items():
        lines.append(f"| {lang} | {v['macro_f1']:.3f} | {v['topic_accuracy']:.3f} | {v['support']} |")
    lines += ["", "## Per ämne (sämst först)", "",
              "| ämne | precision | recall | F1 | antal |", "|---|---|---|---|---|"]
    for topic, v in sorted(report["per_topic"].items(), key=lambda kv: (kv[1]["f1"], kv[0])):
        flag = " ⚠" if v["f1"] < TARGET_MIN_TOPIC_F1 else ""
        lines.append(
            f"| {topic}{flag} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        )
    lines += ["", "## Vanligaste förväxlingarna", "", "| rätt ämne | gissat | antal |", "|---|---|---|"]
    for pair in report["confused_pairs"]:
        lines.append(f"| {pair['gold']} | {pair['predicted']} | {pair['count']} |")
    lines += ["", "## Felgissade exempel", ""]
    for miss in report["misses"][:60]:
        lines.append(f"- `{miss['gold']}` → `{miss['label']}` ({miss['lang']}, {miss['file']}): {miss['text']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cross-validate the NLU model.")
    parser.add_argument("--nlu-dir", type=Path, default=ROOT / "nlu_data")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--domain", type=Path, default=ROOT / "bot" / "domain")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the epochs in config.yml (quicker, less exact)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="folds trained at the same time in separate processes")
    parser.add_argument("--only-folds", type=str, default="1",
                        help="comma-separated fold numbers (1-based) to evaluate (default 1: the "
                             "fixed stratified split, a third held out; 'all' for every fold)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when targets are missed")
    args = parser.parse_args(argv)

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))  # custom components in bot/
    logging.basicConfig(level=logging.WARNING)

    started = time.monotonic()
    inputs_hash = data_hash()  # before training: the inputs this evaluation used
    only = None if args.only_folds in ("all", "") else [int(x) for x in args.only_folds.split(",")]
    rows, durations = cross_validate(args.nlu_dir, args.config, args.domain, args.folds,
                                     args.seed, args.epochs, jobs=args.jobs, only_folds=only)
    summary = summarise(rows)
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data_hash": inputs_hash,
        "model": f"model-{inputs_hash}.tar.gz",
        "method": f"{args.folds}-fold stratified cross-validation, config {args.config.name}"
                  + (f", only fold(s) {args.only_folds}" if only else "")
                  + (f", epochs {args.epochs}" if args.epochs else ""),
        "folds": args.folds,
        "examples": len(rows),
        "duration_seconds": round(time.monotonic() - started, 1),
        "fold_seconds": [round(d, 1) for d in durations],
        **summary,
    }
    report["targets"] = {"macro_f1": TARGET_MACRO_F1, "min_topic_f1": TARGET_MIN_TOPIC_F1}
    report["targets_met"] = (
        report["macro_f1"] >= TARGET_MACRO_F1 and report["min_topic_f1"] >= TARGET_MIN_TOPIC_F1
    )
    report["misses"] = [
        {k: r[k] for k in ("text", "gold", "label", "lang", "file", "intent", "intent_confidence")}
        for r in rows if r["gold"] != r["label"]
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    write_markdown(args.out / "eval.md", report)
    print(f"macro F1 {report['macro_f1']:.3f} (min topic {report['min_topic_f1']:.3f}), "
          f"sv {report['per_language'].get('sv', {}).get('macro_f1')}, "
          f"en {report['per_language'].get('en', {}).get('macro_f1')}, "
          f"{report['duration_seconds']:.0f} s -> {args.out / 'eval.json'}")
    for pair in report["confused_pairs"][:10]:
        print(f"  {pair['count']:3d}  {pair['gold']} -> {pair['predicted']}")
    if not report["targets_met"] and not args.no_fail:
        print(f"Targets missed: macro F1 >= {TARGET_MACRO_F1} and every topic >= {TARGET_MIN_TOPIC_F1}.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
