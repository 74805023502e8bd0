"""The About-AI page (/om-ai, /api/about): every statement on it is checked against the system.

Each sentence on the page is a claim from gateway/templates/om_ai.yml and carries
``data-claim="<id>"``. ``test_every_claim_on_the_page_holds`` reads the page in several states
(no evaluation, a current one, an outdated one, translation models installed, Swedish and
English) and runs ``CHECKS[id]`` for every claim shown: against the running gateway, the
content files, the real evaluation's hashing and the code paths that make a claim true. A
sentence outside a claim, a claim without a check, or a check that no longer holds fails the
build. /work/notes/om-ai-claims.md lists the claims and what backs each.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from gateway import basis, texts
from gateway.settings import ROOT, Settings
from gateway.store import audit_events, handoff_tickets, messages
from gateway.templates import om_ai
from scripts import data_hash
from tests.conftest import rasa_reply
from tests.gateway import language_models
from tests.gateway.staff_helpers import make_staff, staff_login

MODEL_ID = "7f3c2b1a-model-under-test"
CLAIMS = yaml.safe_load((ROOT / "gateway" / "templates" / "om_ai.yml").read_text(encoding="utf-8"))["claims"]


def real_evaluation_hash() -> str:
    """What `make eval` writes into eval.json (scripts/evaluate.py, the real code)."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import evaluate

    return str(evaluate.data_hash())


def train_sh_hash() -> str:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "train.sh"), "--hash"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


# ---- a Rasa stand-in that answers as the real one would for each kind of message ----------
class Rasa:
    def __init__(self, model_file: Path | None = None) -> None:
        self.model_file = model_file
        self.seen: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": MODEL_ID,
                                             "model_file": str(self.model_file) if self.model_file else None})
        body = json.loads(request.content)
        self.seen.append(body)
        text = body["message"].lower()
        if "människa" in text or "human" in text:
            return httpx.Response(200, json=rasa_reply("Jag kopplar dig till en person.", response_id="utter_handoff",
                                                       intent="request_human", topic=None,
                                                       handoff={"reason": "request_human", "acute": False}))
        if "osäker" in text:
            return httpx.Response(200, json=rasa_reply("Kanske det här.", confidence=0.41))
        return httpx.Response(200, json=rasa_reply("hej världen"))


def rasa_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


def eval_report(data_hash_value: str) -> dict[str, Any]:
    return {
        "generated_at": "2026-11-28T21:14:03+00:00",
        "data_hash": data_hash_value,
        "method": "3-fold stratified cross-validation, config config.yml",
        "examples": 1234,
        "macro_f1": 0.9612,
        "min_topic_f1": 0.871,
        "per_topic": {
            "faq/bygglov": {"precision": 0.98, "recall": 0.955, "f1": 0.9674, "support": 66},
            "faq/parkering_avgift": {"precision": 0.871, "recall": 0.9, "f1": 0.8853, "support": 40},
        },
        "per_language": {
            "sv": {"macro_f1": 0.97, "topic_accuracy": 0.965, "accuracy": 0.962, "support": 900},
            "en": {"macro_f1": 0.941, "topic_accuracy": 0.94, "accuracy": 0.93, "support": 334},
        },
        "confused_pairs": [{"gold": "faq/bygglov", "predicted": "faq/attefall_friggebod", "count": 3}],
    }


PARAPHRASES = {"generated_at": "2026-11-28T22:00:00+00:00", "paraphrases": 321, "faq_topic_accuracy": 0.9731,
               "acute_sensitive_recall": 1.0, "faq_false_handoff_rate": 0.012}


# ---- reading the page ----------------------------------------------------------------------
LABEL_TAGS = {"h1", "h2", "h3", "caption", "summary", "thead", "nav", "title", "style", "header"}


class Structure(HTMLParser):
    """Headings, tables, lang, and which claim each piece of text in <main> belongs to."""

    VOID = {"meta", "br", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, str | None]] = []
        self.pieces: list[tuple[str | None, bool, str]] = []  # (claim, in a label, text) inside <main>
        self.claim_text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("data-claim")))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        tags = [t for t, _ in self.stack]
        if "main" not in tags or not data.strip():
            return
        claims = [c for _, c in self.stack if c]
        claim = claims[-1] if claims else None
        self.pieces.append((claim, bool(LABEL_TAGS & set(tags)), data))
        if claim:
            self.claim_text.setdefault(claim, []).append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())

    def shown(self, claim: str) -> str:
        return " ".join(" ".join(self.claim_text.get(claim, [])).split())

    def ids(self) -> list[str]:
        return [a["data-claim"] for a in self.all("p") + self.all("li") + self.all("tr") + self.all("td")
                + self.all("div") + self.all("details") if a.get("data-claim")]


def parse(html: str) -> Structure:
    page = Structure()
    page.feed(html)
    return page


@dataclass
class Page:
    """One rendering of /om-ai and everything a check may look at."""

    lang: str
    html: Structure
    about: dict[str, Any]
    client: httpx.AsyncClient
    rasa: Rasa
    factory: Any
    reports: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def claim(self, claim_id: str) -> str:
        return next(c["text"] for c in self.about["claims"] if c["id"] == claim_id)


async def conversation(client: httpx.AsyncClient, language: str | None = None) -> tuple[str, dict[str, str]]:
    created = (await client.post("/api/conversations")).json()
    cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
    if language:
        chosen = await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": language})
        assert chosen.status_code == 200, chosen.text
    return cid, auth


async def ask(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def explanation(client: httpx.AsyncClient, cid: str, auth: dict[str, str], basis_id: str) -> dict[str, str]:
    body = (await client.get(f"/api/conversations/{cid}/basis/{basis_id}", headers=auth)).json()
    return {p["key"]: p["text"] for p in body["explanations"][0]["points"]}


# ---- the checks, one per claim id -------------------------------------------------------------
Check = Callable[[Page], Awaitable[None]]
CHECKS: dict[str, Check] = {}


def check(*ids: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        for claim_id in ids:
            CHECKS[claim_id] = fn
        return fn
    return register


@check("intro")
async def _intro(p: Page) -> None:
    infos = {i.code: i for i in p.services.translator.languages()}
    assert {c for c, i in infos.items() if i.native} == {"sv", "en"}
    for topic in p.services.catalogue.topics():
        answer = p.services.catalogue.get(f"utter_{topic}")
        assert answer.text("sv") and answer.text("en"), f"{topic} needs a Swedish and an English answer"
    for row in p.about["models"]["translation"]["languages"]:  # machine translation only where installed
        assert row["available"] == bool(infos[row["code"]].available or infos[row["code"]].native)


@check("generated")
async def _generated(p: Page) -> None:
    made = datetime.fromisoformat(p.about["generated_at"])
    assert abs(datetime.now(UTC) - made) < timedelta(minutes=5)
    later = (await p.client.get("/api/about")).json()["generated_at"]
    assert later >= p.about["generated_at"]


@check("scope")
async def _scope(p: Page) -> None:
    topics = p.services.catalogue.topics()
    assert f" {len(topics)} " in p.claim("scope")
    assert len(p.html.all("li")) >= len(topics)  # the list below names each


@check("sources", "content_authors")
async def _sources(p: Page) -> None:
    catalogue = p.services.catalogue
    for topic in catalogue.topics():
        source = catalogue.get(f"utter_{topic}").source
        assert source is not None and source.url.startswith("https://karlstad.se/"), topic
    authors = catalogue.provenance().authors
    assert authors and all(author in p.claim("content_authors") for author in authors)
    cid, auth = await conversation(p.client)
    [answer] = (await ask(p.client, cid, auth, "Behöver jag bygglov?"))["messages"]
    assert answer["source"]["url"] == catalogue.get("utter_faq/bygglov").source.url  # shown with the answer


@check("handoff", "oversight_staff")
async def _handoff(p: Page) -> None:
    actions = (ROOT / "actions" / "handoff.py").read_text(encoding="utf-8")
    assert 'handoff_event("request_human"' in actions and 'handoff_event("repeated_fallback"' in actions
    assert "handoff_event(key" in (ROOT / "actions" / "faq.py").read_text(encoding="utf-8")  # every sensitive/*
    sensitive = yaml.safe_load((ROOT / "nlu_data" / "sensitive.yml").read_text(encoding="utf-8"))
    assert "sensitive/personal_case" in {b.get("intent") for b in sensitive["nlu"]}  # "your own case"
    cid, auth = await conversation(p.client)
    asked = await ask(p.client, cid, auth, "Jag vill prata med en människa")
    cid2, auth2 = await conversation(p.client)
    danger = await ask(p.client, cid2, auth2, "jag vill ta livet av mig")
    assert asked["handoff"]["reason"] == "request_human"
    assert danger["handoff"]["reason"] == "sensitive/suicide"  # the lexicon, though Rasa answered a topic
    with p.services.store.connect() as conn:  # the reason is kept with the ticket the staff see
        reasons = dict(conn.execute(select(handoff_tickets.c.conversation_id, handoff_tickets.c.reason)).all())
    assert reasons[cid] == "request_human" and reasons[cid2] == "sensitive/suicide"


NETWORK = re.compile(r"^\s*(?:import|from)\s+(requests|httpx|aiohttp|urllib\.request|http\.client|socket)\b", re.M)


@check("no_decisions")
async def _no_decisions(p: Page) -> None:
    for path in sorted((ROOT / "actions").glob("*.py")):
        assert not NETWORK.search(path.read_text(encoding="utf-8")), f"{path.name} talks to the network"
    urls = {name for name in Settings.model_fields if name.endswith("_url")}
    # A new connection (a case system?) must be looked at against this claim before it is added here.
    # oidc_redirect_url: staff single sign-on with the municipality's identity provider (who a
    # staff member is); it carries nothing about citizens and decides nothing about them.
    assert urls == {"public_url", "database_url", "redis_url", "rasa_url", "action_server_url",
                    "oidc_redirect_url"}, urls


@check("models_table")
async def _models_table(p: Page) -> None:
    shown = p.html.shown("models_table")
    release = p.services.release
    assert MODEL_ID in shown and release.version in shown and release.data_hash in shown
    # one definition of the training-data hash: the gateway, the real evaluation and train.sh agree
    assert release.data_hash == real_evaluation_hash() == train_sh_hash() == data_hash.training_data_hash(ROOT)
    content = data_hash.content_release(ROOT)
    if content.commit:  # a clone: the commit of the content files, not a file time
        assert content.commit[:12] in shown and (content.date or "")[:10] in shown
        assert (("inte är incheckade" in shown or "not committed" in shown) == bool(content.modified))
    model = p.about["models"]["nlu"]
    if model["data_hash"]:
        same = model["data_hash"] == release.data_hash
        assert (("samma innehåll" in shown or "the same content" in shown) == same)


@check("model_first")
async def _model_first(p: Page) -> None:
    """Shown only while the model answering is scripts/train.sh --first-start's short one."""
    model = p.about["models"]["nlu"]
    assert model["training"] == "first" and model["model_file"].endswith(".first.tar.gz")
    assert model["model_file"] in p.html.shown("models_table")
    train_sh = (ROOT / "scripts" / "train.sh").read_text(encoding="utf-8")
    assert "FIRST_START_EPOCH_FRACTION:-0.25" in train_sh  # fewer rounds than config.yml's
    run_py = (ROOT / "scripts" / "run.py").read_text(encoding="utf-8")
    assert '"release", "register", "--activate"' in run_py  # the full model takes over, no restart


@check("detection")
async def _detection(p: Page) -> None:
    detector = p.services.translator
    assert detector.detect("مرحبا، كيف أحصل على رخصة بناء؟").method == "script"
    assert detector.detect("Behöver jag bygglov för ett garage?").method in ("words", "langdetect")
    short = detector.detect("ok")
    assert (short.code, short.method) == ("sv", "prior")
    cid, auth = await conversation(p.client, "en")
    turn = await ask(p.client, cid, auth, "bygglov")
    assert turn["language"]["method"] == "explicit"  # the citizen's choice wins


@check("languages_table")
async def _languages_table(p: Page) -> None:
    infos = p.services.translator.languages()
    cells = [a["data-claim"] for a in p.html.all("td") if (a.get("data-claim") or "").startswith("lang_")]
    status = p.services.translator.status()
    into_swedish = {r["source"] for r in status if r["target"] == "sv" and r["available"]}
    expected = ["lang_native" if i.native else
                ("lang_partial" if i.code in into_swedish else "lang_missing") if not i.available else
                "lang_poor" if i.tier == "poor" else "lang_good" for i in infos]
    assert cells == expected
    counts = p.services.translator.notices.verified_counts()
    for row in p.about["models"]["translation"]["languages"]:
        if not row["native"]:
            assert tuple(row["notices"] or ()) == tuple(counts.get(row["code"], ())), row["code"]


@check("lang_native")
async def _lang_native(p: Page) -> None:
    cid, auth = await conversation(p.client, "en")
    await ask(p.client, cid, auth, "Do I need a building permit for a garage?")
    assert p.rasa.seen[-1]["message"] == "Do I need a building permit for a garage?"  # untranslated
    assert p.rasa.seen[-1]["metadata"] == {"language": "en"}


def _handled(p: Page, how: str) -> list[str]:
    return [row["code"] for row in p.about["models"]["translation"]["languages"] if om_ai.handling(row) == how]


@check("lang_missing")
async def _lang_missing(p: Page) -> None:
    missing = _handled(p, "missing")
    assert missing
    before = len(p.rasa.seen)
    cid, auth = await conversation(p.client, missing[0])
    turn = await ask(p.client, cid, auth, "where is the library")
    assert len(p.rasa.seen) == before  # nothing untranslated reaches the assistant
    assert [m["text"] for m in turn["messages"] if m["language"] in ("sv", "en")] == [
        texts.text("no_translation", "sv"), texts.text("no_translation", "en")]
    assert turn["handoff"]["reason"] == "language_support"


@check("lang_partial")
async def _lang_partial(p: Page) -> None:
    partial = _handled(p, "partial")
    assert partial
    cid, auth = await conversation(p.client, partial[0])
    before = len(p.rasa.seen)
    turn = await ask(p.client, cid, auth, "where is the library")
    assert p.rasa.seen[before]["message"] == "var är biblioteket"  # understood, through Swedish
    assert ("sv", "hej världen") in [(m["language"], m["text"]) for m in turn["messages"]]
    assert "en" in [m["language"] for m in turn["messages"]]


async def _tiny_turn(p: Page, language: str, rasa: Any = None) -> list[dict[str, Any]]:
    models, registry = language_models.build()
    async with p.factory(rasa or Rasa(), models_dir=models, translation_registry=registry) as client:
        cid, auth = await conversation(client, language)
        return list((await ask(client, cid, auth, "where is the library"))["messages"])


@check("lang_good", "limit_mt")
async def _machine_translation(p: Page) -> None:
    good = await _tiny_turn(p, language_models.GOOD)
    assert [(m["language"], m["machine_translated"]) for m in good] == [(language_models.GOOD, True)]
    no_way_back = next(c for c in language_models.NOTICE_LANGUAGES
                       if c not in (language_models.GOOD, language_models.POOR))
    fallback = await _tiny_turn(p, no_way_back)
    assert ("sv", "hej världen") in [(m["language"], m["text"]) for m in fallback]  # the answer in Swedish
    assert "en" in [m["language"] for m in fallback]


@check("lang_poor", "limit_poor")
async def _poor(p: Page) -> None:
    registry = p.services.translator.languages()
    names = [om_ai.language_label(row, p.lang) for row in p.about["models"]["translation"]["languages"]
             if row["tier"] == "poor"]
    assert [i.code for i in registry if i.tier == "poor"] == [
        row["code"] for row in p.about["models"]["translation"]["languages"] if row["tier"] == "poor"]
    if "limit_poor" in p.html.ids():  # exactly the registry's poor-tier languages, nothing else
        listed = f"För {', '.join(names)} är" if p.lang == "sv" else f"For {', '.join(names)}, machine"
        assert p.claim("limit_poor").startswith(listed)
    poor = await _tiny_turn(p, language_models.POOR)
    languages = [m["language"] for m in poor]
    assert languages[:3] == [language_models.POOR, "sv", "en"]
    assert texts.text("interpreter_offer", "sv") in [m["text"] for m in poor]


@check("eval_none")
async def _eval_none(p: Page) -> None:
    assert not (p.reports / "eval.json").exists()


@check("eval_current")
async def _eval_current(p: Page) -> None:
    report = json.loads((p.reports / "eval.json").read_text(encoding="utf-8"))
    assert report["data_hash"] == real_evaluation_hash() == p.services.release.data_hash


@check("eval_stale")
async def _eval_stale(p: Page) -> None:
    report = json.loads((p.reports / "eval.json").read_text(encoding="utf-8"))
    assert report["data_hash"] != p.services.release.data_hash


@check("eval_figures", "eval_tables")
async def _eval_figures(p: Page) -> None:
    report = json.loads((p.reports / "eval.json").read_text(encoding="utf-8"))
    figures = p.claim("eval_figures")
    assert om_ai.pct(report["macro_f1"], p.lang) in figures and report["method"] in figures
    assert str(report["examples"]) in figures and report["generated_at"] in figures
    tables = p.html.shown("eval_tables")
    for topic, row in report["per_topic"].items():
        assert topic in tables and om_ai.pct(row["f1"], p.lang) in tables


@check("f1_explained")
async def _f1(p: Page) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import evaluate

    half = evaluate.prf(["a", "a", "b", "b"], ["a", "b", "b", "a"], ["a"])["a"]
    assert (half["precision"], half["recall"], half["f1"]) == (0.5, 0.5, 0.5)
    assert evaluate.prf(["a", "b"], ["a", "b"], ["a"])["a"]["f1"] == 1.0  # "100 % is perfect"


@check("para_how", "para_table")
async def _paraphrases(p: Page) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from validate_data import Report, check_paraphrases_held_out, read_nlu_dir

    figures = json.loads((p.reports / "paraphrases.json").read_text(encoding="utf-8"))
    assert str(figures["paraphrases"]) in p.claim("para_how")
    paraphrases = ROOT / "tests" / "nlu" / "paraphrases.yml"
    assert not paraphrases.is_relative_to(ROOT / "nlu_data")  # not a training file
    report = Report()
    check_paraphrases_held_out(read_nlu_dir(ROOT / "nlu_data"), paraphrases, report)
    assert report.errors == []  # no test question, nor a near copy, among the examples
    table = p.html.shown("para_table")
    assert om_ai.pct(figures["faq_topic_accuracy"], p.lang) in table and figures["generated_at"] in table


@check("usage_table")
async def _usage(p: Page) -> None:
    from zoneinfo import ZoneInfo

    from gateway import basis_queries

    cid, auth = await conversation(p.client)
    await ask(p.client, cid, auth, "Behöver jag bygglov?")  # at least one answer to count
    usage = (await p.client.get("/api/about")).json()["usage"]
    now = datetime.now(UTC)
    with p.services.store.connect() as conn:
        total = basis_queries.figures(conn, now - timedelta(days=30), now + timedelta(minutes=1),
                              ZoneInfo(p.services.settings.timezone)).total.as_dict()
    keys = ("answers", "handoffs", "fallbacks", "low_confidence", "negative_feedback")
    assert usage["answers"] >= 1 and {k: usage[k] for k in keys} == {k: total[k] for k in keys}
    labels = om_ai.texts(p.lang)
    for k in keys:  # the page showed the figures of the moment it was made
        label = labels[k].format(pct=om_ai.pct(basis.LOW_CONFIDENCE, p.lang))
        assert f"{label} {p.about['usage'][k] or 0}" in p.html.shown("usage_table"), k


@check("limit_detect")
async def _limit_detect(p: Page) -> None:
    assert p.services.translator.detect("ok").method == "prior"
    cid, auth = await conversation(p.client)
    [answer] = (await ask(p.client, cid, auth, "Behöver jag bygglov för ett garage?"))["messages"]
    said = await explanation(p.client, cid, auth, answer["basis_id"])
    assert said["language"].startswith("Språk: svenska (")  # how the language was decided


@check("limit_misunderstand")
async def _limit_misunderstand(p: Page) -> None:
    assert om_ai.pct(basis.LOW_CONFIDENCE, p.lang) in p.claim("limit_misunderstand")
    cid, auth = await conversation(p.client)
    [answer] = (await ask(p.client, cid, auth, "osäker fråga om bygglov"))["messages"]
    said = await explanation(p.client, cid, auth, answer["basis_id"])
    assert "osäker" in said["certainty"] and "Svaret kan därför vara fel" in said["certainty"]
    assert said["source"].startswith("Svaret bygger på sidan")


@check("limit_examples")
async def _limit_examples(p: Page) -> None:
    assert om_ai.signed()["author"] in p.claim("limit_examples")
    for path in sorted((ROOT / "nlu_data").glob("*.yml")):  # no review of an example is recorded anywhere
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            assert set(block.get("metadata") or {}) <= {"language"}, f"{path.name}: {block.get('intent')}"


@check("limit_sensitive")
async def _limit_sensitive(p: Page) -> None:
    lexicon = p.services.turns.safety
    assert lexicon.match("xyz", "jag vill ta livet av mig") is not None  # the Swedish text counts too
    cid, auth = await conversation(p.client)
    turn = await ask(p.client, cid, auth, "jag vill ta livet av mig")  # Rasa answered a topic
    assert any("112" in m["text"] for m in turn["messages"])
    assert turn["handoff"]["reason"] == "sensitive/suicide"
    with p.services.store.connect() as conn:
        priority = conn.execute(select(handoff_tickets.c.priority)
                                .where(handoff_tickets.c.conversation_id == cid)).scalar_one()
    assert priority == 0  # acute: first in the queue


@check("content_review_none", "content_review_some", "content_owner_none", "content_owner_some")
async def _content(p: Page) -> None:
    provenance = p.services.catalogue.provenance()
    shown = " ".join(p.html.shown(i) for i in ("content_review_none", "content_review_some",
                                                "content_owner_none", "content_owner_some"))
    assert ("content_review_none" in p.html.ids()) == (provenance.reviewed == 0)
    assert ("content_owner_none" in p.html.ids()) == (provenance.owned == 0)
    if provenance.reviewed:
        assert f"{provenance.reviewed} " in shown and all(r in shown for r in provenance.reviewers)
    if provenance.owned:
        assert f"{provenance.owned} " in shown and all(o in shown for o in provenance.owners)


@check("oversight_basis")
async def _oversight_basis(p: Page) -> None:
    cid, auth = await conversation(p.client)
    [answer] = (await ask(p.client, cid, auth, "Behöver jag bygglov?"))["messages"]
    said = await explanation(p.client, cid, auth, answer["basis_id"])
    assert {"understood", "certainty", "source", "translation_out"} <= set(said)
    text = await p.client.get(f"/api/conversations/{cid}/basis", params={"format": "text"}, headers=auth)
    as_json = await p.client.get(f"/api/conversations/{cid}/basis", params={"format": "json"}, headers=auth)
    assert text.status_code == as_json.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    widget = (await p.client.get("/widget/widget.js")).text  # the control the citizen uses
    assert "conv('/basis?format=' + format)" in widget
    assert "Ladda ner som text" in widget and "Ladda ner som JSON" in widget


@check("oversight_chain")
async def _oversight_chain(p: Page) -> None:
    cid, auth = await conversation(p.client)
    for text in ("Behöver jag bygglov?", "Och för ett plank?"):
        await ask(p.client, cid, auth, text)
    records = json.loads((await p.client.get(f"/api/conversations/{cid}/basis", headers=auth)).content)
    assert records["chain"]["ok"] and records["records"][1]["prev_hash"] == records["records"][0]["hash"]
    make_staff(p.services.store, "greta", "Greta Granskare", "auditor")
    await staff_login(p.client, "greta")
    today = datetime.now(UTC).date().isoformat()
    found = (await p.client.get("/staff/api/audit/records", params={"conversation_id": cid})).json()
    exported = await p.client.get("/staff/api/audit/export", params={"day": today})
    verified = (await p.client.get("/staff/api/audit/verify", params={"conversation_id": cid})).json()
    assert found["total"] == 2 and exported.status_code == 200 and verified["ok"] is True
    with p.services.store.connect() as conn:
        logged = conn.execute(select(audit_events.c.action).where(audit_events.c.actor == "greta")).scalars().all()
    assert "audit.export" in logged


@check("oversight_training", "oversight_no_gate")
async def _training(p: Page) -> None:
    script = (ROOT / "scripts" / "train.sh").read_text(encoding="utf-8")
    commands = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert '--config "$config" --domain "$src/bot/domain"' in commands
    # the config is config.yml, or for a first start config.yml with fewer epochs
    assert 'config="$src/config.yml"' in commands and '"$src/config.yml" "$config"' in commands
    assert '--data "$src/nlu_data" "$src/bot/data"' in commands
    assert data_hash.INPUTS == ("config.yml", "bot/components", "bot/domain", "bot/data", "nlu_data")
    # make run's training has no gate; the editors' path has one, and publishing needs it passed
    assert "gate" not in commands and "evaluate" not in commands
    jobs = (ROOT / "gateway" / "editor" / "jobs.py").read_text(encoding="utf-8")
    assert "editor_gate_command" in jobs and Settings().editor_gate_command[-1].endswith("scripts/gate.py")
    gate = (ROOT / "scripts" / "gate.py").read_text(encoding="utf-8")
    assert "acute" in gate and "--extra" in gate
    # "alla frågor om akut fara går till en människa": 100 % of the acute questions must reach a
    # person, through the model or the safety lexicon the gateway hands the gate.
    scoring = (ROOT / "scripts" / "nlu_scoring.py").read_text(encoding="utf-8")
    assert "SENSITIVE_RECALL_MIN = 1.0" in scoring and '"--safety-net", str(net)' in jobs
    workspace = (ROOT / "gateway" / "editor" / "workspace.py").read_text(encoding="utf-8")
    assert 'changes.require_state(change, "ready")' in workspace


@check("data_masking")
async def _masking(p: Page) -> None:
    cid, auth = await conversation(p.client)
    text = ("pnr 850709-9805, samordningsnummer 850769-9802, ring 070-123 45 67, mejla anna@example.se, "
            "kort 4111 1111 1111 1111, konto 8327-9 123 456 789")
    [answer] = (await ask(p.client, cid, auth, text))["messages"]
    sent = p.rasa.seen[-1]["message"]
    for secret in ("850709", "850769", "123 45 67", "anna@example.se", "4111", "456 789"):
        assert secret not in sent
    masks = set(re.findall(r"\[[^\]]+\]", sent))
    assert {"[personnummer]", "[telefon]", "[e-post]", "[kortnummer]", "[kontonummer]"} <= masks
    with p.services.store.connect() as conn:
        stored = conn.execute(select(messages.c.text).where(messages.c.conversation_id == cid)).scalars().all()
    assert not any("850709" in s or "4111" in s for s in stored)


@check("data_retention")
async def _retention(p: Page) -> None:
    assert f" {p.services.settings.retention_days} " in p.claim("data_retention")
    task = p.services.retention_task
    assert task is not None and not task.done()  # the daily purge is running


@check("contact")
async def _contact(p: Page) -> None:
    phone = om_ai.contact()["phone" if p.lang == "sv" else "phone_international"]
    assert phone in p.claim("contact") and phone in texts.text("welcome", p.lang)


@check("signed_none", "signed_reviewed")
async def _signed(p: Page) -> None:
    signed = om_ai.signed()
    shown = p.html.shown("signed_reviewed" if signed["reviewed_by"] else "signed_none")
    assert signed["author"] in shown
    if signed["reviewed_by"]:
        assert signed["reviewed_by"] in shown and signed["reviewed"] in shown


def test_every_claim_in_the_content_file_has_a_check() -> None:
    assert set(CLAIMS) == set(CHECKS), (set(CLAIMS) ^ set(CHECKS))


# ---- the pages --------------------------------------------------------------------------------
STATES = ["no-evaluation", "current-evaluation", "outdated-evaluation", "translation-installed", "first-start-model"]


async def render(gateway_factory: Any, tmp_path: Path, state: str, lang: str) -> tuple[Rasa, Any]:
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    if state == "current-evaluation":
        (reports / "eval.json").write_text(json.dumps(eval_report(real_evaluation_hash())), encoding="utf-8")
        (reports / "paraphrases.json").write_text(json.dumps(PARAPHRASES), encoding="utf-8")
    if state == "outdated-evaluation":
        (reports / "eval.json").write_text(json.dumps(eval_report("0" * 16)), encoding="utf-8")
    kind = ".first" if state == "first-start-model" else ""
    model = tmp_path / f"model-{data_hash.training_data_hash(ROOT)}{kind}.tar.gz"
    model.write_bytes(b"model")
    rasa = Rasa(model)
    extra: dict[str, Any] = {"reports_dir": reports, "retention_days": 45}
    if state == "translation-installed":
        models, registry = language_models.build()
        extra.update(models_dir=models, translation_registry=registry)
    return rasa, gateway_factory(rasa, **extra)


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("state", STATES)
async def test_every_claim_on_the_page_holds(gateway_factory: Any, tmp_path: Path, state: str, lang: str) -> None:
    rasa, context = await render(gateway_factory, tmp_path, state, lang)
    async with context as client:
        html = parse((await client.get("/om-ai", params={"lang": lang})).text)
        about = (await client.get("/api/about", params={"lang": lang})).json()
        page = Page(lang, html, about, client, rasa, gateway_factory, tmp_path / "reports")
        # every sentence in <main> belongs to a claim (headings and table headers are labels)
        loose = [text.strip() for claim, label, text in html.pieces if claim is None and not label]
        assert loose == [], f"text on the page that is no claim: {loose}"
        shown = list(dict.fromkeys(html.ids()))
        assert [i for i in shown if i not in CHECKS] == []
        # /api/about lists the same claims the page shows (the language table's cells aside)
        assert {c["id"] for c in about["claims"]} == {i for i in shown if not i.startswith("lang_")}
        for claim in about["claims"]:  # the page says what /api/about says it says
            if CLAIMS[claim["id"]][lang]:
                assert claim["text"].replace("|", " ") in html.plain or claim["text"] in html.plain, claim["id"]
        for claim_id in shown:
            await CHECKS[claim_id](page)
    expected = {"no-evaluation": "eval_none", "current-evaluation": "eval_current",
                "outdated-evaluation": "eval_stale", "translation-installed": "lang_good",
                "first-start-model": "model_first"}[state]
    assert expected in shown
    assert ("model_first" in shown) == (state == "first-start-model")


async def test_variants_follow_the_content_files(gateway_factory: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Reviewed answers, an owner and a reviewed page change what the page says, and the
    checks still hold: the page says exactly what the content files say."""
    rasa = Rasa()
    async with gateway_factory(rasa, reports_dir=tmp_path / "none") as client:
        catalogue = client.app.state.services.catalogue
        answer = catalogue.get("utter_faq/bygglov")
        answer.source = dataclasses.replace(answer.source, reviewed_by="Anna Andersson, Stadsbyggnadsförvaltningen",
                                            reviewed="2026-12-01", owner="Bygglovsenheten")
        monkeypatch.setattr(om_ai, "signed", lambda: {"author": "Projektgruppen för AI-assistenten", "owner": "",
                                                      "reviewed_by": "Kommunikationsenheten", "reviewed": "2026-12-02"})
        html = parse((await client.get("/om-ai")).text)
        about = (await client.get("/api/about")).json()
        page = Page("sv", html, about, client, rasa, gateway_factory, tmp_path / "none")
        ids = html.ids()
        assert {"content_review_some", "content_owner_some", "signed_reviewed"} <= set(ids)
        assert "1 av " in html.shown("content_review_some") and "Anna Andersson" in html.shown("content_review_some")
        assert "Bygglovsenheten" in html.shown("content_owner_some")
        for claim_id in ("content_review_some", "content_owner_some", "signed_reviewed"):
            await CHECKS[claim_id](page)


async def test_om_ai_is_generated_from_the_running_system_in_swedish(gateway_factory: Any, tmp_path: Path) -> None:
    model_file = tmp_path / "model-abc.tar.gz"
    model_file.write_bytes(b"model")
    async with gateway_factory(Rasa(model_file), retention_days=45, reports_dir=tmp_path / "reports") as client:
        response = await client.get("/om-ai")
        release = client.app.state.services.release
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    text = page.plain
    assert page.all("html")[0]["lang"] == "sv"
    assert MODEL_ID in text and "model-abc.tar.gz" in text
    assert release.version in text and release.data_hash in text
    assert "45 dagar" in text  # from settings, not written into the page
    assert "Ingen utvärdering har körts för den här versionen" in text
    # what nobody signed is not claimed
    for untrue in ("person med tolk erbjuds", "skrivna av kommunens medarbetare", "Redaktörer på förvaltningarna",
                   "aldrig använts i träningen", "granskningsdatum"):
        assert untrue not in text
    assert "Inget av svaren är ännu granskat av kommunen." in text
    # structure: one h1, captions and header cells on every table, a working skip link
    assert len(page.all("h1")) == 1
    assert len(page.all("table")) == len(page.all("caption")) >= 4
    assert all(th.get("scope") in ("col", "row") for th in page.all("th"))
    assert page.all("a")[0]["href"] == "#innehall" and any(m.get("id") == "innehall" for m in page.all("main"))


async def test_om_ai_in_english_with_a_current_evaluation_of_the_real_hash(
    gateway_factory: Any, tmp_path: Path
) -> None:
    """`make eval` writes scripts/evaluate.py's hash; the page must call that evaluation current."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "eval.json").write_text(json.dumps(eval_report(real_evaluation_hash())), encoding="utf-8")
    (reports / "paraphrases.json").write_text(json.dumps(PARAPHRASES), encoding="utf-8")
    async with gateway_factory(Rasa(), reports_dir=reports) as client:
        english = parse((await client.get("/om-ai", params={"lang": "en"})).text)
        swedish = parse((await client.get("/om-ai")).text)
        about = (await client.get("/api/about")).json()
        bad = await client.get("/om-ai", params={"lang": "de"})
    text = english.plain
    assert english.all("html")[0]["lang"] == "en"
    assert "About the AI assistant" in text and "+46 54 540 00 00" in text
    assert "The evaluation is of the content running now." in text
    assert about["evaluation"]["nlu"]["current"] is True
    assert "Average F1 across topics: 96.1%" in text
    assert "Building permits (faq/bygglov) 98% 95.5% 96.7% 66" in text
    assert "Right topic for common questions 97.3%" in text
    assert "The test questions (321) are written separately" in text
    assert "Genomsnittligt F1-värde över ämnen: 96,1 %" in swedish.plain
    assert "Bygglov (faq/bygglov) 98 % 95,5 % 96,7 % 66" in swedish.plain
    assert bad.status_code == 422


async def test_an_evaluation_of_other_content_is_marked_as_such(gateway_factory: Any, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "eval.json").write_text(json.dumps(eval_report("0" * 16)), encoding="utf-8")
    async with gateway_factory(Rasa(), reports_dir=reports) as client:
        text = parse((await client.get("/om-ai")).text).plain
        about = (await client.get("/api/about")).json()
    assert "gäller en annan version av innehållet" in text
    assert about["evaluation"]["nlu"]["available"] is True and about["evaluation"]["nlu"]["current"] is False


async def test_api_about_gives_the_facts_and_each_claim_with_what_backs_it(
    gateway_factory: Any, tmp_path: Path
) -> None:
    async with gateway_factory(Rasa(), retention_days=60, reports_dir=tmp_path / "none") as client:
        cid, auth = await conversation(client)
        await ask(client, cid, auth, "Behöver jag bygglov?")
        response = await client.get("/api/about", params={"lang": "en"})
        translator = client.app.state.services.translator
    assert response.status_code == 200
    about = response.json()
    assert about["language"] == "en" and about["texts"]["title"] == "About the AI assistant"
    assert about["models"]["nlu"]["model_id"] == MODEL_ID
    assert about["retention_days"] == 60
    assert about["evaluation"]["nlu"] == {"available": False, "current": False}
    assert about["usage"]["answers"] == 1 and about["usage"]["days"] == 30
    tiers = {lang["code"]: lang["tier"] for lang in about["models"]["translation"]["languages"]}
    assert tiers == {info.code: info.tier for info in translator.languages()}
    assert {"faq/bygglov", "faq/parkering_avgift"} <= {t["topic"] for t in about["topics"]}
    claims = {c["id"]: c for c in about["claims"]}
    assert claims["data_retention"]["text"].startswith(
        "The conversation and the basis of each answer are kept for 60 days")
    assert all(c["backed_by"] for c in about["claims"])
    assert about["provenance"]["reviewed"] == 0 and about["signed"]["author"]


async def test_om_ai_still_answers_when_rasa_is_down(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(rasa_down, reports_dir=tmp_path / "none") as client:
        response = await client.get("/om-ai")
    assert response.status_code == 200
    assert "svarar inte just nu" in parse(response.text).plain


def _browser() -> Any:
    from selenium import webdriver

    binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(binary).exists() and Path(chromedriver).exists()):
        pytest.fail(f"Needs Chromium and chromedriver (looked for {binary}, {chromedriver}).")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--disable-background-networking", "--disable-component-update"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))


@pytest.mark.browser
async def test_om_ai_has_no_axe_violations_and_reflows_at_320_px(tmp_path: Path) -> None:
    import asyncio

    from tests.gateway.staff_helpers import served_gateway, settings_for

    axe_file = ROOT / "tests" / "widget" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe_file.exists():
        pytest.fail("axe-core is missing: run `npm ci` in tests/widget.")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "eval.json").write_text(json.dumps(eval_report("x")), encoding="utf-8")
    (reports / "paraphrases.json").write_text(json.dumps(PARAPHRASES), encoding="utf-8")
    settings = settings_for(tmp_path, reports_dir=reports)
    async with served_gateway(settings, Rasa()) as served:
        def check_page() -> tuple[list[Any], list[Any], int, int]:
            driver = _browser()
            try:
                results = []
                for path in ("/om-ai", "/om-ai?lang=en"):
                    driver.get(served.url + path)
                    driver.execute_script(axe_file.read_text(encoding="utf-8"))
                    found = driver.execute_async_script(
                        "const done = arguments[arguments.length - 1];"
                        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
                        ".then(r => done(r.violations.map(v => [v.id, v.nodes.length])));"
                    )
                    results.append(found)
                driver.set_window_size(320, 800)
                driver.get(served.url + "/om-ai")
                widths = driver.execute_script(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                return results[0], results[1], int(widths[0]), int(widths[1])
            finally:
                driver.quit()

        swedish, english, scroll_width, client_width = await asyncio.to_thread(check_page)
    assert swedish == [] and english == []
    assert scroll_width <= client_width  # no sideways scrolling of the page at 320 px
