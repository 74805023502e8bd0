"""With the real trained model: every answer's "why" works, and /om-ai names the live model."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway import explain
from gateway.catalogue import Catalogue
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

QUESTIONS = {
    "sv": ["Behöver jag bygglov för att bygga ett garage?", "Hej!", "Vad kostar det att parkera i centrum?"],
    "en": ["Do I need a building permit for a garage?", "When is my bin emptied?"],
}


def test_every_live_answer_has_an_explanation_and_om_ai_shows_the_model(live_stack: Any) -> None:
    base = live_stack.gateway_url
    catalogue = Catalogue.load(ROOT / "nlu_data", ROOT / "bot" / "domain")
    model_id = httpx.get(f"{base}/readyz", timeout=10).json()["checks"]["rasa"]["model_id"]
    assert model_id
    for language, questions in QUESTIONS.items():
        created = httpx.post(f"{base}/api/conversations", json={"language": language}, timeout=30).json()
        cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
        answered = []
        for question in questions:
            turn = httpx.post(f"{base}/api/conversations/{cid}/messages", headers=auth,
                              json={"text": question}, timeout=60)
            assert turn.status_code == 200, turn.text
            answered += [m for m in turn.json()["messages"] if m["role"] == "bot"]
        assert answered
        for answer in answered:
            assert answer["basis_id"], answer
            why = httpx.get(f"{base}/api/conversations/{cid}/basis/{answer['basis_id']}", headers=auth, timeout=30)
            assert why.status_code == 200, why.text
            body = why.json()
            [explanation] = body["explanations"]
            assert explanation["language"] == language
            keys = [p["key"] for p in explanation["points"]]
            assert keys[:2] == ["understood", "certainty"] and "source" in keys and "handoff" in keys
            assert body["record"]["nlu"]["model_id"] == model_id
            topic = body["record"]["nlu"]["topic"]
            if topic:  # what it understood is named the way editors named the topic
                label = explain.topic_label(catalogue, topic, language)
                assert label and label in explanation["points"][0]["text"]
        download = httpx.get(f"{base}/api/conversations/{cid}/basis", headers=auth, timeout=30)
        assert download.status_code == 200
        assert download.json()["chain"]["ok"] is True
        assert {r["id"] for r in download.json()["records"]} == {a["basis_id"] for a in answered}
    page = httpx.get(f"{base}/om-ai", timeout=30)
    assert page.status_code == 200 and model_id in page.text
