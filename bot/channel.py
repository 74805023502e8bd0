"""The gateway's channel into Rasa: one loopback call per citizen turn.

``POST /webhooks/karlstad/webhook`` with ``Authorization: Bearer <token>`` and
``{"sender": ..., "message": ..., "metadata": {"language": "sv"}}`` returns the bot's
messages *and* the basis the gateway records for transparency: the NLU parse (intent
ranking, retrieval topic, entities), the actions with the policy that chose them and
the model id. Rasa's own HTTP API stays disabled; only this channel is served, on
127.0.0.1, and it refuses requests without the shared token.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from rasa.shared.core.events import ActionExecuted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import model_puller

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
IGNORED_ACTIONS = {"action_listen", "action_extract_slots", "action_session_start"}


class BasisCollectingOutputChannel(CollectingOutputChannel):
    """Collects every message with all its attributes (response id, metadata)."""

    @classmethod
    def name(cls) -> Text:
        return "karlstad"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        kept = {k: v for k, v in message.items() if v is not None}
        kept.pop("timestamp", None)
        self.messages.append(kept)


def _action_trail(tracker: Any) -> List[Dict[str, Any]]:
    """Actions run since the latest user message, with the policy behind each."""
    trail: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name not in IGNORED_ACTIONS:
            trail.append(
                {
                    "action": event.action_name,
                    "policy": event.policy,
                    "confidence": event.confidence,
                }
            )
    trail.reverse()
    return trail


def _answering_model(tracker: Any) -> Optional[Text]:
    """The id of the model that handled the latest message: Rasa writes it on the event.
    During a model swap that can be the previous model, not the one loaded now."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            value = (event.metadata or {}).get("model_id")
            return str(value) if value else None
    return None


def _parse(tracker: Any) -> Dict[str, Any]:
    latest = tracker.latest_message
    if latest is None:
        return {}
    data = latest.parse_data
    return {
        "intent": data.get("intent"),
        "intent_ranking": data.get("intent_ranking", [])[:5],
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value")}
            for e in data.get("entities", [])
        ],
        "response_selector": _selector(data.get("response_selector") or {}),
    }


def _selector(selector: Dict[str, Any]) -> Dict[str, Any]:
    """The retrieval topic and its ranking, without the answer texts."""
    block = selector.get("default") or {}
    response = block.get("response") or {}
    return {
        "topic": response.get("intent_response_key"),
        "confidence": response.get("confidence"),
        "ranking": [
            {
                "topic": r.get("intent_response_key"),
                "confidence": r.get("confidence"),
            }
            for r in (block.get("ranking") or [])[:5]
        ],
    }


class KarlstadInput(InputChannel):
    """Authenticated JSON channel used only by the gateway."""

    @classmethod
    def name(cls) -> Text:
        return "karlstad"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        token = (credentials or {}).get("token") or ""
        if len(str(token)) < 16:
            raise ValueError(
                "The karlstad channel needs a token of at least 16 characters in "
                "credentials.yml (set RASA_CHANNEL_TOKEN)."
            )
        return cls(str(token))

    def __init__(self, token: Text) -> None:
        self.token = token

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        expected = f"Bearer {self.token}"
        return hmac.compare_digest(header.encode(), expected.encode())

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("karlstad_webhook", __name__)
        model_puller.install(webhook, self.token)  # the live release, swapped in place

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            agent = getattr(request.app.ctx, "agent", None)
            ready = bool(agent and agent.is_ready())
            return response.json(
                {
                    "ready": ready,
                    "model_id": agent.model_id if ready else None,
                    "model_file": agent.processor.model_filename if ready else None,
                },
                status=200 if ready else 503,
            )

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            text = body.get("message")
            metadata = body.get("metadata") or {}
            if not isinstance(sender, str) or not sender or len(sender) > 128:
                return response.json({"error": "'sender' must be a non-empty string"}, status=400)
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                return response.json(
                    {"error": f"'message' must be 1-{MAX_TEXT} characters"}, status=400
                )
            if not isinstance(metadata, dict):
                return response.json({"error": "'metadata' must be an object"}, status=400)

            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "model not loaded"}, status=503)
            collector = BasisCollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )
            tracker = await agent.tracker_store.retrieve(sender)
            return response.json(
                {
                    "messages": collector.messages,
                    "parse": _parse(tracker) if tracker else {},
                    "actions": _action_trail(tracker) if tracker else [],
                    "model_id": (_answering_model(tracker) if tracker else None) or agent.model_id,
                    "slots": {
                        "language": tracker.get_slot("language") if tracker else None
                    },
                }
            )

        return webhook
