"""The gateway's HTTP client for Rasa (gateway/loopback_http.py) against a real HTTP server on
loopback: connections kept and reused, closed ones not reused, the framings Rasa's server
may use, and every failure a turn must see as "this Rasa did not answer"."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from gateway.loopback_http import LoopbackHTTP
from gateway.rasa_client import CHANNEL_PATH, RasaClient, RasaReplicaError, RasaUnavailableError

Handler = Callable[[str, dict[str, str], bytes], Awaitable[bytes | None]]


class Server:
    """An HTTP/1.1 server that answers each request with ``handler``'s raw response bytes
    (None: close the connection without answering) and counts its connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                pairs = (line.partition(":") for line in lines[1:] if line)
                headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, body))
                out = await self.handler(lines[0], headers, body)
                if out is None:
                    break
                writer.write(out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[tuple[Server, str]]:
    server = Server(handler)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        listener.close()


def response(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def rasa_answer(message: str) -> bytes:
    return json.dumps({"messages": [{"text": f"Du skrev: {message}", "utter_action": "utter_faq/bygglov"}],
                       "parse": {"intent": {"name": "faq", "confidence": 0.97}}, "actions": [],
                       "model_id": "m1"}, ensure_ascii=False).encode()


async def echo(_line: str, _headers: dict[str, str], body: bytes) -> bytes:
    return response(rasa_answer(json.loads(body)["message"]))


async def test_turns_reuse_one_connection_and_carry_swedish_text_and_the_token() -> None:
    async with serving(echo) as (server, url):
        client = RasaClient(url, "secret-token", 5.0)
        try:
            for question in ("Behöver jag bygglov?", "När töms soptunnan?", "Var ligger återvinningscentralen?"):
                reply = await client.send("c1", question, "sv")
                assert reply.messages[0].text == f"Du skrev: {question}"
                assert reply.messages[0].response_id == "utter_faq/bygglov"
                assert reply.model_id == "m1"
        finally:
            await client.close()
    assert server.connections == 1
    line, headers, body = server.requests[0]
    assert line == f"POST {CHANNEL_PATH} HTTP/1.1"
    assert headers["authorization"] == "Bearer secret-token"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"sender": "c1", "message": "Behöver jag bygglov?", "metadata": {"language": "sv"}}


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    async with serving(echo) as (server, url):
        http = LoopbackHTTP(url, {}, timeout_s=5.0, connect_timeout_s=1.0)
        try:
            status, _ = await http.request("POST", CHANNEL_PATH, json.dumps({"message": "a"}).encode())
            assert status == 200
            # the server drops its idle connections (Sanic does after 5 s): the next request
            # must open a new one, not fail on the closed one
            for conn in list(http._idle):
                conn.writer.transport.abort()
            await asyncio.sleep(0.05)
            status, body = await http.request("POST", CHANNEL_PATH, json.dumps({"message": "b"}).encode())
            assert status == 200 and b"Du skrev: b" in body
        finally:
            await http.close()
    assert server.connections == 2


async def test_connection_close_chunked_and_unframed_responses_are_read_whole() -> None:
    payload = rasa_answer("hej")
    chunked = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
               + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:10], payload[10:]))
               + b"0\r\n\r\n")
    answers = iter([chunked, response(payload, extra="connection: close\r\n")])

    async def framed(_line: str, _headers: dict[str, str], _body: bytes) -> bytes | None:
        return next(answers, None)

    async with serving(framed) as (server, url):
        http = LoopbackHTTP(url, {}, timeout_s=5.0, connect_timeout_s=1.0)
        try:
            assert await http.request("GET", "/a") == (200, payload)  # chunked: connection kept
            assert await http.request("GET", "/b") == (200, payload)  # then closed as asked
            assert not http._idle
        finally:
            await http.close()
    assert server.connections == 1


async def test_failures_are_this_replica_not_answering() -> None:
    async def misbehave(line: str, _headers: dict[str, str], body: bytes) -> bytes | None:
        kind = json.loads(body)["message"]
        if kind == "500":
            return response(b'{"error": "boom"}', "500 Internal Server Error")
        if kind == "html":
            return response(b"<html>", extra="")
        if kind == "hang":
            await asyncio.sleep(5)
        return None  # "drop": closes without answering

    async with serving(misbehave) as (_server, url):
        client = RasaClient(url, "t", timeout_s=0.3)
        try:
            for kind, error in (("500", "HTTP 500"), ("html", "not JSON"), ("drop", "did not answer"),
                                ("hang", "did not answer: TimeoutError")):
                with pytest.raises(RasaReplicaError, match=error):
                    await client.send("c1", kind, "sv")
        finally:
            await client.close()


async def test_a_server_that_is_not_there_is_refused_at_once() -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    client = RasaClient(f"http://127.0.0.1:{port}", "t", timeout_s=5.0)
    try:
        with pytest.raises(RasaReplicaError, match="did not answer"):
            await client.send("c1", "hej", "sv")
        with pytest.raises(RasaUnavailableError):
            await client.status()
    finally:
        await client.close()


def test_only_plain_http_is_spoken() -> None:
    with pytest.raises(ValueError, match="plain HTTP only"):
        LoopbackHTTP("https://rasa.example:5005", {}, timeout_s=1.0, connect_timeout_s=1.0)
