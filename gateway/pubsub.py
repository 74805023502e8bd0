"""Live updates between the parts of the gateway: in-process, or through Redis across replicas.

Events are small *pokes* (``{"type": "ticket", "ticket_id": ..., "conversation_id": ...}``);
they never carry citizens' text. Whoever streams to a browser reads the database when poked,
so an event that is lost or coalesced costs latency, never a message: the database is the
truth, the broker only says "look now".

Channels: ``staff`` (every console), ``queue`` (queue order changed: positions move) and
``conversation:<id>`` (one citizen's stream).

- :class:`LocalBroker` delivers within this process (one gateway).
- :class:`RedisBroker` publishes to Redis and delivers what Redis sends back, so every
  replica sharing ``REDIS_URL`` (and the database) sees every event exactly once. Channel names
  are prefixed with a hash of the database URL, so two deployments on one Redis stay apart.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Protocol

from gateway.jsontypes import text

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

QUEUE_SIZE = 256
Event = dict[str, object]


class PubSubError(RuntimeError):
    """The broker cannot be used (e.g. Redis is not reachable at start-up)."""


class Subscription:
    """Events for a set of channels, in the order they were delivered to this process."""

    def __init__(self, channels: tuple[str, ...]) -> None:
        self.channels = channels
        self._queue: asyncio.Queue[tuple[str, Event]] = asyncio.Queue(QUEUE_SIZE)

    def put(self, channel: str, event: Event) -> None:
        if self._queue.full():  # a stalled reader: drop the oldest poke, it only said "look now"
            self._queue.get_nowait()
        self._queue.put_nowait((channel, event))

    async def get(self, timeout: float) -> tuple[str, Event] | None:
        """The next ``(channel, event)``, or None after ``timeout`` seconds of quiet."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


class Broker(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def publish(self, channel: str, event: Event) -> None: ...
    def subscribe(self, *channels: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class LocalBroker:
    """Delivers to subscribers in this process. ``publish`` may be called from any thread."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        self._subscribers.clear()

    def publish(self, channel: str, event: Event) -> None:
        self._call_on_loop(self.deliver, channel, event)

    def deliver(self, channel: str, event: Event) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(channel, event)

    def _call_on_loop(self, fn: Callable[..., object], *args: object) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is not None and running is not self._loop:
            self._loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channels)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            for channel in channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[channel]


class RedisBroker(LocalBroker):
    """Publishes through Redis; delivers locally only what comes back from Redis."""

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__()
        self.url = url
        self.prefix = f"karlstad:{namespace}:"
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._client: Redis | None = None

    async def start(self) -> None:
        import redis.asyncio as redis

        await super().start()
        self._client = redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=30)
        try:
            await self._client.ping()
        except (OSError, redis.RedisError) as exc:
            await self._client.aclose()
            raise PubSubError(
                f"Redis at {self.url.split('@')[-1]} is not reachable ({type(exc).__name__}). "
                "Start Redis or unset REDIS_URL to use in-process updates (one gateway only)."
            ) from exc
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._write())]
        await asyncio.wait_for(self._subscribed.wait(), timeout=5)
        logger.info("pubsub: redis prefix=%s", self.prefix)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
        await super().close()

    @property
    def _redis(self) -> Redis:
        if self._client is None:
            raise PubSubError("The Redis broker is used before start().")
        return self._client

    def publish(self, channel: str, event: Event) -> None:
        self._call_on_loop(self._outbox.put_nowait, (self.prefix + channel, json.dumps(event)))

    async def _write(self) -> None:
        import redis.asyncio as redis

        while True:
            channel, payload = await self._outbox.get()
            for attempt in range(5):
                try:
                    await self._redis.publish(channel, payload)
                    break
                except (OSError, redis.RedisError) as exc:
                    logger.warning("pubsub: publish failed (%s), retry %d", type(exc).__name__, attempt + 1)
                    await asyncio.sleep(0.2 * (attempt + 1))

    async def _read(self) -> None:
        import redis.asyncio as redis

        backoff = 0.2
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._subscribed.set()
                backoff = 0.2
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = _text(message["channel"])[len(self.prefix):]
                    try:
                        event = json.loads(_text(message["data"]))
                    except ValueError:
                        logger.warning("pubsub: ignored a message that is not JSON on %s", channel)
                        continue
                    self.deliver(channel, event)
            except (OSError, redis.RedisError) as exc:
                logger.warning("pubsub: redis subscription lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def create_broker(redis_url: str, database_url: str) -> LocalBroker:
    if not redis_url:
        return LocalBroker()
    namespace = hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:12]
    return RedisBroker(redis_url, namespace)


# ---- what the gateway publishes ------------------------------------------------------
def notify(
    broker: Broker, kind: str, conversation_id: str, ticket_id: str | None = None, *, queue: bool = False
) -> None:
    """Poke the consoles, the conversation's own stream and, when the order changed, the queue."""
    event: Event = {"type": kind, "conversation_id": conversation_id, "ticket_id": ticket_id}
    broker.publish("staff", event)
    broker.publish(f"conversation:{conversation_id}", event)
    if queue:
        broker.publish("queue", {"type": "queue"})


def turn_publisher(broker: Broker) -> Callable[[str, Event], None]:
    """The ``publish(channel, event)`` callback for :class:`gateway.turn.TurnService`."""

    def publish(channel: str, event: Event) -> None:
        conversation_id = event.get("conversation_id")
        if channel == "staff" and conversation_id:
            kind = str(event.get("type", "update"))
            notify(broker, kind, str(conversation_id), text(event.get("ticket_id")), queue=kind == "ticket")
        else:
            broker.publish(channel, event)

    return publish
