"""The About-AI page: claims written by people (om_ai.yml, signed), filled in from ``facts``.

Every sentence the page says about the assistant is a *claim* with an id and ``backed_by``
(what makes it true). ``claims(facts, lang)`` picks the claims the running system supports
(an evaluation that is current, or one that is not; reviewed answers, or none) and fills in
their figures; ``render`` puts them into the Jinja2 template om_ai.html with its stylesheet
om_ai.css. Each claim's element carries ``data-claim="<id>"``, so tests/gateway/test_about.py
can check every claim on the page against the system. Files are read on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.jsontypes import JsonRead, obj, objects

HERE = Path(__file__).resolve().parent
CONTENT = HERE / "om_ai.yml"
LANGS = ("sv", "en")


@dataclass(frozen=True)
class Claim:
    id: str
    text: str  # filled in; "statement|what we do about it" for the limits table
    backed_by: str

    @property
    def parts(self) -> list[str]:
        return self.text.split("|")

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "text": self.text.replace("|", " "), "backed_by": self.backed_by}


@cache
def content() -> dict[str, object]:
    data = yaml.safe_load(CONTENT.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{CONTENT} must be a mapping with signed, contact, labels and claims.")
    return data


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _strings(value: object) -> dict[str, str]:
    """A mapping of om_ai.yml whose values are text (labels, contact)."""
    return {str(k): str(v) for k, v in obj(value).items()}


def texts(lang: str) -> dict[str, str]:
    """The page's labels (headings, table headers) in ``lang``."""
    return _strings(obj(content()["labels"])["en" if lang == "en" else "sv"])


def contact() -> dict[str, str]:
    return _strings(content()["contact"])


def signed() -> dict[str, str]:
    return {k: str(v or "") for k, v in obj(content()["signed"]).items()}


def pct(value: object, lang: str) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    number = round(float(value) * 100, 1)
    shown = f"{number:.0f}" if number == int(number) else f"{number:.1f}"
    return f"{shown.replace('.', ',')} %" if lang == "sv" else f"{shown}%"


def _names(items: object) -> str:
    """The names counted in a provenance table (``{name: answers}``), sorted."""
    return ", ".join(sorted(str(name) for name in obj(items) if name))


def language_label(info: JsonRead, lang: str) -> str:
    return str(info["name_sv"] if lang == "sv" and info.get("name_sv") else info.get("name_en") or info["code"])


def handling(info: JsonRead) -> str:
    """How a language is handled now: native, missing (no model), partial (into Swedish
    only), good or poor."""
    if info.get("native"):
        return "native"
    if not info.get("available"):
        return "partial" if info.get("inbound") else "missing"
    return "poor" if info.get("tier") == "poor" else "good"


def chosen(facts: JsonRead) -> list[str]:
    """The ids of the claims the running system supports, in page order."""
    ids = ["intro", "generated", "scope", "sources", "handoff", "no_decisions", "models_table",
           "detection"]
    if obj(obj(facts["models"])["nlu"]).get("training") == "first":
        ids.append("model_first")
    ids.append("languages_table")
    evaluation = obj(facts["evaluation"])
    nlu = obj(evaluation["nlu"])
    if not nlu.get("available"):
        ids.append("eval_none")
    else:
        ids += ["eval_current" if nlu.get("current") else "eval_stale", "eval_figures", "f1_explained",
                "eval_tables"]
    if evaluation.get("paraphrases"):
        ids += ["para_how", "para_table"]
    ids += ["usage_table", "limit_mt"]
    if any(i.get("tier") == "poor" for i in _languages(facts)):
        ids.append("limit_poor")
    ids += ["limit_detect", "limit_misunderstand", "limit_examples", "limit_sensitive",
            "oversight_staff", "content_authors"]
    provenance = obj(facts["provenance"])
    ids.append("content_review_some" if provenance["reviewed"] else "content_review_none")
    ids.append("content_owner_some" if provenance["owned"] else "content_owner_none")
    ids += ["oversight_basis", "oversight_chain", "oversight_training", "oversight_no_gate",
            "data_masking", "data_retention", "contact"]
    ids.append("signed_reviewed" if signed().get("reviewed_by") else "signed_none")
    return ids


def _languages(facts: JsonRead) -> list[JsonRead]:
    """The languages table of the facts (``models.translation.languages``)."""
    return objects(obj(obj(facts["models"])["translation"])["languages"])


def _values(facts: JsonRead, lang: str) -> dict[str, object]:
    evaluation = obj(facts["evaluation"])
    nlu = obj(evaluation["nlu"])
    para = obj(evaluation.get("paraphrases"))
    provenance = obj(facts["provenance"])
    poor = [language_label(i, lang) for i in _languages(facts) if i.get("tier") == "poor"]
    signature = signed()
    return {
        "topics": len(objects(facts["topics"])),
        "macro_f1": pct(nlu.get("macro_f1"), lang),
        "method": nlu.get("method") or "–",
        "examples": nlu.get("examples") or "–",
        "generated": nlu.get("generated_at") or "–",
        "count": para.get("paraphrases") or "–",
        "poor": ", ".join(poor),
        "pct": pct(facts["low_confidence_below"], lang),
        "author": signature["author"],
        "reviewed_by": signature.get("reviewed_by", ""),
        "reviewed": signature.get("reviewed", ""),
        "authors": _names(provenance["authors"]) or "–",
        "answers": provenance["answers"],
        "reviewed_answers": provenance["reviewed"],
        "reviewers": _names(provenance["reviewers"]),
        "owned": provenance["owned"],
        "owners": _names(provenance["owners"]),
        "days": facts["retention_days"],
        "phone": contact()["phone" if lang == "sv" else "phone_international"],
    }


def claim(claim_id: str, facts: JsonRead, lang: str) -> Claim:
    raw = obj(obj(content()["claims"])[claim_id])
    values = _values(facts, lang)
    text = str(raw["en" if lang == "en" else "sv"])
    if claim_id == "content_review_some":  # {reviewed} there counts answers, not the page's reviewer
        text = text.replace("{reviewed}", "{reviewed_answers}")
    return Claim(claim_id, text.format_map(values), str(raw["backed_by"]))


def claims(facts: JsonRead, lang: str) -> dict[str, Claim]:
    """Every claim the page shows for these facts, filled in, by id (in page order), plus the
    per-language handling claims the languages table uses."""
    ids = chosen(facts) + ["lang_native", "lang_missing", "lang_partial", "lang_good", "lang_poor"]
    return {i: claim(i, facts, lang) for i in ids}


def render(facts: JsonRead, lang: str) -> str:
    lang = "en" if lang == "en" else "sv"
    template = _environment().get_template("om_ai.html")
    shown = claims(facts, lang)
    return template.render(
        lang=lang, t=texts(lang), facts=facts, c=shown, order=chosen(facts),
        css=(HERE / "om_ai.css").read_text(encoding="utf-8"),
        pct=lambda value: pct(value, lang), handling=handling,
        name=lambda info: language_label(info, lang),
        switch=("en", "/om-ai?lang=en") if lang == "sv" else ("sv", "/om-ai"),
    )
