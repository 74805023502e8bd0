"""Talks to one Rasa server's ``karlstad`` channel over loopback, with its token.

``RasaPort`` is what the turn needs; ``gateway.rasa_replicas.RasaReplicas`` implements it over
several servers (one ``RasaClient`` each).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

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
        self._client = httpx.AsyncClient(
            base_url=base_url,
            # a replica that is gone refuses at once; one that does not even accept the
            # connection is left after 2 s for the next replica (gateway/rasa_replicas.py)
            timeout=httpx.Timeout(timeout_s, connect=min(2.0, timeout_s)),
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, text: str, language: str) -> RasaReply:
        started = time.perf_counter()
        try:
            response = await self._client.post(
                CHANNEL_PATH,
                json={"sender": sender, "message": text, "metadata": {"language": language}},
            )
        except httpx.HTTPError as exc:
            raise RasaReplicaError(f"Rasa did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise RasaReplicaError(f"Rasa answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise RasaUnavailableError(f"Rasa answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RasaReplicaError("Rasa answered something that is not JSON") from exc
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
            response = await self._client.get(HEALTH_PATH, timeout=2.0)
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"Rasa did not answer: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailableError(f"Rasa is not ready (HTTP {response.status_code})")
        return dict(response.json())
