"""About this AI: ``/om-ai`` (HTML, Swedish; ``?lang=en`` English) and ``/api/about`` (JSON).

Every figure comes from the running configuration when the page is asked for: the Rasa
model Rasa reports, the translation models and tiers the translator reports, the release
and training-data hash, ``var/reports/eval.json`` and ``paraphrases.json`` (from
``make eval`` / the paraphrase test), the retention setting and the last 30 days of the
transparency log. Nothing here is a hand-written number.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse

from gateway import audit, basis, explain
from gateway.deps import ServicesDep
from gateway.rasa_client import RasaUnavailableError
from gateway.services import Services
from gateway.settings import ROOT
from gateway.store import utcnow
from gateway.templates import om_ai

logger = logging.getLogger(__name__)

router = APIRouter(tags=["about"])
Lang = Annotated[Literal["sv", "en"], Query(description="sv (default) or en")]
USAGE_DAYS = 30


def evaluation_data_hash(config: Path, nlu_dir: Path, root: Path = ROOT) -> str:
    """The training-data hash ``scripts/evaluate.py`` writes into eval.json (same recipe)."""
    digest = hashlib.sha256()
    for path in sorted([config, *nlu_dir.glob("*.yml")]):
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _data_date(*dirs: Path) -> str | None:
    times = [p.stat().st_mtime for d in dirs if d.exists() for p in d.glob("*.yml")]
    if not times:
        return None
    return datetime.fromtimestamp(max(times), UTC).date().isoformat()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("about: cannot read %s (%s)", path.name, type(exc).__name__)
        return None
    return data if isinstance(data, dict) else None


async def setup(app: FastAPI, services: Services) -> None:
    """What does not change while the gateway runs: the data the running model was trained on."""
    settings = services.settings
    config = settings.nlu_data_dir.parent / "config.yml"
    try:
        eval_hash = evaluation_data_hash(config, settings.nlu_data_dir) if config.exists() else None
    except OSError:
        eval_hash = None
    services.extras["about"] = {
        "eval_data_hash": eval_hash,
        "training_data_date": _data_date(settings.nlu_data_dir, settings.domain_dir),
    }


async def _rasa_model(services: Services) -> dict[str, Any]:
    try:
        status = await services.rasa.status()
    except RasaUnavailableError as exc:
        return {"engine": "Rasa", "available": False, "model_id": None, "model_file": None,
                "trained_at": None, "error": str(exc)}
    model_file = status.get("model_file")
    trained_at = None
    if model_file:
        path = Path(str(model_file))
        if path.exists():
            trained_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return {
        "engine": "Rasa",
        "available": bool(status.get("ready", True)),
        "model_id": status.get("model_id"),
        "model_file": Path(str(model_file)).name if model_file else None,
        "trained_at": trained_at,
    }


def _translation(services: Services) -> dict[str, Any]:
    translator: Any = services.translator
    registry = getattr(translator, "registry", None)
    specs = getattr(registry, "languages", {}) or {}
    languages = []
    for info in translator.languages():
        code = str(info.code)
        spec = specs.get(code)
        languages.append({
            "code": code,
            "name": str(info.name),
            "name_sv": explain.LANGUAGE_NAMES.get(code, (None, None))[0],
            "name_en": getattr(spec, "english", None) or explain.LANGUAGE_NAMES.get(code, (None, code))[1],
            "tier": str(getattr(info, "tier", "good")),
            "native": bool(getattr(info, "native", code in explain.NATIVE)),
            "available": bool(getattr(info, "available", False) or code in explain.NATIVE),
        })
    status = translator.status() if hasattr(translator, "status") else []
    models = [
        {k: row.get(k) for k in ("source", "target", "model", "engine", "revision", "tier", "available")}
        for row in (status if isinstance(status, list) else [])
        if isinstance(row, dict)
    ]
    return {
        "registry_version": getattr(registry, "version", None),
        "languages": languages,
        "models": models,
    }


def _evaluation(services: Services) -> dict[str, Any]:
    reports = services.settings.reports_dir
    current_hash = (services.extras.get("about") or {}).get("eval_data_hash")
    report = _read_json(reports / "eval.json")
    if report is None:
        evaluation: dict[str, Any] = {"available": False, "current": False}
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
                {"topic": topic, "label": explain.topic_label(services.catalogue, topic, "sv"),
                 "label_en": explain.topic_label(services.catalogue, topic, "en"), **figures}
                for topic, figures in sorted((report.get("per_topic") or {}).items())
                if isinstance(figures, dict)
            ],
            "per_language": [
                {"language": lang, "name_sv": explain.language_name(lang, "sv"),
                 "name_en": explain.language_name(lang, "en"), **figures}
                for lang, figures in sorted((report.get("per_language") or {}).items())
                if isinstance(figures, dict)
            ],
            "confused_pairs": list(report.get("confused_pairs") or [])[:10],
        }
    paraphrases = _read_json(reports / "paraphrases.json")
    if paraphrases is not None:
        paraphrases = {k: paraphrases.get(k) for k in (
            "generated_at", "model", "texts", "faq_topic_accuracy", "faq_topic_accuracy_by_language",
            "acute_sensitive_recall", "faq_false_handoff_rate", "overall_accuracy",
        ) if k in paraphrases}
    return {"nlu": evaluation, "paraphrases": paraphrases}


def _usage(services: Services) -> dict[str, Any]:
    until = utcnow()
    since = until - timedelta(days=USAGE_DAYS)
    with services.store.connect() as conn:
        total = audit.figures(conn, since, until, ZoneInfo(services.settings.timezone)).total
    return {"days": USAGE_DAYS, **total.as_dict()}


async def facts(services: Services) -> dict[str, Any]:
    """The facts the page shows, gathered now from the running gateway."""
    extras = services.extras.get("about") or {}
    return {
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "release": {
            "version": services.release.version,
            "training_data": services.release.data_hash,
            "training_data_date": extras.get("training_data_date"),
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
            {"topic": t, "label": explain.topic_label(services.catalogue, t, "sv"),
             "label_en": explain.topic_label(services.catalogue, t, "en")}
            for t in services.catalogue.topics()
        ],
        "evaluation": _evaluation(services),
        "usage": await services.store.run(_usage, services),
        "retention_days": services.settings.retention_days,
        "low_confidence_below": basis.LOW_CONFIDENCE,
        "contact": dict(om_ai.CONTACT),
    }


@router.get("/api/about")
async def about_json(services: ServicesDep, lang: Lang = "sv") -> dict[str, Any]:
    data = await facts(services)
    return {"language": lang, **data, "texts": om_ai.texts(lang)}


@router.get("/om-ai", response_class=HTMLResponse, include_in_schema=False)
async def about_page(services: ServicesDep, lang: Lang = "sv") -> HTMLResponse:
    return HTMLResponse(om_ai.render(await facts(services), lang))
