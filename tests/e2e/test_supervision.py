"""``make run`` keeps the stack running: a crashed service is started again with back-off,
and the gateway keeps answering meanwhile (scripts/stack.py ``Supervisor``)."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.stack import Stack, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


def _wait(condition: Any, timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def small_stack(tmp_path: Path) -> Any:
    events: list[tuple[float, str, str, str]] = []
    stack = Stack(model=tmp_path / "model.tar.gz", var_dir=tmp_path / "var",
                  on_event=lambda *e: events.append((time.monotonic(), *e)))
    stack.events = events  # type: ignore[attr-defined]
    yield stack
    stack.stop()


def test_a_killed_service_is_started_again(small_stack: Any) -> None:
    small_stack._spawn("rasa", SLEEPER)
    small_stack._spawn("gateway", SLEEPER)
    gateway_pid = small_stack.processes["gateway"].pid
    supervisor = Supervisor(small_stack, poll_s=0.05, first_delay=0.2)
    small_stack.supervisor = supervisor
    supervisor.start()
    first = small_stack.processes["rasa"].pid
    os.kill(first, signal.SIGKILL)
    _wait(lambda: supervisor.restarts.get("rasa") == 1, 5, "the restart")
    assert small_stack.processes["rasa"].pid != first
    assert small_stack.processes["rasa"].poll() is None
    # The other services were left alone.
    assert small_stack.processes["gateway"].pid == gateway_pid
    assert [e[1:3] for e in small_stack.events] == [("rasa", "exited"), ("rasa", "restarted")]


def test_restarts_back_off_and_a_service_that_cannot_start_is_given_up(small_stack: Any) -> None:
    small_stack._spawn("actions", CRASHER)
    small_stack._spawn("gateway", SLEEPER)
    supervisor = Supervisor(small_stack, poll_s=0.02, first_delay=0.1, max_delay=0.8,
                            stable_after=30, give_up_after=5)
    small_stack.supervisor = supervisor
    supervisor.start()
    _wait(lambda: "actions" in supervisor.gave_up, 15, "the supervisor to give up")
    restarts = [t for t, name, event, _ in small_stack.events if event == "restarted"]
    assert len(restarts) == 5
    gaps = [b - a for a, b in zip(restarts, restarts[1:])]
    # Delays 0.1, 0.2, 0.4, 0.8, then capped at 0.8 (not 1.6).
    assert all(gap >= nominal for gap, nominal in zip(gaps, [0.2, 0.4, 0.8, 0.8])), gaps
    assert gaps[3] < 1.5, gaps
    assert small_stack.events[-1][1:3] == ("actions", "gave_up")
    assert small_stack.processes["gateway"].poll() is None  # still running


def test_stop_ends_supervision_before_the_services(small_stack: Any) -> None:
    small_stack._spawn("rasa", SLEEPER)
    supervisor = Supervisor(small_stack, poll_s=0.02, first_delay=0.05)
    small_stack.supervisor = supervisor
    supervisor.start()
    proc = small_stack.processes["rasa"]
    small_stack.stop()
    time.sleep(0.3)
    assert proc.poll() is not None
    assert not supervisor.is_alive()
    assert small_stack.processes == {}
    assert [e for e in small_stack.events if e[2] == "restarted"] == []


# ---- the real stack ---------------------------------------------------------------------
DANGER = "jag tänker ta livet av mig"


def _conversation(stack: Any) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=stack.gateway_url, timeout=30)
    created = client.post("/api/conversations", json={"language": "sv"}).json()
    client.headers["Authorization"] = f"Bearer {created['token']}"
    return client, f"/api/conversations/{created['conversation_id']}/messages"


@pytest.mark.e2e
def test_rasa_crash_mid_conversation_gateway_answers_503_then_recovers(live_stack: Any) -> None:
    assert live_stack.supervisor is not None, "the stack runs supervised, as `make run` does"
    client, url = _conversation(live_stack)
    other, other_url = _conversation(live_stack)  # the danger message hands its conversation off
    before = client.post(url, json={"text": "Behöver jag bygglov för ett garage?"})
    assert before.status_code == 200, before.text

    rasa = live_stack.processes["rasa"]
    os.kill(rasa.pid, signal.SIGKILL)
    rasa.wait(timeout=10)

    # Rasa is down: the gateway is up and says so, in the citizen's language.
    down = client.post(url, json={"text": "Hur söker jag förskola?"})
    assert down.status_code == 503, down.text
    message = down.json()["error"]["message"]
    assert "assistent" in message.lower() and "054-540 00 00" in message, message
    # A danger message still gets the safety information.
    danger = other.post(other_url, json={"text": DANGER})
    assert danger.status_code == 200, danger.text
    texts = " ".join(m["text"] for m in danger.json()["messages"])
    assert "112" in texts and "90101" in texts, texts

    # Started again by the supervisor; normal answers once Rasa has loaded (~30 s).
    _wait(lambda: live_stack.supervisor.restarts.get("rasa", 0) >= 1, 15, "Rasa to be started again", 0.2)
    assert live_stack.processes["rasa"].pid != rasa.pid
    _wait(lambda: httpx.get(f"{live_stack.gateway_url}/readyz", timeout=5).status_code == 200, 150,
          "the gateway to be ready again", 1.0)
    after = client.post(url, json={"text": "Hur söker jag förskola?"})
    assert after.status_code == 200, after.text
    assert any(m["role"] == "bot" and m["source"] for m in after.json()["messages"]), after.json()


@pytest.mark.e2e
def test_action_server_crash_is_restarted(live_stack: Any) -> None:
    actions = live_stack.processes["actions"]
    restarts = live_stack.supervisor.restarts.get("actions", 0)
    os.kill(actions.pid, signal.SIGKILL)
    _wait(lambda: live_stack.supervisor.restarts.get("actions", 0) > restarts, 15, "the action server to restart", 0.2)
    _wait(lambda: httpx.get(f"{live_stack.gateway_url}/readyz", timeout=5).status_code == 200, 90,
          "the gateway to be ready again", 1.0)
    assert live_stack.processes["actions"].pid != actions.pid
