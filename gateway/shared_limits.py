"""Rate limits the routes count against: in this process, or shared by every gateway through Redis.

With ``REDIS_URL`` set, two gateways behind a load balancer count against one limit (the
in-process windows of ``gateway.ratelimit`` would each allow the whole limit, doubling it).

:class:`RedisLimiter` keeps a sliding window per key as a sorted set of event times and
decides in one Lua script, so checking and recording an event is atomic across gateways:
drop events older than the window, refuse when ``limit`` remain (answering the seconds until
the oldest leaves), else record this one. Times come from the Redis server's clock, so the
gateways' clocks do not have to agree. When Redis cannot be reached the limiter counts in
this process instead (and says so in the log): a Redis outage neither lifts the limits nor
refuses every citizen.
"""
from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING, Protocol

from gateway.errors import RateLimitedError
from gateway.ratelimit import CONVERSATION_LIMITS, Clock, Limit, SlidingWindowLimiter, wait_phrase

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# KEYS[1] = window key; ARGV = limit, window (ms), a unique member. Returns 0 when the
# event was recorded, else the milliseconds until one more is allowed.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], window)
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter(Protocol):
    async def take(self, key: str) -> float:
        """Record one event for ``key`` and return 0.0, or record nothing and return the
        seconds to wait."""
        ...


class LocalLimiter:
    """A sliding window in this process (``gateway.ratelimit.SlidingWindowLimiter``)."""

    def __init__(self, limit: int, window: float = 60.0, *, clock: Clock = time.monotonic) -> None:
        self.window = SlidingWindowLimiter(limit, window, clock=clock)

    async def take(self, key: str) -> float:
        return self.window.take(key)


class RedisLimiter:
    """A sliding window in Redis, shared by every gateway with the same ``prefix``."""

    def __init__(self, client: Redis, prefix: str, name: str, limit: int, window: float = 60.0) -> None:
        self.prefix = f"{prefix}rate:{name}:"
        self.limit = limit
        self.window_ms = max(1, int(window * 1000))
        self._take = client.register_script(TAKE)
        self._fallback = SlidingWindowLimiter(limit, window)
        self._degraded = False

    async def take(self, key: str) -> float:
        import redis.asyncio as redis

        try:
            wait_ms = await self._take(keys=[self.prefix + key],
                                       args=[self.limit, self.window_ms, secrets.token_hex(8)])
        except (OSError, redis.RedisError) as exc:
            if not self._degraded:
                logger.warning("ratelimit: redis unreachable (%s); counting in this process",
                               type(exc).__name__)
                self._degraded = True
            return self._fallback.take(key)
        if self._degraded:
            logger.info("ratelimit: redis reachable again; limits shared again")
            self._degraded = False
        return float(wait_ms) / 1000


class LimiterFactory(Protocol):
    def __call__(self, name: str, limit: int, window: float) -> RateLimiter: ...


def local_limiters(name: str, limit: int, window: float) -> RateLimiter:
    return LocalLimiter(limit, window)


def redis_limiters(client: Redis, prefix: str) -> LimiterFactory:
    def build(name: str, limit: int, window: float) -> RateLimiter:
        return RedisLimiter(client, prefix, name, limit, window)

    return build


class ConversationLimits:
    """The citizen endpoints' limits, one sliding window per endpoint and conversation."""

    def __init__(self, limits: dict[str, Limit] | None = None, *,
                 limiters: LimiterFactory = local_limiters) -> None:
        self.limits = dict(limits or CONVERSATION_LIMITS)
        self._limiters = {name: limiters(name, limit.limit, limit.window) for name, limit in self.limits.items()}

    async def check(self, kind: str, conversation_id: str) -> None:
        """Count one ``kind`` request for the conversation, or raise ``RateLimitedError``."""
        wait = await self._limiters[kind].take(conversation_id)
        if wait > 0:
            limit = self.limits[kind]
            raise RateLimitedError(
                f"Too many {limit.what} in this conversation ({limit.describe()}). "
                f"Wait {wait_phrase(wait)} and try again.",
                retry_after_s=wait,
            )
