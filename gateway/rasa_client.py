"""Talks to one Rasa server's ``karlstad`` channel over loopback, with its token.

Plain ``http://`` servers are spoken to with ``gateway.loopback_http`` (kept-alive
connections, about 0.1 ms per request); anything else, and a test's ``transport``, with httpx.

``RasaPort`` is what the turn needs; ``gateway.rasa_replicas.RasaReplicas`` implements it over
several servers (one ``RasaClient`` each).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from gateway.loopback_http import LoopbackHTTP, LoopbackHTTPError

logger = logging.getLogger(__name__)

CHANNEL_PATH = "/webhooks/karlstad/webhook"
HEALTH_PATH = "/webhooks/karlstad/"


class RasaUnavailableError(Exception):
    """Rasa could not be reached or did not answer in time."""


class RasaReplicaError(RasaUnavailableError):
    """This Rasa server failed (no connection, a timeout, a 5xx): another replica may answer."""


@dataclass
class BotMessage:
    text: str | None
    response_id: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None


@dataclass
class RasaReply:
    messages: list[BotMessage]
    parse: dict[str, Any]
    actions: list[dict[str, Any]]
    model_id: str | None
    latency_ms: float
    #: which replica answered: its index in the configured list and its URL
    replica: int | None = None
    replica_url: str | None = None

    @property
    def handoff(self) -> dict[str, Any] | None:
        for message in self.messages:
            if message.custom and isinstance(message.custom.get("handoff"), dict):
                return dict(message.custom["handoff"])
        return None

    @property
    def answers(self) -> list[BotMessage]:
        return [m for m in self.messages if m.text]


def _bot_message(raw: dict[str, Any]) -> BotMessage:
    response_id = raw.get("utter_action") or raw.get("response") or raw.get("template_name")
    raw_metadata = raw.get("metadata")
    metadata: dict[str, Any] = dict(raw_metadata) if isinstance(raw_metadata, dict) else {}
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw.get("buttons") or []
        if isinstance(b, dict)
    ]
    custom = raw.get("custom") if isinstance(raw.get("custom"), dict) else None
    return BotMessage(
        text=raw.get("text"),
        response_id=str(response_id) if response_id else None,
        metadata=metadata,
        buttons=buttons,
        custom=custom,
    )


class RasaPort(Protocol):
    async def send(self, sender: str, text: str, language: str) -> RasaReply: ...
    async def status(self) -> dict[str, Any]: ...
    async def close(self) -> None: ...


class RasaClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # a replica that is gone refuses at once; one that does not even accept the
        # connection is left after 2 s for the next replica (gateway/rasa_replicas.py)
        connect_s = min(2.0, timeout_s)
        headers = {"Authorization": f"Bearer {token}"}
        self._client: LoopbackHTTP | httpx.AsyncClient
        if transport is None and base_url.startswith("http://"):
            self._client = LoopbackHTTP(base_url, headers, timeout_s=timeout_s, connect_timeout_s=connect_s)
        else:
            self._client = httpx.AsyncClient(
                base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=connect_s), headers=headers,
                transport=transport,
            )

    async def close(self) -> None:
        if isinstance(self._client, LoopbackHTTP):
            await self._client.close()
        else:
            await self._client.aclose()

    async def _request(self, method: str, path: str, body: bytes | None = None,
                       timeout_s: float | None = None) -> tuple[int, bytes]:
        """``(status, body)``; raises ``RasaReplicaError`` when no response came."""
        try:
            if isinstance(self._client, LoopbackHTTP):
                return await self._client.request(method, path, body, timeout_s=timeout_s)
            response = await self._client.request(
                method, path, content=body, headers={"Content-Type": "application/json"} if body else None,
                timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT,
            )
            return response.status_code, response.content
        except (httpx.HTTPError, LoopbackHTTPError, TimeoutError) as exc:
            raise RasaReplicaError(f"Rasa did not answer: {type(exc).__name__}") from exc

    async def send(self, sender: str, text: str, language: str) -> RasaReply:
        started = time.perf_counter()
        payload = json.dumps({"sender": sender, "message": text, "metadata": {"language": language}},
                             ensure_ascii=False).encode()
        status, content = await self._request("POST", CHANNEL_PATH, payload)
        if status >= 500:
            raise RasaReplicaError(f"Rasa answered HTTP {status}")
        if status != 200:
            raise RasaUnavailableError(f"Rasa answered HTTP {status}")
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise RasaReplicaError("Rasa answered something that is not JSON") from exc
        if not isinstance(body, dict):
            raise RasaReplicaError("Rasa answered JSON that is not an object")
        latency = (time.perf_counter() - started) * 1000
        return RasaReply(
            messages=[_bot_message(m) for m in body.get("messages", []) if isinstance(m, dict)],
            parse=body.get("parse") or {},
            actions=body.get("actions") or [],
            model_id=body.get("model_id"),
            latency_ms=latency,
        )

    async def status(self) -> dict[str, Any]:
        try:
            status, content = await self._request("GET", HEALTH_PATH, timeout_s=2.0)
        except RasaReplicaError as exc:
            raise RasaUnavailableError(str(exc)) from exc
        if status != 200:
            raise RasaUnavailableError(f"Rasa is not ready (HTTP {status})")
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered its status with something that is not JSON") from exc
        return dict(body)
