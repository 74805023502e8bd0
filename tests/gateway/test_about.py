"""The About-AI page (/om-ai) and /api/about: generated from what is running, never hand-written."""
from __future__ import annotations

import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.routes.about import evaluation_data_hash
from gateway.settings import ROOT
from tests.conftest import rasa_reply

MODEL_ID = "7f3c2b1a-model-under-test"


def rasa_with_model(model_file: Path | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": MODEL_ID,
                                             "model_file": str(model_file) if model_file else None})
        return httpx.Response(200, json=rasa_reply("Du behöver ofta bygglov."))

    return handler


def rasa_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


def eval_report(data_hash: str) -> dict[str, Any]:
    return {
        "generated_at": "2026-11-28T21:14:03+00:00",
        "data_hash": data_hash,
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


class Structure(HTMLParser):
    """What assistive technology relies on: headings, table captions and header cells, lang."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> Structure:
    page = Structure()
    page.feed(html)
    return page


async def test_om_ai_shows_the_running_models_release_retention_and_no_evaluation(
    gateway_factory: Any, tmp_path: Path
) -> None:
    model_file = tmp_path / "model-abc.tar.gz"
    model_file.write_bytes(b"model")
    async with gateway_factory(rasa_with_model(model_file), retention_days=45,
                               reports_dir=tmp_path / "reports") as client:
        response = await client.get("/om-ai")
        release = client.app.state.services.release
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    text = page.plain
    assert page.all("html")[0]["lang"] == "sv"
    assert MODEL_ID in text and "model-abc.tar.gz" in text
    assert release.version in text and release.data_hash[:12] in text
    assert "45 dagar" in text  # from settings, not written into the page
    assert "Ingen utvärdering har körts för den här versionen" in text
    assert "fattar aldrig beslut" in text
    assert "somaliska" in text and "begränsad maskinöversättning" in text  # poor tier, from the registry
    assert "054-540 00 00" in text
    # structure: one h1, captions and header cells on every table, a working skip link
    assert len(page.all("h1")) == 1
    assert len(page.all("table")) == len(page.all("caption")) >= 4
    assert all(th.get("scope") in ("col", "row") for th in page.all("th"))
    assert page.all("a")[0]["href"] == "#innehall" and any(m.get("id") == "innehall" for m in page.all("main"))


async def test_om_ai_in_english_with_current_evaluation_and_paraphrase_figures(
    gateway_factory: Any, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    current = evaluation_data_hash(ROOT / "config.yml", ROOT / "nlu_data")
    (reports / "eval.json").write_text(json.dumps(eval_report(current)), encoding="utf-8")
    (reports / "paraphrases.json").write_text(json.dumps({
        "generated_at": "2026-11-28T22:00:00+00:00", "faq_topic_accuracy": 0.9731,
        "acute_sensitive_recall": 1.0, "faq_false_handoff_rate": 0.012,
    }), encoding="utf-8")
    async with gateway_factory(rasa_with_model(), reports_dir=reports) as client:
        english = parse((await client.get("/om-ai", params={"lang": "en"})).text)
        swedish = parse((await client.get("/om-ai")).text)
        bad = await client.get("/om-ai", params={"lang": "de"})
    text = english.plain
    assert english.all("html")[0]["lang"] == "en"
    assert "About the AI assistant" in text and "+46 54 540 00 00" in text
    assert "The evaluation is of the training data running now." in text
    assert "Average F1 across topics: 96.1%" in text
    assert "Building permits (faq/bygglov) 98% 95.5% 96.7% 66" in text
    assert "Right topic for common questions 97.3%" in text
    assert "Common questions needlessly passed to a person 1.2%" in text
    assert "Genomsnittligt F1-värde över ämnen: 96,1 %" in swedish.plain
    assert "Bygglov (faq/bygglov) 98 % 95,5 % 96,7 % 66" in swedish.plain
    assert bad.status_code == 422


async def test_an_evaluation_of_older_data_is_marked_as_such(gateway_factory: Any, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "eval.json").write_text(json.dumps(eval_report("0" * 64)), encoding="utf-8")
    async with gateway_factory(rasa_with_model(), reports_dir=reports) as client:
        text = parse((await client.get("/om-ai")).text).plain
        about = (await client.get("/api/about")).json()
    assert "gäller en tidigare version av träningsdatan" in text
    assert about["evaluation"]["nlu"]["available"] is True and about["evaluation"]["nlu"]["current"] is False


async def test_api_about_gives_the_same_facts_as_json_with_live_usage(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(rasa_with_model(), retention_days=60, reports_dir=tmp_path / "none") as client:
        created = (await client.post("/api/conversations")).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        await client.post(f"/api/conversations/{created['conversation_id']}/messages", headers=auth,
                          json={"text": "Behöver jag bygglov?"})
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
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
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
    settings = settings_for(tmp_path, reports_dir=reports)
    async with served_gateway(settings, rasa_with_model()) as served:
        def check() -> tuple[list[Any], list[Any], int, int]:
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

        swedish, english, scroll_width, client_width = await asyncio.to_thread(check)
    assert swedish == [] and english == []
    assert scroll_width <= client_width  # no sideways scrolling of the page at 320 px
