"""One turn at a time per conversation: in this process, or across gateways through Redis.

A citizen's turn, a staff action on a ticket and a call-back request run under their
conversation's lock (``async with locks.get(conversation_id):``), so the positions of a
conversation's messages are taken one after the other and a turn sees the state the
previous one left.

- :class:`LocalConversationLocks`: one ``asyncio.Lock`` per conversation (one gateway).
- :class:`RedisConversationLocks`: the local lock first (waiters in this process queue in
  order), then a lease in Redis shared by every gateway: ``SET key token NX PX ttl``, renewed
  while it is held and released by compare-and-delete, so a gateway only ever extends or
  deletes its own lease. A gateway that dies holding a lease blocks the conversation until
  the lease expires (``ttl``). Past ``wait_s`` without the lease, or with Redis unreachable,
  the request is refused with a 503 the widget retries: nothing has been written by then.

Rasa's own lock store (a read-modify-write of one key in Rasa 3.6, not atomic across Rasa
replicas) stays configured as a second line of defence; this lock is the first, taken before
a turn reaches Rasa. The database's unique message positions are the last.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from gateway.errors import UnavailableError

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

BUSY = ("Samtalet är upptaget med ett tidigare meddelande. Försök igen om en liten stund. / "
        "The conversation is busy with an earlier message. Try again in a moment.")
UNREACHABLE = ("Tjänsten är tillfälligt otillgänglig. Försök igen om en liten stund. / "
               "The service is temporarily unavailable. Try again in a moment.")

# KEYS[1] = lock key, ARGV[1] = token: delete only our own lease.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS[1] = lock key, ARGV[1] = token, ARGV[2] = ttl (ms): extend only our own lease.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class ConversationLocks(Protocol):
    def get(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[object]:
        """The conversation's lock, entered with ``async with``."""
        ...


class LocalConversationLocks:
    """One asyncio lock per conversation, so its turns run one at a time, in order."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock


class RedisConversationLocks:
    """The conversation's lock shared by every gateway on one Redis (see the module text)."""

    def __init__(self, client: Redis, prefix: str, *, ttl_s: float = 10.0, wait_s: float = 30.0,
                 poll_s: float = 0.02) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.wait_s = wait_s
        self.poll_s = poll_s
        self._local = LocalConversationLocks()
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)

    def get(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[object]:
        return self._held(conversation_id)

    @contextlib.asynccontextmanager
    async def _held(self, conversation_id: str) -> AsyncIterator[object]:
        async with self._local.get(conversation_id):
            key = f"{self.prefix}lock:{conversation_id}"
            token = await self.acquire(key)
            renewal = asyncio.create_task(self._keep(key, token), name=f"lock-renew-{token[:8]}")
            try:
                yield token
            finally:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
                await self.release(key, token)

    async def acquire(self, key: str) -> str:
        """Take the lease on ``key`` and return its token, or raise ``UnavailableError``."""
        import redis.asyncio as redis

        token = secrets.token_hex(16)
        deadline = time.monotonic() + self.wait_s
        delay = self.poll_s
        while True:
            try:
                if await self.client.set(key, token, nx=True, px=self.ttl_ms):
                    return token
            except (OSError, redis.RedisError) as exc:
                logger.warning("locks: redis unreachable (%s)", type(exc).__name__)
                raise UnavailableError(UNREACHABLE) from exc
            if time.monotonic() >= deadline:
                logger.warning("locks: gave up waiting %.1f s for a conversation lock", self.wait_s)
                raise UnavailableError(BUSY)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    async def release(self, key: str, token: str) -> None:
        import redis.asyncio as redis

        try:
            if not await self._release(keys=[key], args=[token]):
                logger.warning("locks: a lease expired before it was released (a turn ran past its ttl)")
        except (OSError, redis.RedisError) as exc:  # it expires by itself
            logger.warning("locks: release failed (%s); the lease expires in its ttl", type(exc).__name__)

    async def _keep(self, key: str, token: str) -> None:
        """Extend the lease every third of its ttl while the turn runs."""
        import redis.asyncio as redis

        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self._renew(keys=[key], args=[token, self.ttl_ms]):
                    logger.warning("locks: lease lost while held (expired after a stall)")
                    return
            except (OSError, redis.RedisError) as exc:
                logger.warning("locks: renewal failed (%s)", type(exc).__name__)
