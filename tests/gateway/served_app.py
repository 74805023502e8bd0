"""The gateway served by uvicorn exactly as ``python -m gateway`` serves it
(``gateway.main.server_options``), on a free loopback port, with a MockTransport Rasa."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import rasa_reply


@dataclass
class ServedApp:
    host: str
    port: int
    app: Any

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __iter__(self) -> Iterator[Any]:  # host, port = served
        return iter((self.host, self.port))


@contextlib.asynccontextmanager
async def production_server(
    settings: Any, rasa: Callable[[httpx.Request], httpx.Response] | None = None
) -> AsyncIterator[ServedApp]:
    """Yields the running gateway's address and app."""
    import uvicorn

    from gateway.main import create_app, server_options
    from scripts.stack import free_port

    def default(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=rasa_reply("Svar."))

    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa or default))
    options = {**server_options(settings), "port": free_port(), "host": "127.0.0.1"}
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **options))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise RuntimeError("test gateway did not start")
        await asyncio.sleep(0.02)
    try:
        yield ServedApp(options["host"], options["port"], app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def raw_exchange(host: str, port: int, head: bytes, body: bytes = b"", read_timeout: float = 10.0,
                       ) -> tuple[bytes, float, bool]:
    """Send ``head`` (request line + headers) and ``body`` over a fresh connection, then read
    until the server closes it or ``read_timeout`` passes. Returns (what the server sent,
    seconds until its first byte, whether the server closed the connection)."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    writer.write(head + body)
    await writer.drain()
    received = b""
    first = float("inf")
    closed = False
    deadline = started + read_timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            if not received:
                first = time.monotonic() - started
            received += chunk
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return received, first, closed
