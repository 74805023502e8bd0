"""Security headers on every response of every area, errors included."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.middleware import HeaderPolicy, PolicyError
from tests.gateway.served_app import production_server
from tests.gateway.staff_helpers import settings_for


def _directives(response: httpx.Response) -> dict[str, str]:
    csp = response.headers.get("content-security-policy", "")
    return {part.split()[0]: part.strip() for part in csp.split(";") if part.strip()}


def _common(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where
    assert "content-security-policy" in response.headers, where


async def _conversation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    data = (await client.post("/api/conversations", json={"language": "sv"})).json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def test_citizen_api_responses_are_not_stored_framed_or_sniffed(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await _conversation(client)
        responses = [
            await client.get("/api/languages"),
            await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "Hej"}),
            await client.get(f"/api/conversations/{cid}/messages", headers=auth),  # the transcript
            await client.get(f"/api/conversations/{cid}/messages"),  # 401
            await client.get("/api/conversations/nope/messages", headers=auth),  # 404
            await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": ""}),  # 422
            await client.get("/staff/api/queue"),  # staff API without a session: 401
        ]
        for response in responses:
            _common(response)
            assert response.headers.get("cache-control") == "no-store", response.request.url
            assert _directives(response)["frame-ancestors"] == "frame-ancestors 'none'"
            assert _directives(response)["default-src"] == "default-src 'none'"
        assert [r.status_code for r in responses] == [200, 200, 200, 401, 404, 422, 401]


@contextlib.asynccontextmanager
async def _client(settings: Any, rasa: Any = None) -> AsyncIterator[httpx.AsyncClient]:
    """In-process, but like a server: an exception the app re-raises after answering (as
    Starlette does for unexpected errors) does not reach the test."""
    from gateway.main import create_app

    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa or (lambda r: httpx.Response(500))))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_an_unexpected_error_still_carries_the_headers(tmp_path: Path) -> None:
    def broken_rasa(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not json")  # the gateway does not expect this

    async with _client(settings_for(tmp_path), broken_rasa) as client:
        cid, auth = await _conversation(client)
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "Hej"})
    assert response.status_code == 503
    _common(response)
    assert response.headers.get("cache-control") == "no-store"


async def test_public_pages_may_be_framed_by_karlstad_se_only(gateway_factory: Any) -> None:
    async with gateway_factory(allowed_origins=["https://www.example-kommun.se"]) as client:
        for path in ("/", "/om-ai", "/widget/widget.js"):
            response = await client.get(path)
            assert response.status_code == 200, path
            _common(response)
            ancestors = _directives(response)["frame-ancestors"].split()[1:]
            assert ancestors == ["'self'", "https://karlstad.se", "https://*.karlstad.se",
                                 "https://www.example-kommun.se"], path
            assert "x-frame-options" not in response.headers  # it cannot name karlstad.se
            assert "'unsafe-inline'" not in _directives(response)["script-src"]
        console = await client.get("/staff")
        _common(console)
        assert _directives(console)["frame-ancestors"] == "frame-ancestors 'none'"
        assert console.headers["x-frame-options"] == "DENY"
        assert console.headers["cache-control"] == "no-store"
        missing = await client.get("/no-such-page")
        assert missing.status_code == 404
        _common(missing)


def test_an_origin_that_would_break_the_policy_is_refused() -> None:
    with pytest.raises(PolicyError, match="'https://evil.example; script-src \\*' cannot be used"):
        HeaderPolicy.build(["https://evil.example; script-src *"], [])


async def test_every_429_says_when_to_try_again(gateway_factory: Any) -> None:
    async with gateway_factory(create_rate_limit_per_minute=1, rate_limit_per_minute=1) as client:
        cid, auth = await _conversation(client)
        refused = await client.post("/api/conversations")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        url = f"/api/conversations/{cid}/messages"
        assert (await client.post(url, headers=auth, json={"text": "Hej"})).status_code == 200
        fast = await client.post(url, headers=auth, json={"text": "Hej igen"})
        assert fast.status_code == 429
        assert int(fast.headers["retry-after"]) >= 1
        _common(fast)


async def test_production_serves_no_api_docs_and_lists_no_staff_api(tmp_path: Path, gateway_factory: Any) -> None:
    production = settings_for(tmp_path).model_copy(update={"environment": "production"})
    async with _client(production) as client:
        assert (await client.get("/api/docs")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        spec = (await client.get("/api/openapi.json")).json()
        assert "/api/conversations" in spec["paths"]
        assert [p for p in spec["paths"] if p.startswith("/staff")] == []
    async with gateway_factory() as client:  # development and test keep them
        assert (await client.get("/api/docs")).status_code == 200
        assert any(p.startswith("/staff/api/") for p in (await client.get("/api/openapi.json")).json()["paths"])


async def test_the_server_does_not_name_its_software(tmp_path: Path) -> None:
    async with production_server(settings_for(tmp_path)) as (host, port):
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            for path in ("/healthz", "/api/languages", "/staff"):
                response = await client.get(path)
                assert "server" not in response.headers, (path, response.headers)
                _common(response)
