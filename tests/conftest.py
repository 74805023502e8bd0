"""Shared fixtures for the app-environment tests.

- ``trained_model``: the real Rasa model trained from this repository's data (cached by a
  hash of its inputs, see scripts/train.sh).
- ``live_stack``: Rasa, the action server and the gateway running on free loopback ports
  with a fresh var/ directory (SQLite) — the product as ``make run`` starts it.
- ``gateway_factory``: an in-process gateway (httpx.ASGITransport) whose Rasa is a
  ``httpx.MockTransport``, for testing gateway behaviour precisely.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def trained_model() -> Path:
    env_model = os.environ.get("KARLSTAD_MODEL")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train.sh")], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        if env_model and Path(env_model).exists():
            return Path(env_model).resolve()
        pytest.fail(f"training failed:\n{result.stderr[-3000:]}")
    return (ROOT / result.stdout.strip().splitlines()[-1]).resolve()


@pytest.fixture(scope="session")
def live_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scripts.stack import Stack, free_port

    var_dir = tmp_path_factory.mktemp("var")
    stack = Stack(
        model=trained_model,
        var_dir=var_dir,
        gateway_port=free_port(),
        rasa_port=free_port(),
        action_port=free_port(),
        extra_env={
            "GATEWAY_ENVIRONMENT": "test",
            "GATEWAY_OPENING_HOURS": os.environ.get("TEST_OPENING_HOURS", "mon-sun 00:00-23:59"),
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000",
            "GATEWAY_CREATE_RATE_LIMIT_PER_MINUTE": "1000",
            "GATEWAY_MODELS_DIR": str(var_dir / "no-models"),
        },
    )
    stack.start(timeout=240)
    try:
        yield stack
    finally:
        stack.stop()


def rasa_reply(
    text: str | None = "Svar.",
    *,
    response_id: str = "utter_faq/bygglov",
    intent: str = "faq",
    topic: str | None = "faq/bygglov",
    confidence: float = 0.93,
    source: dict[str, Any] | None = None,
    handoff: dict[str, Any] | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A response body of the karlstad channel (bot/channel.py), for MockTransport."""
    messages: list[dict[str, Any]] = []
    if text is not None:
        msg: dict[str, Any] = {"text": text, "utter_action": response_id}
        if source is not None:
            msg["metadata"] = {"source": source}
        if buttons:
            msg["buttons"] = buttons
        messages.append(msg)
    if handoff is not None:
        messages.append({"custom": {"handoff": handoff}})
    return {
        "messages": messages,
        "parse": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": [{"entity": "language", "value": "sv"}],
            "response_selector": {
                "topic": topic,
                "confidence": confidence,
                "ranking": [{"topic": topic, "confidence": confidence}],
            },
        },
        "actions": [{"action": "action_answer_faq", "policy": "RulePolicy", "confidence": 1.0}],
        "model_id": "test-model",
        "slots": {"language": "sv"},
    }


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Callable[..., Any]:
    """Build an in-process gateway; ``rasa`` is a handler ``(request) -> httpx.Response``."""
    from contextlib import asynccontextmanager

    import httpx

    from gateway.main import create_app
    from gateway.settings import Settings

    @asynccontextmanager
    async def factory(
        rasa: Callable[[httpx.Request], httpx.Response] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(
            environment="test",
            var_dir=tmp_path / "var",
            models_dir=overrides.pop("models_dir", tmp_path / "no-models"),
            rasa_token="test-token-0123456789",
            opening_hours=overrides.pop("opening_hours", "mon-sun 00:00-23:59"),
            rate_limit_per_minute=overrides.pop("rate_limit_per_minute", 1000),
            **overrides,
        )

        def default(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=rasa_reply())

        app = create_app(settings, rasa_transport=httpx.MockTransport(rasa or default))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory
