"""Rate limits kept in this process: sliding windows per key, in bounded memory.

Every structure here remembers keys oldest-first (an ``OrderedDict`` in the order they were
last written). A key whose last write is older than the time to live is expired; each call
drops expired keys from the front, so a key is dropped at most once per write and every
call is O(1) amortised. A hard cap (``max_keys``) bounds memory even when every key is live:
past it the least recently written key is forgotten, which can only ever give that one key
a fresh budget early.

Limits shared between replicas through Redis, and the per-conversation limits the routes
count against, are in ``gateway.shared_limits``; this is one gateway's view.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")
Clock = Callable[[], float]
MAX_KEYS = 100_000


class ExpiringMap(Generic[V]):
    """``key -> value`` that forgets a key ``ttl`` seconds after it was last written."""

    def __init__(self, ttl: float, *, max_keys: int = MAX_KEYS, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None or self.clock() - item[0] > self.ttl:
            return None
        return item[1]

    def put(self, key: str, value: V) -> None:
        now = self.clock()
        self._items[key] = (now, value)
        self._items.move_to_end(key)
        self._forget_expired(now)
        while len(self._items) > self.max_keys:
            self._items.popitem(last=False)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def _forget_expired(self, now: float) -> None:
        items = self._items
        while items:
            written, _ = next(iter(items.values()))
            if now - written <= self.ttl:
                return
            items.popitem(last=False)


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds per key (in this process)."""

    def __init__(
        self, limit: int, window: float = 60.0, *, max_keys: int = MAX_KEYS, clock: Clock = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        # A list per key, not a deque: at most ``limit`` floats; an empty deque alone is 760 bytes.
        self._events: ExpiringMap[list[float]] = ExpiringMap(window, max_keys=max_keys, clock=clock)

    def __len__(self) -> int:
        return len(self._events)

    def _live(self, key: str, now: float) -> list[float]:
        events = self._events.get(key) or []
        while events and now - events[0] >= self.window:
            del events[0]
        return events

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may have one more event; 0.0 if it may now. Takes nothing."""
        now = self.clock()
        events = self._live(key, now)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window - now)

    def take(self, key: str) -> float:
        """Record one event for ``key`` and return 0.0, or take nothing and return the seconds
        to wait."""
        now = self.clock()
        events = self._live(key, now)
        refused = len(events) >= self.limit
        wait = max(0.0, events[0] + self.window - now) if refused else 0.0
        if not refused:
            events.append(now)
        # Refused calls touch the key too: a key being hammered is never the one forgotten.
        self._events.put(key, events)
        return wait

    def allow(self, key: str) -> bool:
        return self.take(key) == 0.0

    def refund(self, key: str) -> None:
        """Give back the newest event of ``key`` (an attempt that turned out to be fine)."""
        events = self._events.get(key)
        if events:
            events.pop()


def wait_phrase(seconds: float) -> str:
    """'30 seconds', '4 minutes': how long to wait, rounded up, in words for a message."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


@dataclass(frozen=True)
class Limit:
    """``limit`` requests per ``window`` seconds; ``what`` names them in the 429 message."""

    limit: int
    window: float
    what: str

    def describe(self) -> str:
        return f"at most {self.limit} in {wait_phrase(self.window)}"


# Per conversation, for the citizen's endpoints besides sending a message (which has its own
# configurable limit). A widget stays far below these: it loads the transcript when it opens
# the event stream and every 10 s without one, and reconnects the stream with a backoff.
CONVERSATION_LIMITS: dict[str, Limit] = {
    "callback": Limit(5, 600.0, "call-back requests"),
    "feedback": Limit(30, 60.0, "votes on answers"),
    "language": Limit(10, 60.0, "language changes"),
    "transcript": Limit(30, 60.0, "transcript requests"),
    "events": Limit(20, 60.0, "event-stream connections"),
}
