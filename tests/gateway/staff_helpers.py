"""Helpers for the handoff, staff-console and pub/sub tests.

- ``served_gateway``: a real gateway (uvicorn on a free loopback port, in the test's event
  loop) with a MockTransport Rasa, for what needs real streaming (SSE) or several replicas.
- ``SSEReader``: reads a Server-Sent Events stream and records when each event arrived.
- ``make_staff`` / ``staff_login``: an account in the gateway's database and a logged-in client
  (admin and publisher accounts get a second factor, and the login gives its code when asked).
- ``totp_code``: the next code an account's authenticator app would show that the gateway
  has not accepted yet.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import rasa_reply

PASSWORD = "a long enough password"


def handoff_reply(
    reason: str = "request_human", acute: bool = False, text: str = "Jag kopplar dig till en person."
) -> dict[str, Any]:
    return rasa_reply(text, response_id="utter_handoff", intent="request_human", topic=None,
                      handoff={"reason": reason, "acute": acute})


class RasaRecorder:
    """A MockTransport handler: records what reached Rasa and answers FAQ, or hands off
    when the message asks for a person."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["message"]
        self.seen.append(text)
        if "människa" in text or "human" in text:
            return httpx.Response(200, json=handoff_reply())
        return httpx.Response(200, json=rasa_reply("Svar från assistenten."))


def settings_for(tmp_path: Path, **overrides: Any) -> Any:
    from gateway.settings import Settings

    return Settings(
        environment="test",
        var_dir=overrides.pop("var_dir", tmp_path / "var"),
        models_dir=tmp_path / "no-models",
        rasa_token="test-token-0123456789",
        opening_hours=overrides.pop("opening_hours", "mon-sun 00:00-23:59"),
        rate_limit_per_minute=overrides.pop("rate_limit_per_minute", 1000),
        **overrides,
    )


def make_staff(store: Any, username: str = "anna", display_name: str = "Anna", role: str = "staff") -> Any:
    """An account; for roles that require a second factor (admin, publisher) one is enrolled."""
    from gateway import staff_lifecycle, totp
    from gateway.staff_accounts import create_user

    user = create_user(store, username, display_name, role, PASSWORD)
    if totp.required_for(role):
        staff_lifecycle.enrol_totp_now(store, user.username, "test")
    return user


def totp_code(store: Any, username: str) -> str:
    """The code of the first time step the gateway has not used yet for ``username`` (codes
    are accepted one step either side of now, once each); waits for the next step if needed."""
    import pyotp
    from sqlalchemy import select

    from gateway.store import staff_totp, staff_users

    with store.connect() as conn:
        row = conn.execute(select(staff_totp.c.secret, staff_totp.c.last_step)
                           .join(staff_users, staff_users.c.id == staff_totp.c.user_id)
                           .where(staff_users.c.username == username)).one()
    generator = pyotp.TOTP(row.secret)
    step = max(generator.timecode(time.time()), (row.last_step if row.last_step is not None else -1) + 1)
    while step > generator.timecode(time.time()) + 1:
        time.sleep(0.5)
    return str(generator.generate_otp(step))


async def staff_login(client: httpx.AsyncClient, username: str = "anna") -> dict[str, Any]:
    response = await client.post("/staff/api/login", json={"username": username, "password": PASSWORD})
    if response.status_code == 401 and response.json()["error"]["code"] == "totp_required":
        store = client.app.state.services.store  # type: ignore[attr-defined]
        code = totp_code(store, username)
        response = await client.post("/staff/api/login",
                                     json={"username": username, "password": PASSWORD, "code": code})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


async def start_conversation(client: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/conversations", json=body or None)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def warm_up(client: httpx.AsyncClient) -> None:
    """One ordinary turn, so lazily loaded parts (language detection) are loaded before a
    test measures latency; the first turn after start-up is slower by design."""
    cid, auth = await start_conversation(client)
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "Hej!"})
    assert response.status_code == 200, response.text


@dataclass
class Served:
    url: str
    app: Any

    @property
    def services(self) -> Any:
        return self.app.state.services


@contextlib.asynccontextmanager
async def served_gateway(
    settings: Any, rasa: Callable[[httpx.Request], httpx.Response] | None = None
) -> AsyncIterator[Served]:
    import uvicorn

    from gateway.main import create_app
    from scripts.stack import free_port

    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa or RasaRecorder()))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise RuntimeError("test gateway did not start")
        await asyncio.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


@dataclass
class SSEReader:
    """Reads ``response`` in a background task; ``events`` holds (name, data, id, arrived)."""

    response: httpx.Response
    events: list[tuple[str, Any, str | None, float]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> SSEReader:
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        name, data, event_id = "message", [], None
        async for line in self.response.aiter_lines():
            if line == "":
                if data:
                    self.events.append((name, json.loads("\n".join(data)), event_id, time.monotonic()))
                    self._changed.set()
                name, data, event_id = "message", [], None
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line.startswith("id:"):
                event_id = line[3:].strip()

    def named(self, name: str) -> list[Any]:
        return [data for n, data, _, _ in self.events if n == name]

    async def wait_for(self, predicate: Callable[[SSEReader], bool], timeout: float = 5.0) -> float:
        """Wait until ``predicate(self)``; returns the monotonic time it became true."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; events so far: {[(n, d) for n, d, _, _ in self.events]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return time.monotonic()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task
        await self.response.aclose()


@contextlib.asynccontextmanager
async def sse(client: httpx.AsyncClient, url: str, **kwargs: Any) -> AsyncIterator[SSEReader]:
    async with client.stream("GET", url, **kwargs) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SSEReader(response).start()
        try:
            yield reader
        finally:
            await reader.stop()
