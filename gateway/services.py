"""The running gateway's parts, built once in the lifespan and shared by the routes."""
from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gateway.catalogue import Catalogue
from gateway.handoff import HandoffQueue
from gateway.rasa_client import RasaClient
from gateway.settings import Settings
from gateway.store import Store
from gateway.turn import Release, TranslationPort, TurnService


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds per key (in this process)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 50_000:  # bounded memory
            self._events = {k: v for k, v in self._events.items() if v}
        return True


class ConversationLocks:
    """One asyncio lock per conversation, so its turns run one at a time, in order."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock


@dataclass
class Services:
    settings: Settings
    store: Store
    rasa: RasaClient
    catalogue: Catalogue
    translator: TranslationPort
    handoff: HandoffQueue
    turns: TurnService
    release: Release
    locks: ConversationLocks = field(default_factory=ConversationLocks)
    message_limiter: SlidingWindowLimiter = field(default_factory=lambda: SlidingWindowLimiter(30))
    create_limiter: SlidingWindowLimiter = field(default_factory=lambda: SlidingWindowLimiter(30))
    extras: dict[str, Any] = field(default_factory=dict)
