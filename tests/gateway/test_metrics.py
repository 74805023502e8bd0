"""/metrics: what IT's Prometheus reads from a gateway after citizens' turns.

Each test builds its own gateway (its own registry) with a fake Rasa, makes turns through
the citizen API and reads /metrics as Prometheus would, parsed with the client library's
own text parser.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import rasa_reply

SECRET = "Zebrakaktus Oskarsson 4711"  # citizen text that must never reach the metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition as {(name, sorted labels): value}."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def start(client: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/conversations", json=body or None)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def say(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str, status: int = 200) -> Any:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == status, response.text
    return response.json()


async def test_answered_turn_counts_language_outcome_topic_and_stage_latencies(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        before = await scrape(client)
        assert value(before, "karlstad_turns_total", language="sv", outcome="answered", topic="faq/bygglov") is None
        assert value(before, "karlstad_stage_duration_seconds_count", stage="rasa") == 0
        cid, auth = await start(client)
        await say(client, cid, auth, "Behöver jag bygglov för ett garage?")
        await say(client, cid, auth, "Och för en carport?")
        after = await scrape(client)
    assert value(after, "karlstad_turns_total", language="sv", outcome="answered", topic="faq/bygglov") == 2
    assert value(after, "karlstad_turn_duration_seconds_count", outcome="answered") == 2
    assert value(after, "karlstad_stage_duration_seconds_count", stage="rasa") == 2
    assert value(after, "karlstad_stage_duration_seconds_count", stage="detection") == 2
    assert (value(after, "karlstad_stage_duration_seconds_count", stage="database") or 0) >= 4  # read + write a turn
    assert (value(after, "karlstad_stage_duration_seconds_sum", stage="rasa") or 0) > 0
    assert value(after, "karlstad_handoffs_total", reason="request_human", acute="false") is None


async def test_fallback_and_did_you_mean_turns_have_their_own_outcome(gateway_factory: Any) -> None:
    replies = iter([
        rasa_reply("Jag förstod inte. Kan du formulera om?", response_id="utter_ask_rephrase",
                   intent="nlu_fallback", topic=None, confidence=0.2),
        rasa_reply("Menade du …?", response_id="utter_did_you_mean", intent="faq_ambiguous",
                   topic="faq/skolval", buttons=[{"title": "Skolval", "payload": "/choose"}]),
    ])

    def rasa(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(replies) if request.method == "POST" else {"ready": True})

    async with gateway_factory(rasa) as client:
        cid, auth = await start(client)
        await say(client, cid, auth, "Blorp fnurr?")
        await say(client, cid, auth, "Skola byta")
        text = await scrape(client)
    assert value(text, "karlstad_turns_total", language="sv", outcome="fallback", topic="none") == 1
    assert value(text, "karlstad_turns_total", language="sv", outcome="did_you_mean", topic="faq/skolval") == 1
    assert value(text, "karlstad_turns_total", language="sv", outcome="answered", topic="faq/skolval") is None


async def test_handoff_turn_counts_the_ticket_and_the_queue_shows_it_waiting(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=rasa_reply("Jag kopplar dig till en person.", response_id="utter_handoff",
                                                   intent="request_human", topic=None,
                                                   handoff={"reason": "request_human", "acute": False}))

    async with gateway_factory(rasa) as client:
        empty = await scrape(client)
        assert value(empty, "karlstad_queue_tickets", status="waiting", priority="normal") == 0
        cid, auth = await start(client)
        body = await say(client, cid, auth, "Jag vill prata med en människa")
        assert body["handoff"]["status"] == "waiting"
        await say(client, cid, auth, "Hallå, är någon där?")  # goes to staff, not to Rasa
        text = await scrape(client)
    assert value(text, "karlstad_turns_total", language="sv", outcome="handoff", topic="none") == 1
    assert value(text, "karlstad_turns_total", language="sv", outcome="to_staff", topic="none") == 1
    assert value(text, "karlstad_handoffs_total", reason="request_human", acute="false") == 1
    assert value(text, "karlstad_queue_tickets", status="waiting", priority="normal") == 1
    assert value(text, "karlstad_queue_tickets", status="waiting", priority="acute") == 0
    assert value(text, "karlstad_queue_oldest_waiting_seconds", priority="normal") is not None
    assert value(text, "karlstad_queue_oldest_waiting_seconds", priority="acute") == 0
    assert value(text, "karlstad_database_up") == 1


async def test_acute_message_counts_an_acute_handoff_and_the_acute_queue(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start(client)
        body = await say(client, cid, auth, "Jag vill ta mitt liv")
        assert body["handoff"] is not None
        text = await scrape(client)
    assert value(text, "karlstad_handoffs_total", reason="sensitive/suicide", acute="true") == 1
    waiting = sum(value(text, "karlstad_queue_tickets", status=s, priority="acute") or 0
                  for s in ("waiting", "active", "after_hours"))
    assert waiting == 1


async def test_untranslatable_question_counts_a_failed_translation_and_a_language_handoff(
    gateway_factory: Any,
) -> None:
    async with gateway_factory() as client:  # no translation models installed
        created = (await client.post("/api/conversations")).json()
        cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
        chosen = await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": "ar"})
        assert chosen.status_code == 200, chosen.text
        body = await say(client, cid, auth, "هل أحتاج إلى رخصة بناء؟")
        assert body["handoff"]["reason"] == "language_support"
        text = await scrape(client)
    assert value(text, "karlstad_turns_total", language="ar", outcome="handoff", topic="none") == 1
    assert value(text, "karlstad_handoffs_total", reason="language_support", acute="false") == 1
    assert (value(text, "karlstad_errors_total", kind="translation_failed") or 0) >= 1
    assert (value(text, "karlstad_stage_duration_seconds_count", stage="translation") or 0) >= 1
    assert value(text, "karlstad_stage_duration_seconds_count", stage="rasa") == 0  # nothing to send


async def test_no_citizen_text_and_no_made_up_topic_in_the_metrics(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:  # a topic the release has no answer for
        return httpx.Response(200, json=rasa_reply("Svar.", topic="faq/Zebrakaktus Oskarsson"))

    async with gateway_factory(rasa) as client:
        cid, auth = await start(client)
        await say(client, cid, auth, f"{SECRET}, ring mig på 070-123 45 67")
        text = await scrape(client)
    assert value(text, "karlstad_turns_total", language="sv", outcome="answered", topic="other") == 1
    for fragment in ("Zebrakaktus", "Oskarsson", "4711", "070-123", "ring mig"):
        assert fragment not in text


async def test_rasa_down_counts_an_error_and_shows_the_replica_down(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with gateway_factory(rasa, rasa_url="http://127.0.0.1:5005") as client:
        cid, auth = await start(client)
        await say(client, cid, auth, "Behöver jag bygglov?", status=503)
        text = await scrape(client)
    assert value(text, "karlstad_errors_total", kind="rasa_unavailable") == 1
    assert value(text, "karlstad_errors_total", kind="internal") == 0
    assert value(text, "karlstad_replica_up", kind="rasa", url="http://127.0.0.1:5005") == 0
    assert value(text, "karlstad_replica_up", kind="action_server", url="http://127.0.0.1:5055") == 0


async def test_healthy_replicas_release_and_model_are_reported(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/karlstad/":
            assert request.headers["Authorization"] == "Bearer test-token-0123456789"
            return httpx.Response(200, json={"ready": True, "model_id": "model-abc"})
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(200, json=rasa_reply())

    async with gateway_factory(rasa, release="2026.11-test") as client:
        text = await scrape(client)
    assert value(text, "karlstad_replica_up", kind="rasa", url="http://127.0.0.1:5005") == 1
    assert value(text, "karlstad_replica_up", kind="action_server", url="http://127.0.0.1:5055") == 1
    assert value(text, "karlstad_replica_model_info", url="http://127.0.0.1:5005", model_id="model-abc") == 1
    builds = [labels for (name, labels), _ in samples(text).items() if name == "karlstad_build_info"]
    assert len(builds) == 1 and dict(builds[0])["version"] == "2026.11-test"


async def test_metrics_refused_through_a_proxy_or_from_another_address(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        proxied = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403
        assert "loopback" in proxied.json()["error"]["message"]
        assert "karlstad_turns_total" not in proxied.text
        app = client.app  # type: ignore[attr-defined]
        remote = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=remote, base_url="http://gateway") as outside:
            response = await outside.get("/metrics")
        assert response.status_code == 403
        assert "GATEWAY_METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("header, status", [
    (None, 401), ("Bearer wrong-token-0123456789", 401), ("Bearer scrape-token-0123456789", 200),
])
async def test_metrics_token_is_required_when_set(gateway_factory: Any, header: str | None, status: int) -> None:
    async with gateway_factory(metrics_token="scrape-token-0123456789") as client:
        app = client.app  # type: ignore[attr-defined]
        remote = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=remote, base_url="http://gateway") as outside:
            response = await outside.get("/metrics", headers={"Authorization": header} if header else {})
        assert response.status_code == status, response.text
        if status == 401:
            assert "Authorization: Bearer" in response.json()["error"]["message"]
        else:
            assert "karlstad_turns_total" in response.text or "karlstad_errors_total" in response.text


def test_short_metrics_token_refused_in_production() -> None:
    from gateway.settings import Settings

    with pytest.raises(ValueError, match="GATEWAY_METRICS_TOKEN is a placeholder or shorter than 16"):
        Settings(environment="production", rasa_token="r" * 32, metrics_token="short")
