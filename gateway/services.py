"""The running gateway's parts, built once in the lifespan and shared by the routes."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gateway.basis import Release
from gateway.catalogue import Catalogue
from gateway.conversation_locks import ConversationLocks, LocalConversationLocks
from gateway.editor.workspace import EditorWorkspace
from gateway.handoff import HandoffQueue
from gateway.metrics import GatewayMetrics
from gateway.metrics_scrape import ScrapeReader
from gateway.pubsub import LocalBroker
from gateway.rasa_client import RasaPort
from gateway.ratelimit import ExpiringMap
from gateway.releases import ReleaseRegistry
from gateway.settings import Settings
from gateway.shared_limits import ConversationLimits, LocalLimiter, RateLimiter
from gateway.shared_login_throttle import InProcessLoginThrottle, LoginThrottlePort
from gateway.store import Store
from gateway.translation_port import TranslationPort
from gateway.turn import TurnService

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    store: Store
    rasa: RasaPort  # gateway/rasa_replicas.py
    catalogue: Catalogue
    translator: TranslationPort
    handoff: HandoffQueue
    turns: TurnService
    release: Release
    broker: LocalBroker
    releases: ReleaseRegistry
    metrics: GatewayMetrics
    scrape: ScrapeReader  # what /metrics reads at scrape time
    # In this process, or shared by every gateway through Redis (gateway/coordination.py).
    locks: ConversationLocks = field(default_factory=LocalConversationLocks)
    message_limiter: RateLimiter = field(default_factory=lambda: LocalLimiter(30))
    create_limiter: RateLimiter = field(default_factory=lambda: LocalLimiter(30))
    conversation_limits: ConversationLimits = field(default_factory=ConversationLimits)
    login_throttle: LoginThrottlePort = field(default_factory=InProcessLoginThrottle)
    # conversation id -> (ticket id, fingerprint of the call-back details) last saved, so a
    # repeated identical call-back request changes nothing and pokes nobody.
    recent_callbacks: ExpiringMap[tuple[str, str]] = field(default_factory=lambda: ExpiringMap(24 * 3600.0))
    # Background work the lifespan started (the daily retention purge), stopped with it.
    retention_task: asyncio.Task[None] | None = None
    # The editors' workspace (gateway/editor/), with its job runner; built in the lifespan.
    editor: EditorWorkspace | None = None
    # Follows the live model release and reads its answers ahead of Rasa (gateway/releases.py).
    release_task: asyncio.Task[None] | None = None
    # /om-ai's content release, read once on first use (routes/about.py).
    about_cache: dict[str, dict[str, object] | None] = field(default_factory=dict)
