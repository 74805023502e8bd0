"""A turn in a non-native language through the gateway, with tiny but real Marian models
(built and trained here, converted with the real CTranslate2 converter)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import rasa_reply
from tests.translation import tiny_models as tm

# The tiny "German" models are the tiny sv<->en models under another language's name: the
# test proves the gateway's path (detect/choose → translate → Rasa → translate back →
# provenance), not translation quality.


@pytest.fixture(scope="module")
def translation_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("gw-models")
    sv_x = tm.build_marian(root / "tiny-sv-de" / "hf", [s for s, _ in tm.SV_EN], [e for _, e in tm.SV_EN])
    tm.train_pairs(sv_x, tm.SV_EN)
    tm.convert_ct2(sv_x, root / "tiny-sv-de" / "ct2")
    pairs = [(f">>swe<< {en}", sv) for en, sv in tm.EN_SV]
    x_sv = tm.build_marian(root / "tiny-de-sv" / "hf", [s for s, _ in pairs], [t for _, t in pairs], seed=1)
    tm.train_pairs(x_sv, pairs)
    tm.convert_ct2(x_sv, root / "tiny-de-sv" / "ct2")
    registry = root / "models.yml"
    registry.write_text(
        textwrap.dedent(
            """
            version: gw-test-1
            quality: {min_mean_logprob: -1.5, min_length_ratio: 0.2, max_length_ratio: 5.0, check_language: false}
            models:
              tiny-sv-de: {hf_id: local/tiny-sv-de, revision: r1, engine: ct2}
              tiny-de-sv: {hf_id: local/tiny-de-sv, revision: r2, engine: ct2}
              not-downloaded: {hf_id: Helsinki-NLP/opus-mt-ar-en, engine: ct2}
            languages:
              sv: {name: Svenska, english: Swedish, native: true}
              en: {name: English, english: English, native: true}
              de: {name: Deutsch, english: German,
                   to_sv: [{model: tiny-de-sv, token: ">>swe<<"}], from_sv: [tiny-sv-de]}
              ar: {name: العربية, english: Arabic, dir: rtl, to_sv: [not-downloaded], from_sv: [not-downloaded]}
            """
        ),
        encoding="utf-8",
    )
    return root, registry


async def _start(client: httpx.AsyncClient, language: str) -> tuple[str, dict[str, str]]:
    created = (await client.post("/api/conversations")).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    cid = created["conversation_id"]
    chosen = await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": language})
    assert chosen.status_code == 200, chosen.text
    return cid, auth


async def test_message_is_translated_answered_and_translated_back_with_provenance(
    gateway_factory: Any, translation_setup: tuple[Path, Path]
) -> None:
    models_dir, registry = translation_setup
    seen: list[dict[str, Any]] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(
            200, json=rasa_reply("hej världen", response_id="utter_greet", intent="greet", topic=None)
        )

    async with gateway_factory(rasa, models_dir=models_dir, translation_registry=registry) as client:
        languages = (await client.get("/api/languages")).json()["languages"]
        assert [lang["available"] for lang in languages if lang["code"] == "de"] == [True]
        assert [lang["available"] for lang in languages if lang["code"] == "ar"] == [False]
        cid, auth = await _start(client, "de")
        response = await client.post(
            f"/api/conversations/{cid}/messages", headers=auth, json={"text": "where is the library"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        # Rasa got Swedish, asked to answer in Swedish.
        assert seen[0]["message"] == "var är biblioteket"
        assert seen[0]["metadata"] == {"language": "sv"}
        assert body["language"]["code"] == "de" and body["language"]["method"] == "explicit"
        [answer] = body["messages"]
        assert answer["text"] == "hello world"
        assert answer["language"] == "de"
        assert answer["machine_translated"] is True
        assert answer["translation"]["model"] == "tiny-sv-de"
        assert answer["translation"]["engine"].startswith("ct2")

        # The basis record keeps both directions' provenance and the Swedish texts.
        basis = (await client.get(f"/api/conversations/{cid}/basis/{answer['basis_id']}", headers=auth)).json()
        record = basis["record"]
        assert record["translation_in"]["model"] == "tiny-de-sv"
        assert record["translation_in"]["text_sv"] == "var är biblioteket"
        assert record["translation_out"]["model"] == "tiny-sv-de"
        assert record["response"]["text_sv"] == "hej världen"


async def test_language_without_models_gets_honest_message_and_a_person(
    gateway_factory: Any, translation_setup: tuple[Path, Path]
) -> None:
    models_dir, registry = translation_setup
    calls: list[Any] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=rasa_reply())

    async with gateway_factory(rasa, models_dir=models_dir, translation_registry=registry) as client:
        cid, auth = await _start(client, "ar")
        body = (
            await client.post(
                f"/api/conversations/{cid}/messages", headers=auth, json={"text": "كيف أتقدم بطلب للحصول على روضة؟"}
            )
        ).json()
        assert calls == []  # nothing untranslated is guessed at by Rasa
        languages = {m["language"] for m in body["messages"]}
        assert {"sv", "en"} <= languages
        swedish = next(m for m in body["messages"] if m["language"] == "sv")
        assert "054-540 00 00" in swedish["text"] and "tolk" in swedish["text"]
        assert body["handoff"]["reason"] == "language_support"
        assert body["handoff"]["status"] in ("waiting", "after_hours")
