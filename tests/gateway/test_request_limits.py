"""Request size and time limits, over a real socket to the gateway as uvicorn serves it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.gateway.served_app import production_server, raw_exchange
from tests.gateway.staff_helpers import settings_for


def _head(path: str, length: int | None, extra: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _status_and_body(raw: bytes) -> tuple[int, dict[str, Any], str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}, head.decode("latin-1").lower()


async def test_a_50_mb_body_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    # Only the headers go out: a gateway that reads the body first would wait for 50 MB.
    async with production_server(settings_for(tmp_path)) as (host, port):
        raw, first_byte_s, closed = await raw_exchange(
            host, port, _head("/api/conversations/abc/messages", 50 * 1024 * 1024), b'{"text": "', read_timeout=5)
    assert raw, "no answer within 5 s: the gateway waited for the body"
    status, body, head = _status_and_body(raw)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert "52428800 bytes" in body["error"]["message"] and "at most 65536" in body["error"]["message"]
    assert "connection: close" in head and closed
    assert first_byte_s < 2


async def test_a_streamed_body_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    # No Content-Length (chunked): counted as it arrives; refused although no token was sent.
    chunk = b"x" * 8192
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(12))  # 96 KiB
    async with production_server(settings_for(tmp_path, max_body_bytes=65536)) as (host, port):
        raw, _, _ = await raw_exchange(
            host, port, _head("/api/conversations/abc/messages", None, "Transfer-Encoding: chunked\r\n"),
            chunks, read_timeout=5)
    status, body, _ = _status_and_body(raw)
    assert status == 413, raw[:300]
    assert "at most 65536 bytes" in body["error"]["message"]


async def test_a_half_sent_body_is_answered_408_and_the_connection_closed(tmp_path: Path) -> None:
    async with production_server(settings_for(tmp_path, body_timeout_s=1.0)) as (host, port):
        raw, first_byte_s, closed = await raw_exchange(
            host, port, _head("/api/conversations", 100), b'{"language": ', read_timeout=8)
    assert raw, "the half-sent body held the connection for 8 s"
    status, body, head = _status_and_body(raw)
    assert status == 408
    assert body["error"]["code"] == "request_timeout"
    assert "within 1 seconds" in body["error"]["message"]
    assert 0.9 <= first_byte_s < 4
    assert closed


async def test_an_idle_keep_alive_connection_is_closed(tmp_path: Path) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
    async with production_server(settings_for(tmp_path, keep_alive_s=1)) as (host, port):
        raw, _, closed = await raw_exchange(host, port, request, read_timeout=6)
    assert raw.startswith(b"HTTP/1.1 200")
    assert closed, "the server kept an idle connection open for 6 s"


async def test_ordinary_requests_pass_the_limits(tmp_path: Path) -> None:
    async with production_server(settings_for(tmp_path)) as (host, port):
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            created = await client.post("/api/conversations", json={"language": "sv"})
            assert created.status_code == 201, created.text
            data = created.json()
            auth = {"Authorization": f"Bearer {data['token']}"}
            url = f"/api/conversations/{data['conversation_id']}/messages"
            answered = await client.post(url, headers=auth, json={"text": "å" * 2000})
            assert answered.status_code == 200, answered.text
            # Over 2000 characters but under the byte limit: the schema's own 413.
            too_long = await client.post(url, headers=auth, json={"text": "å" * 2001})
            assert too_long.status_code == 413
            assert "2000" in too_long.json()["error"]["message"]
            assert (await client.get(url, headers=auth)).status_code == 200
