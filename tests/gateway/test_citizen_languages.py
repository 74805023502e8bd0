"""What a citizen who writes another language than Swedish or English gets, through the real
translation library with tiny but real Marian models (tests/translation/tiny_models.py):

* fixed lines (translation/notices.yml) under one rule: a line a translator has verified is
  shown as it is; a line nobody has verified is labelled machine-translated, with the Swedish
  and the English text beside it. Every expectation is read from the notices data, so these
  tests keep passing when a translator verifies a line;
* a language of tier ``poor`` (translation/models.yml): the translated answer with the Swedish
  and the English answer beside it, and the offer of a person (with an interpreter);
* the welcome in the browser's language when the assistant has verified text for it,
  otherwise in Swedish and English.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway import texts
from gateway.safety import safety_info
from tests.conftest import rasa_reply
from tests.gateway import language_models
from translation.notices import DEFAULT_NOTICES, Notices

NOTICES = Notices.load()
NOTICE_LANGUAGES = language_models.NOTICE_LANGUAGES
POOR = language_models.POOR
GOOD = language_models.GOOD
QUESTION = "where is the library"  # the tiny model translates it into Swedish


@pytest.fixture(scope="module")
def setup() -> tuple[Path, Path]:
    return language_models.build()


def answering(text: str = "hej världen", response_id: str = "utter_faq/bygglov") -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": "test-model"})
        return httpx.Response(200, json=rasa_reply(text, response_id=response_id))

    return handler


async def start_in(client: httpx.AsyncClient, language: str) -> tuple[str, dict[str, str]]:
    created = (await client.post("/api/conversations")).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    chosen = await client.post(f"/api/conversations/{created['conversation_id']}/language",
                               headers=auth, json={"language": language})
    assert chosen.status_code == 200, chosen.text
    return created["conversation_id"], auth


async def ask(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str = QUESTION) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def verified_lines(notices: Notices) -> set[tuple[str, str]]:
    return {(lang, n.text) for langs in notices.entries.values() for lang, n in langs.items() if n.verified}


def assert_the_rule(messages: list[dict[str, Any]], notices: Notices) -> None:
    """Nothing in another language than sv/en is shown as checked unless a translator
    verified it, and whatever is labelled has its Swedish and English beside it."""
    checked = verified_lines(notices)
    for m in messages:
        if m["language"] in ("sv", "en") or m["role"] != "bot":
            continue
        if not m["machine_translated"]:
            assert (m["language"], m["text"]) in checked, f"shown as checked but nobody verified it: {m}"
        assert {"sv", "en"} <= {x["language"] for x in messages}, f"no Swedish and English beside: {m}"


def with_verified(tmp_path: Path, changes: dict[tuple[str, str], dict[str, Any]]) -> Notices:
    """The project's notices with some lines changed, as a translator would change them."""
    data = yaml.safe_load(DEFAULT_NOTICES.read_text(encoding="utf-8"))
    for (key, lang), line in changes.items():
        data["notices"].setdefault(key, {})[lang] = line
    path = tmp_path / "notices.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Notices.load(path)


# ---- 7. fixed lines: verified as they are, unverified labelled with sv + en ----------------
async def test_untranslatable_answer_shows_each_languages_line_as_the_notices_file_says(
    gateway_factory: Any, setup: tuple[Path, Path]
) -> None:
    models, registry = setup
    sv_line, en_line = NOTICES.notice("answer_in_sv_en", "sv"), NOTICES.notice("answer_in_sv_en", "en")
    assert sv_line is not None and en_line is not None
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        for lang in NOTICE_LANGUAGES:
            if lang in (GOOD, POOR):
                continue
            cid, auth = await start_in(client, lang)
            messages = (await ask(client, cid, auth))["messages"]
            line = NOTICES.notice("answer_in_sv_en", lang)
            assert line is not None
            first = messages[0]
            assert (first["language"], first["text"]) == (lang, line.text), lang
            assert first["machine_translated"] is (not line.verified), lang
            texts_after = [(m["language"], m["text"]) for m in messages[1:]]
            if not line.verified:  # its Swedish and English right beside it
                assert texts_after[:2] == [("sv", sv_line.text), ("en", en_line.text)], lang
            assert ("sv", "hej världen") in texts_after, lang  # the answer itself, in Swedish
            assert_the_rule(messages, NOTICES)


async def test_a_line_a_translator_verified_is_shown_as_it_is(
    gateway_factory: Any, setup: tuple[Path, Path], tmp_path: Path
) -> None:
    models, registry = setup
    verified_lang, other = NOTICE_LANGUAGES[0], NOTICE_LANGUAGES[1]
    line = NOTICES.notice("answer_in_sv_en", verified_lang)
    assert line is not None
    notices = with_verified(tmp_path, {
        ("answer_in_sv_en", verified_lang): {"verified": True, "text": line.text},
        ("answer_in_sv_en", other): {"verified": False, "text": "unchecked line"},
    })
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        client.app.state.services.translator.notices = notices
        cid, auth = await start_in(client, verified_lang)
        shown = (await ask(client, cid, auth))["messages"]
        cid, auth = await start_in(client, other)
        unchecked = (await ask(client, cid, auth))["messages"]
    assert shown[0]["text"] == line.text and shown[0]["machine_translated"] is False
    assert unchecked[0]["text"] == "unchecked line" and unchecked[0]["machine_translated"] is True
    assert_the_rule(shown, notices)
    assert_the_rule(unchecked, notices)


async def test_unverified_line_is_explained_as_unchecked_in_the_basis_record(
    gateway_factory: Any, setup: tuple[Path, Path], tmp_path: Path
) -> None:
    models, registry = setup
    lang = NOTICE_LANGUAGES[0]
    notices = with_verified(tmp_path, {("answer_in_sv_en", lang): {"verified": False, "text": "unchecked line"}})
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        client.app.state.services.translator.notices = notices
        cid, auth = await start_in(client, lang)
        first = (await ask(client, cid, auth))["messages"][0]
        why = (await client.get(f"/api/conversations/{cid}/basis/{first['basis_id']}", headers=auth)).json()
    assert why["record"]["translation_out"]["engine"] == "notice"
    assert why["record"]["translation_out"]["verified"] is False
    said = {p["key"]: p["text"] for p in why["explanations"][0]["points"]}
    assert "ingen översättare har kontrollerat den" in said["translation_out"]


@pytest.mark.parametrize("lang", NOTICE_LANGUAGES)
async def test_a_question_that_cannot_be_translated_gets_its_line_labelled_as_the_data_says(
    gateway_factory: Any, lang: str
) -> None:
    """No model at all: the question goes to a person, and the citizen reads why in their
    language (labelled unless a translator verified the line) and in Swedish and English."""
    line = NOTICES.notice("no_translation", lang)
    assert line is not None
    async with gateway_factory(answering()) as client:  # no models installed
        cid, auth = await start_in(client, lang)
        body = await ask(client, cid, auth)
    assert body["handoff"]["reason"] == "language_support"
    assert [(m["language"], m["text"], m["machine_translated"]) for m in body["messages"]] == [
        (lang, line.text, not line.verified),
        ("sv", texts.text("no_translation", "sv"), False),
        ("en", texts.text("no_translation", "en"), False),
    ]
    assert_the_rule(body["messages"], NOTICES)


async def test_a_line_that_translates_another_text_is_never_used(gateway_factory: Any, tmp_path: Path) -> None:
    """A line stands only for the Swedish text it translates: once the gateway's text
    changes, the old line (even a verified one) is not shown as if it said the new one."""
    lang = NOTICE_LANGUAGES[0]
    notices = with_verified(tmp_path, {
        ("no_translation", "sv"): {"verified": True, "text": "En äldre svensk text."},
        ("no_translation", lang): {"verified": True, "text": "an older line"},
    })
    async with gateway_factory(answering()) as client:
        client.app.state.services.translator.notices = notices
        cid, auth = await start_in(client, lang)
        body = await ask(client, cid, auth)
    assert [m["text"] for m in body["messages"]] == [texts.text("no_translation", "sv"),
                                                     texts.text("no_translation", "en")]


@pytest.mark.parametrize("verified", [True, False])
async def test_safety_information_follows_the_same_rule(
    gateway_factory: Any, setup: tuple[Path, Path], tmp_path: Path, verified: bool
) -> None:
    models, registry = setup
    notices = with_verified(tmp_path, {
        ("safety_info", "sv"): {"verified": True, "text": safety_info("sv")},
        ("safety_info", "en"): {"verified": True, "text": safety_info("en")},
        ("safety_info", GOOD): {"verified": verified, "text": "Notruf 112."},
    })
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        client.app.state.services.translator.notices = notices
        cid, auth = await start_in(client, GOOD)
        messages = (await ask(client, cid, auth, "jag vill ta livet av mig"))["messages"]
    safety = [m for m in messages if m.get("safety") or "112" in m["text"]]
    assert [(m["language"], m["machine_translated"]) for m in safety] == [
        (GOOD, not verified), ("sv", False), ("en", False)]
    assert safety[1]["text"] == safety_info("sv") and safety[2]["text"] == safety_info("en")
    assert_the_rule(messages, notices)


# ---- 5. tier poor: the answer in Swedish and English too, and a person offered ---------------
async def test_poor_tier_language_gets_swedish_english_and_the_offer_of_a_person(
    gateway_factory: Any, setup: tuple[Path, Path]
) -> None:
    models, registry = setup
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        tiers = {i.code: i.tier for i in client.app.state.services.translator.languages()}
        cid, auth = await start_in(client, POOR)
        poor = (await ask(client, cid, auth))["messages"]
        cid, auth = await start_in(client, GOOD)
        good = (await ask(client, cid, auth))["messages"]
        catalogue = client.app.state.services.catalogue
    async with gateway_factory(answering(response_id="utter_greet"), models_dir=models,
                               translation_registry=registry) as client:
        cid, auth = await start_in(client, POOR)
        small_talk = (await ask(client, cid, auth))["messages"]
    assert tiers[POOR] == "poor" and tiers[GOOD] == "good"
    # tier good: the machine translation, labelled, and nothing else
    assert [(m["language"], m["machine_translated"]) for m in good] == [(GOOD, True)]
    # tier poor: the same translation, then the Swedish and the English answer, then the offer
    assert (poor[0]["language"], poor[0]["text"], poor[0]["machine_translated"]) == (POOR, "hello world", True)
    assert ("sv", "hej världen") == (poor[1]["language"], poor[1]["text"])
    assert ("en", catalogue.get("utter_faq/bygglov").text("en")) == (poor[2]["language"], poor[2]["text"])
    offer = [m for m in poor[3:] if m["language"] in ("sv", "en")]
    assert [m["text"] for m in offer] == [texts.text("interpreter_offer", "sv"), texts.text("interpreter_offer", "en")]
    assert "054-540 00 00" in offer[0]["text"] and "tolk" in offer[0]["text"]
    assert_the_rule(poor, NOTICES)
    assert [m["language"] for m in small_talk] == [POOR]  # "hej" needs no offer of a person


# ---- 8. the welcome in the browser's language --------------------------------------------
async def create(client: httpx.AsyncClient, body: dict[str, Any] | None) -> httpx.Response:
    return await client.post("/api/conversations", json=body)


def welcome_lines(notices: Notices, lang: str) -> bool:
    """Whether the notices data has a verified welcome for ``lang`` (none today)."""
    line = notices.entries.get("welcome", {}).get(lang)
    return bool(line and line.verified and notices.entries["welcome"].get("sv")
                and notices.entries["welcome"]["sv"].text == texts.text("welcome", "sv"))


@pytest.mark.parametrize("preferred, expected", [
    (["en-US", "en"], ["en"]),
    (["sv-SE", "sv", "en"], ["sv"]),
    (["nb-NO", "en"], ["sv"]),  # Norwegian is served in Swedish
    (["de-DE", "en-GB"], ["en"]),  # the first language with a welcome nobody has to guess at
    (["de-DE", "fr"], ["sv", "en"]),
])
async def test_welcome_starts_in_the_browsers_language_when_it_is_written_or_verified(
    gateway_factory: Any, setup: tuple[Path, Path], preferred: list[str], expected: list[str]
) -> None:
    models, registry = setup
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        body = (await create(client, {"preferred_languages": preferred})).json()
        notices = client.app.state.services.translator.notices
    if expected == ["sv", "en"] and welcome_lines(notices, "de"):
        expected = ["de", "sv", "en"]  # a translator has verified German: it starts in German
    assert [m["language"] for m in body["messages"]] == expected
    assert body["language"]["code"] == expected[0]
    for m in body["messages"]:
        assert m["text"] == (texts.text("welcome", m["language"]) if m["language"] in ("sv", "en") else m["text"])
        assert m["machine_translated"] is False


async def test_welcome_in_a_language_whose_welcome_a_translator_verified(
    gateway_factory: Any, setup: tuple[Path, Path], tmp_path: Path
) -> None:
    models, registry = setup
    welcome_sv, welcome_en = texts.text("welcome", "sv"), texts.text("welcome", "en")
    notices = with_verified(tmp_path, {
        ("welcome", "sv"): {"verified": True, "text": welcome_sv},
        ("welcome", "en"): {"verified": True, "text": welcome_en},
        ("welcome", GOOD): {"verified": True, "text": "Hallo! Ich bin ein KI-Assistent."},
        ("welcome", POOR): {"verified": False, "text": "Soo dhawoow!"},
    })
    async with gateway_factory(answering(), models_dir=models, translation_registry=registry) as client:
        client.app.state.services.translator.notices = notices
        verified = (await create(client, {"preferred_languages": [f"{GOOD}-AT", "en"]})).json()
        unverified = (await create(client, {"preferred_languages": [POOR, "en"]})).json()
        chosen = (await create(client, {"language": POOR})).json()
    assert verified["language"]["code"] == GOOD
    assert [(m["language"], m["machine_translated"]) for m in verified["messages"]] == [
        (GOOD, False), ("sv", False), ("en", False)]
    assert verified["messages"][0]["text"] == "Hallo! Ich bin ein KI-Assistent."
    # not verified: the browser's next language that has one
    assert unverified["language"]["code"] == "en" and [m["language"] for m in unverified["messages"]] == ["en"]
    # chosen explicitly: the unverified line, labelled, with Swedish and English beside it
    assert [(m["language"], m["machine_translated"]) for m in chosen["messages"]] == [
        (POOR, True), ("sv", False), ("en", False)]
    assert_the_rule(chosen["messages"], notices)


async def test_a_preferred_language_that_is_not_a_code_is_refused_clearly(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        bad = await create(client, {"preferred_languages": ["en", "<script>"]})
        many = await create(client, {"preferred_languages": ["en"] * 21})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("preferred_languages.1: String should match pattern")
    assert many.status_code == 422
    assert many.json()["error"]["message"] == (
        "preferred_languages: List should have at most 20 items after validation, not 21")
