"""Several Rasa servers behind one ``RasaPort``: each conversation to one, the next when it fails.

Routing: a conversation's replicas are ranked by a hash of (replica URL, conversation id)
(rendezvous hashing), and its turns go to the first healthy one. The ranking depends only on
the two strings, so every gateway sends a conversation to the same replica, and a replica
that fails or is added moves only its own share of the conversations.

Failover: a replica that fails a turn (no connection, a timeout, a 5xx; see
``RasaReplicaError``) is marked down and the same turn goes on to the next replica in the
conversation's ranking, so the citizen gets an answer from that turn on. A replica marked down
gets no turns while others are up; ``retry_after_s`` later it is asked for its status in the
background and takes its conversations back once it answers ready. When every replica is down
they are all tried in ranking order (one may have come back) before the turn fails with
``RasaUnavailableError`` (the gateway's 503; nothing is stored, the widget retries).

A turn that timed out on one replica may still have been processed there; its retry on the
next replica then adds the message to Rasa's tracker a second time. The gateway's transcript
and basis records (the record of what was said and why) have it once. Rasa's lock store stays
configured as a second line of defence against two replicas working on one conversation at
once; the first is the gateway's conversation lock (``gateway.conversation_locks``).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.rasa_client import RasaClient, RasaReplicaError, RasaReply, RasaUnavailableError

logger = logging.getLogger(__name__)


@dataclass
class Replica:
    index: int
    url: str
    client: RasaClient
    down_until: float | None = None  # None: up; else (monotonic) when to check it again
    error: str | None = None
    checking: bool = False

    def snapshot(self) -> dict[str, object]:
        return {"index": self.index, "url": self.url, "up": self.down_until is None, "error": self.error}


class RasaReplicas:
    """The ``RasaPort`` of the turn over ``urls`` (see the module text)."""

    def __init__(
        self,
        urls: list[str],
        token: str,
        timeout_s: float = 10.0,
        *,
        retry_after_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("At least one Rasa URL is needed (GATEWAY_RASA_URL or GATEWAY_RASA_URLS).")
        self.replicas = [
            Replica(i, url, RasaClient(url, token, timeout_s, transport=transport)) for i, url in enumerate(urls)
        ]
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._checks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._checks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for replica in self.replicas:
            await replica.client.close()

    # ---- routing ------------------------------------------------------------------
    def ranking(self, conversation_id: str) -> list[Replica]:
        """The conversation's replicas, most preferred first; the same on every gateway."""
        def weight(replica: Replica) -> bytes:
            return hashlib.sha256(f"{replica.url}\n{conversation_id}".encode()).digest()

        return sorted(self.replicas, key=weight, reverse=True)

    def health(self) -> list[dict[str, object]]:
        """Each replica: index, URL, whether it is up and its last error (for readiness, metrics)."""
        return [replica.snapshot() for replica in self.replicas]

    async def send(self, sender: str, text: str, language: str) -> RasaReply:
        ranking = self.ranking(sender)
        up = [r for r in ranking if r.down_until is None]
        down = [r for r in ranking if r.down_until is not None]
        for replica in down:
            self._check_later(replica)
        failure: RasaUnavailableError | None = None
        for replica in up + down:  # the replicas marked down only when no other one answered
            try:
                reply = await replica.client.send(sender, text, language)
            except RasaReplicaError as exc:
                self._mark_down(replica, exc)
                failure = exc
                continue
            if replica.down_until is not None:
                self._mark_up(replica)
            reply.replica, reply.replica_url = replica.index, replica.url
            return reply
        raise RasaUnavailableError(f"No Rasa replica answered ({len(ranking)} tried)") from failure

    # ---- health -------------------------------------------------------------------
    def _mark_down(self, replica: Replica, exc: Exception) -> None:
        if replica.down_until is None:
            logger.warning("rasa: replica %d (%s) down: %s", replica.index, replica.url, type(exc).__name__)
        replica.down_until = self.clock() + self.retry_after_s
        replica.error = str(exc)

    def _mark_up(self, replica: Replica) -> None:
        logger.info("rasa: replica %d (%s) up again", replica.index, replica.url)
        replica.down_until = None
        replica.error = None

    def _check_later(self, replica: Replica) -> None:
        """Past its back-off, ask a replica marked down for its status (once at a time)."""
        if replica.checking or replica.down_until is None or self.clock() < replica.down_until:
            return
        replica.checking = True
        task = asyncio.create_task(self._check(replica), name=f"rasa-check-{replica.index}")
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check(self, replica: Replica) -> None:
        try:
            status = await replica.client.status()
            if status.get("ready", True):
                self._mark_up(replica)
            else:
                self._mark_down(replica, RasaReplicaError("Rasa is not ready (no model loaded)"))
        except RasaUnavailableError as exc:
            self._mark_down(replica, exc)
        finally:
            replica.checking = False

    async def status(self) -> dict[str, Any]:
        """The first replica's status that answers ready, with every replica's own (by index:
        readiness is asked through the load balancer, the servers' addresses stay inside)."""
        results = await asyncio.gather(*(r.client.status() for r in self.replicas), return_exceptions=True)
        each: list[dict[str, object]] = []
        first: dict[str, Any] | None = None
        for replica, result in zip(self.replicas, results, strict=True):
            if isinstance(result, dict):
                each.append({"index": replica.index, "ok": True,
                             "ready": bool(result.get("ready", True)), "model_id": result.get("model_id")})
                if first is None and result.get("ready", True):
                    first = result
            else:
                each.append({"index": replica.index, "ok": False, "error": str(result)})
        if first is None:
            if not any(e["ok"] for e in each):
                raise RasaUnavailableError("; ".join(f"replica {e['index']}: {e['error']}" for e in each))
            first = next(r for r in results if isinstance(r, dict))
        return {**first, "replicas": each}
