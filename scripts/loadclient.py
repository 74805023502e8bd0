"""A bounded asyncio load of citizens through the load balancer, and the check afterwards
that every message the gateways accepted is kept (used by scripts/faults.py).

Each virtual citizen opens a conversation and asks a few questions, one after the other,
retrying a 503 after a pause as the widget does (``Retry-After``, at most ``retries`` times);
then opens another. Every attempt is recorded (time sent, time answered, status), so the
caller can count 500s and 503s and measure recovery. The load is bounded twice: it stops at
``deadline`` and after ``max_messages`` messages, and it only ever talks to loopback.

``verify`` reads each conversation back (transcript and basis export, as the citizen can):
the citizen's accepted messages in order, no message twice or half-written, every accepted
answer present with its basis record in the conversation's intact chain.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx

QUESTIONS = [
    "Behöver jag bygglov för ett garage?",
    "Hur ansöker jag om plats i förskolan?",
    "När töms soptunnan?",
    "Hur söker jag färdtjänst?",
    "Vilka öppettider har simhallen?",
    "Hur ansöker jag om boendeparkering?",
]


class LoopbackOnlyError(ValueError):
    pass


class TurnLoop:
    """Citizens asking Swedish questions in a loop on ``threads`` threads, for as long as the
    ``with`` block lasts (the model swap benchmark and the first-start test). A turn failed
    when it got no 200 with the bot's reply; each failure is kept in ``failures``."""

    def __init__(self, url: str, *, threads: int = 2, pause: float = 0.2,
                 questions: tuple[str, ...] = ("Behöver jag bygglov för ett garage?", "När töms soptunnan?",
                                               "Hur söker jag färdtjänst?")) -> None:
        self.url = url
        self.pause = pause
        self.questions = questions
        self.stop = threading.Event()
        self.turns = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    @property
    def failed(self) -> int:
        return len(self.failures)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.is_set():
                created = client.post("/api/conversations", json={"language": "sv"})
                if created.status_code != 201:
                    self.failures.append(f"create: {created.status_code}")
                    time.sleep(1)
                    continue
                data = created.json()
                headers = {"Authorization": f"Bearer {data['token']}"}
                for question in self.questions:
                    reply = client.post(f"/api/conversations/{data['conversation_id']}/messages",
                                        json={"text": question}, headers=headers)
                    self.turns += 1
                    if reply.status_code != 200 or not any(m["role"] == "bot" for m in reply.json()["messages"]):
                        self.failures.append(f"turn: {reply.status_code} {reply.text[:200]}")
                time.sleep(self.pause)

    def __enter__(self) -> TurnLoop:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


@dataclass
class Attempt:
    sent: float
    done: float
    status: int  # 0: no HTTP answer (connection error or time-out)
    kind: str  # "create" or "message"


@dataclass
class Conversation:
    cid: str
    token: str
    accepted: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)  # (text, answers)
    unknown: list[str] = field(default_factory=list)  # sent, no answer: may or may not be kept


@dataclass
class Load:
    base_url: str
    deadline: float
    max_messages: int
    retries: int = 5
    timeout_s: float = 30.0
    attempts: list[Attempt] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    given_up: int = 0  # messages still refused after every retry (the citizen saw an error)
    messages: int = 0

    def __post_init__(self) -> None:
        host = urlparse(self.base_url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            raise LoopbackOnlyError(f"load only goes to loopback addresses, not {host!r}")

    def _budget(self) -> bool:
        return time.monotonic() < self.deadline and self.messages < self.max_messages

    async def _request(self, client: httpx.AsyncClient, kind: str, method: str, url: str,
                       **kwargs: Any) -> httpx.Response | None:
        sent = time.monotonic()
        try:
            response = await client.request(method, url, timeout=self.timeout_s, **kwargs)
        except httpx.HTTPError:
            self.attempts.append(Attempt(sent, time.monotonic(), 0, kind))
            return None
        self.attempts.append(Attempt(sent, time.monotonic(), response.status_code, kind))
        return response

    async def _with_retries(self, client: httpx.AsyncClient, kind: str, method: str, url: str,
                            **kwargs: Any) -> tuple[httpx.Response | None, bool]:
        """(last response, whether some attempt got no answer at all)."""
        silent = False
        response = None
        for attempt in range(self.retries + 1):
            response = await self._request(client, kind, method, url, **kwargs)
            if response is None:
                silent = True
            elif response.status_code != 503:
                return response, silent
            if attempt < self.retries and time.monotonic() < self.deadline:
                retry_after = response.headers.get("retry-after", "1") if response is not None else "1"
                await asyncio.sleep(min(5.0, float(retry_after) if retry_after.isdigit() else 1.0))
        return response, silent

    async def citizen(self, client: httpx.AsyncClient, number: int, turns: int) -> None:
        while self._budget():
            created, _ = await self._with_retries(client, "create", "POST", "/api/conversations")
            if created is None or created.status_code != 201:
                await asyncio.sleep(0.5)
                continue
            body = created.json()
            conversation = Conversation(body["conversation_id"], body["token"])
            self.conversations.append(conversation)
            headers = {"Authorization": f"Bearer {conversation.token}"}
            for turn in range(turns):
                if not self._budget():
                    return
                self.messages += 1
                text = QUESTIONS[(number + turn) % len(QUESTIONS)]
                response, silent = await self._with_retries(
                    client, "message", "POST", f"/api/conversations/{conversation.cid}/messages",
                    json={"text": text}, headers=headers)
                if response is not None and response.status_code == 200:
                    conversation.accepted.append((text, response.json()["messages"]))
                elif silent:
                    conversation.unknown.append(text)
                    break  # the order of this conversation is no longer known: start another
                else:
                    self.given_up += 1
                    break

    async def run(self, concurrency: int, turns: int = 4) -> None:
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits) as client:
            await asyncio.gather(*(self.citizen(client, n, turns) for n in range(concurrency)))


@dataclass
class Verdict:
    conversations: int = 0
    accepted: int = 0
    lost: int = 0  # accepted answers missing from the transcript or without a basis record
    extra: int = 0  # citizen messages in a transcript that the client never had accepted
    broken_chains: int = 0
    problems: list[str] = field(default_factory=list)


async def verify(base_url: str, conversations: list[Conversation]) -> Verdict:
    """Read every conversation back through ``base_url``."""
    verdict = Verdict()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for conversation in conversations:
            verdict.conversations += 1
            verdict.accepted += len(conversation.accepted)
            headers = {"Authorization": f"Bearer {conversation.token}"}
            transcript = await client.get(f"/api/conversations/{conversation.cid}/messages", headers=headers)
            export = await client.get(f"/api/conversations/{conversation.cid}/basis", headers=headers)
            if transcript.status_code != 200 or export.status_code != 200:
                verdict.lost += len(conversation.accepted)
                verdict.problems.append(f"{conversation.cid}: read back {transcript.status_code}/{export.status_code}")
                continue
            messages = transcript.json()["messages"]
            records = {r["id"] for r in export.json()["records"]}
            if not export.json()["chain"]["ok"]:
                verdict.broken_chains += 1
                verdict.problems.append(f"{conversation.cid}: basis chain broken")
            kept = {m["id"]: m for m in messages}
            for text, answers in conversation.accepted:
                kept_with_basis = [a for a in answers if a["id"] in kept and a.get("basis_id") in records]
                if not answers or len(kept_with_basis) != len([a for a in answers if a.get("basis_id")]) \
                        or not kept_with_basis:
                    verdict.lost += 1
                    verdict.problems.append(f"{conversation.cid}: answer to {text!r} missing or without basis")
            asked = [m["text"] for m in messages if m["role"] == "citizen"]
            expected = [text for text, _ in conversation.accepted]
            # A message sent without an answer (the connection broke) may or may not be kept,
            # but only once and only after the accepted ones.
            if asked[: len(expected)] != expected or len(asked) - len(expected) > len(conversation.unknown):
                verdict.extra += max(0, len(asked) - len(expected)) or 1
                verdict.problems.append(f"{conversation.cid}: transcript asks {len(asked)}, accepted {len(expected)}")
    return verdict
