"""About this AI: ``/om-ai`` (HTML, Swedish; ``?lang=en`` English) and ``/api/about`` (JSON).

Every figure comes from the running system when the page is asked for: the Rasa model
Rasa reports (and the content it was trained on, from its file name), the translation
models, tiers and verified notices the translator reports, the content release (the
training-data hash, scripts/data_hash.py, and the git commit of the content files), who
wrote, owns and reviewed the answers (the content files), ``var/reports/eval.json`` and
``paraphrases.json`` (from ``make eval`` / the paraphrase test), the retention setting and
the last 30 days of the transparency log. The sentences are claims from
templates/om_ai.yml; ``/api/about`` lists the ones shown with what backs each.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from gateway import basis, basis_queries, explain
from gateway.catalogue import Catalogue
from gateway.deps import ServicesDep
from gateway.jsontypes import obj, values
from gateway.rasa_client import RasaUnavailableError
from gateway.services import Services
from gateway.store import utcnow
from gateway.templates import om_ai
from scripts.data_hash import content_release

logger = logging.getLogger(__name__)

router = APIRouter(tags=["about"])
Lang = Annotated[Literal["sv", "en"], Query(description="sv (default) or en")]
USAGE_DAYS = 30
MODEL_NAME = re.compile(r"model-([0-9a-f]{16})(?:\.(finetuned|first))?\.tar\.gz")


def training_kind(model_file: str | None) -> str | None:
    """How scripts/train.sh trained a model, from its file name: "full" (model-<hash>.tar.gz),
    "finetuned" (--finetune) or "first" (--first-start: a quarter of the epochs, served on a
    fresh clone until the full training is live); None for a name it did not give."""
    match = MODEL_NAME.fullmatch(model_file or "")
    if match is None:
        return None
    return match.group(2) or "full"


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("about: cannot read %s (%s)", path.name, type(exc).__name__)
        return None
    return data if isinstance(data, dict) else None


def _live(services: Services) -> tuple[str, Catalogue, int | None]:
    """The live release's training-data hash, answers and id (gateway/releases.py): after
    a publish or a rollback the page describes the model that answers now. Without a
    registered release (a gateway started without a model file), the content on disk."""
    live = services.releases.live()
    if live is None:
        return services.release.data_hash, services.catalogue, None
    release, catalogue = live
    return release.data_hash, catalogue, release.id


def _content_release(services: Services, release_id: int | None) -> dict[str, object] | None:
    """The git commit of the content files on disk (read once per live release: git is slow
    next to a page view, and the content only changes with a release)."""
    about = services.about_cache
    if "content" not in about or about.get("content_for") != {"release": release_id}:
        about["content_for"] = {"release": release_id}
        try:
            about["content"] = content_release(services.settings.nlu_data_dir.parent).as_dict()
        except OSError as exc:
            logger.warning("about: cannot read the content files (%s)", type(exc).__name__)
            about["content"] = None
    value = about["content"]
    return dict(value) if isinstance(value, dict) else None


def _model_path(services: Services, model_file: str) -> Path | None:
    """The model file Rasa reports (a path or a bare name under var/models), if it is here."""
    for candidate in (Path(model_file), services.settings.var_dir / "models" / Path(model_file).name):
        if candidate.exists():
            return candidate.resolve()  # current.tar.gz -> model-<hash>.tar.gz
    return None


async def _rasa_model(services: Services) -> dict[str, object]:
    try:
        status = await services.rasa.status()
    except RasaUnavailableError as exc:
        return {"engine": "Rasa", "available": False, "model_id": None, "model_file": None,
                "trained_at": None, "data_hash": None, "training": None, "error": str(exc)}
    model_file = status.get("model_file")
    trained_at = None
    path = _model_path(services, str(model_file)) if model_file else None
    if path is not None:
        trained_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    name = path.name if path is not None else (Path(str(model_file)).name if model_file else None)
    # scripts/train.sh names a model after its training-data hash: model-<hash>.tar.gz; a
    # model Rasa pulled from the gateway is known by its id in the release registry.
    match = MODEL_NAME.fullmatch(name or "")
    model_id = status.get("model_id")
    released = await asyncio.to_thread(services.releases.for_model, str(model_id)) if model_id else None
    if released is not None:
        release_file = Path(released[0].model_file)
        return {
            "engine": "Rasa",
            "available": bool(status.get("ready", True)),
            "model_id": model_id,
            "model_file": release_file.name,
            "trained_at": datetime.fromtimestamp(release_file.stat().st_mtime, UTC).isoformat(timespec="seconds")
            if release_file.is_file() else None,
            "data_hash": released[0].data_hash,
            "training": training_kind(release_file.name),
        }
    return {
        "engine": "Rasa",
        "available": bool(status.get("ready", True)),
        "model_id": status.get("model_id"),
        "model_file": name,
        "trained_at": trained_at,
        "data_hash": match.group(1) if match else None,
        "training": training_kind(name),
    }


def _translation(services: Services) -> dict[str, object]:
    translator = services.translator
    report = translator.report()
    models: list[dict[str, object]] = [
        {k: row.get(k) for k in ("source", "target", "model", "engine", "revision", "tier", "available")}
        for row in report.routes
    ]
    inbound = {row["source"] for row in report.routes if row["target"] == "sv" and row["available"]}
    languages: list[dict[str, object]] = []
    for info in translator.languages():
        code = info.code
        languages.append({
            "code": code,
            "name": info.name,
            "name_sv": explain.LANGUAGE_NAMES.get(code, (None, None))[0],
            "name_en": report.english_names.get(code) or explain.LANGUAGE_NAMES.get(code, (None, code))[1],
            "tier": info.tier,
            "native": info.native,
            "available": info.available or code in explain.NATIVE,
            "notices": report.verified_notices.get(code) if code not in explain.NATIVE else None,
            # a question can be translated into Swedish, though maybe not back
            "inbound": info.native or code in inbound,
        })
    return {
        "registry_version": report.registry_version,
        "languages": languages,
        "models": models,
    }


def _evaluation(services: Services, current_hash: str, catalogue: Catalogue) -> dict[str, object]:
    """``current_hash``: the live release's training data (scripts/data_hash.py, as
    evaluate.py writes it)."""
    reports = services.settings.reports_dir
    report = _read_json(reports / "eval.json")
    if report is None:
        evaluation: dict[str, object] = {"available": False, "current": False}
    else:
        evaluation = {
            "available": True,
            "current": bool(current_hash) and report.get("data_hash") == current_hash,
            "generated_at": report.get("generated_at"),
            "data_hash": report.get("data_hash"),
            "method": report.get("method"),
            "examples": report.get("examples"),
            "macro_f1": report.get("macro_f1"),
            "min_topic_f1": report.get("min_topic_f1"),
            "per_topic": [
                {"topic": topic, "label": explain.topic_label(catalogue, topic, "sv"),
                 "label_en": explain.topic_label(catalogue, topic, "en"), **figures}
                for topic, figures in sorted(obj(report.get("per_topic")).items())
                if isinstance(figures, dict)
            ],
            "per_language": [
                {"language": lang, "name_sv": explain.language_name(lang, "sv"),
                 "name_en": explain.language_name(lang, "en"), **figures}
                for lang, figures in sorted(obj(report.get("per_language")).items())
                if isinstance(figures, dict)
            ],
            "confused_pairs": values(report.get("confused_pairs"))[:10],
        }
    paraphrases = _read_json(reports / "paraphrases.json")
    if paraphrases is not None:
        paraphrases = {k: paraphrases.get(k) for k in (
            "generated_at", "model", "paraphrases", "faq_topic_accuracy", "faq_topic_accuracy_by_language",
            "acute_sensitive_recall", "faq_false_handoff_rate", "overall_accuracy",
        ) if k in paraphrases}
    return {"nlu": evaluation, "paraphrases": paraphrases}


def _usage(services: Services) -> dict[str, object]:
    until = utcnow()
    since = until - timedelta(days=USAGE_DAYS)
    with services.store.connect() as conn:
        total = basis_queries.figures(conn, since, until, ZoneInfo(services.settings.timezone)).total
    return {"days": USAGE_DAYS, **total.as_dict()}


async def facts(services: Services) -> dict[str, object]:
    """The facts the page shows, gathered now from the running gateway."""
    data_hash, catalogue, release_id = await asyncio.to_thread(_live, services)
    return {
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "release": {
            "version": services.release.version,
            "training_data": data_hash,
            "model_release": release_id,
            "content": await asyncio.to_thread(_content_release, services, release_id),
        },
        "models": {
            "nlu": await _rasa_model(services),
            "translation": _translation(services),
            "language_detection": {
                "methods": list(explain.METHODS),
                "swedish_prior": True,
            },
        },
        "topics": [
            {"topic": t, "label": explain.topic_label(catalogue, t, "sv"),
             "label_en": explain.topic_label(catalogue, t, "en")}
            for t in catalogue.topics()
        ],
        "provenance": catalogue.provenance().as_dict(),
        "evaluation": _evaluation(services, data_hash, catalogue),
        "usage": await services.store.run(_usage, services),
        "retention_days": services.settings.retention_days,
        "low_confidence_below": basis.LOW_CONFIDENCE,
        "contact": om_ai.contact(),
        "signed": om_ai.signed(),
    }


@router.get("/api/about")
async def about_json(services: ServicesDep, lang: Lang = "sv") -> dict[str, object]:
    """The page's facts, and every claim it shows with what backs it."""
    data = await facts(services)
    shown = om_ai.claims(data, lang)
    return {"language": lang, **data, "texts": om_ai.texts(lang),
            "claims": [shown[i].as_dict() for i in om_ai.chosen(data)]}


@router.get("/om-ai", response_class=HTMLResponse, include_in_schema=False)
async def about_page(services: ServicesDep, lang: Lang = "sv") -> HTMLResponse:
    return HTMLResponse(om_ai.render(await facts(services), lang))
