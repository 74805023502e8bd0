"""What gateways share when there are several: conversation locks, rate limits and the staff
login throttle.

Without ``REDIS_URL`` each gateway keeps them in its own process (one gateway: the
development runner, the tests). With it they live in Redis, under a prefix derived from the
database URL (as ``gateway.pubsub`` does for its channels), so every gateway of one
deployment shares them and two deployments on one Redis stay apart.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.conversation_locks import (
    ConversationLocks,
    LocalConversationLocks,
    RedisConversationLocks,
)
from gateway.settings import Settings
from gateway.shared_limits import LimiterFactory, local_limiters, redis_limiters
from gateway.shared_login_throttle import (
    InProcessLoginThrottle,
    LoginThrottlePort,
    RedisLoginThrottle,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis


def shared_prefix(database_url: str) -> str:
    return f"karlstad:{hashlib.sha256(database_url.encode('utf-8')).hexdigest()[:12]}:"


@dataclass
class Coordination:
    locks: ConversationLocks
    limiters: LimiterFactory
    login_throttle: LoginThrottlePort
    client: Redis | None = None

    @property
    def shared(self) -> bool:
        return self.client is not None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def coordination(settings: Settings) -> Coordination:
    """In-process locks and limits, or Redis ones when ``REDIS_URL`` is set."""
    if not settings.redis_url:
        return Coordination(LocalConversationLocks(), local_limiters, InProcessLoginThrottle())
    import redis.asyncio as redis

    client = redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=5,
                            health_check_interval=30)
    prefix = shared_prefix(settings.effective_database_url)
    locks = RedisConversationLocks(client, prefix, ttl_s=settings.conversation_lock_ttl_s,
                                   wait_s=settings.conversation_lock_wait_s)
    return Coordination(locks, redis_limiters(client, prefix), RedisLoginThrottle(client, prefix), client)
