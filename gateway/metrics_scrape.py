"""What /metrics reads when Prometheus scrapes: the handoff queue and the live model release
from the database, and the health of every configured Rasa and action server replica.

Each gateway replica reports the same queue (they share the database): aggregate those
series with ``max``, not ``sum``. Replicas are checked concurrently, each within
``PROBE_TIMEOUT_S``, so a scrape takes about that long at worst while a replica hangs.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from gateway.handoff.views import queue_figures
from gateway.metrics import ReplicaHealth, Snapshot
from gateway.rasa_client import HEALTH_PATH
from gateway.releases import ReleaseRegistry
from gateway.store import Store, utcnow

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Replica:
    kind: str  # "rasa" | "action_server"
    url: str

    @property
    def health_url(self) -> str:
        base = self.url.rstrip("/")
        return base + (HEALTH_PATH if self.kind == "rasa" else "/health")


def replicas(rasa_urls: Sequence[str], action_server_urls: Sequence[str]) -> list[Replica]:
    """The replicas to check, in the order configured (one URL of each kind today)."""
    return [Replica("rasa", url) for url in rasa_urls] + [Replica("action_server", url) for url in action_server_urls]


class ScrapeReader:
    """Builds one :class:`gateway.metrics.Snapshot` per scrape."""

    def __init__(
        self,
        store: Store,
        releases: ReleaseRegistry,
        targets: Sequence[Replica],
        rasa_token: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.releases = releases
        self.targets = list(targets)
        self._client = httpx.AsyncClient(timeout=PROBE_TIMEOUT_S, transport=transport)
        self._rasa_headers = {"Authorization": f"Bearer {rasa_token}"}

    async def close(self) -> None:
        await self._client.aclose()

    async def read(self) -> Snapshot:
        database, health = await asyncio.gather(self.store.run(self._database), self._probe_all())
        if database is None:
            return Snapshot(database_up=False, replicas=health)
        counts, oldest, release, model_id = database
        return Snapshot(database_up=True, open_tickets=counts, oldest_waiting_s=oldest,
                        model_release=release, model_id=model_id, replicas=health)

    def _database(self) -> tuple[dict[tuple[str, int], int], dict[int, float], str | None, str | None] | None:
        try:
            with self.store.connect() as conn:
                counts, oldest = queue_figures(conn, utcnow())
            live = self.releases.current_sync()
        except Exception as exc:  # noqa: BLE001 - reported as karlstad_database_up 0
            logger.warning("metrics: database not readable (%s)", type(exc).__name__)
            return None
        return counts, oldest, (str(live.id) if live else None), (live.model_id if live else None)

    async def _probe_all(self) -> tuple[ReplicaHealth, ...]:
        return tuple(await asyncio.gather(*(self._probe(target) for target in self.targets)))

    async def _probe(self, target: Replica) -> ReplicaHealth:
        headers = self._rasa_headers if target.kind == "rasa" else None
        try:
            response = await self._client.get(target.health_url, headers=headers)
        except httpx.HTTPError as exc:
            logger.info("metrics: %s %s did not answer (%s)", target.kind, target.url, type(exc).__name__)
            return ReplicaHealth(target.kind, target.url, up=False)
        model_id = None
        if target.kind == "rasa" and response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            found = body.get("model_id") if isinstance(body, dict) else None
            model_id = found if isinstance(found, str) else None
        return ReplicaHealth(target.kind, target.url, up=response.status_code == 200, model_id=model_id)
