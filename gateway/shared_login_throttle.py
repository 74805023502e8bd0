"""The staff login throttle shared by every gateway through Redis (``REDIS_URL`` set), with
the rules of :class:`gateway.login_throttle.LoginThrottle`: at most ``address_limit`` attempts
per address in ``address_window`` seconds; after ``free_failures`` failures in a row an
account waits ``base_delay * 2**n`` (at most ``max_delay``) after its last failure, except
from an address it logged in from within ``trust_for`` seconds. Each operation is one Lua
script on Redis's own clock, so two gateways cannot both slip past a check.

Keys (under the gateway's shared prefix): ``login:addr:<address>`` a sorted set of attempt
times, ``login:acct:<account>`` a hash {count, last}, ``login:known:<address>|<account>``.
Without Redis the gateway uses the in-process throttle (:class:`InProcessLoginThrottle`).
"""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Protocol

from gateway.login_throttle import LoginThrottle

if TYPE_CHECKING:
    from redis.asyncio import Redis

_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"
BEGIN = _NOW + """
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local free, base, max, forget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local wait = 0
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = tonumber(oldest[2]) + window - now
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
  if count >= free then
    local last = tonumber(redis.call('HGET', KEYS[2], 'last') or '0')
    wait = math.max(wait, last + math.min(max, base * 2 ^ (count - free)) - now)
  end
end
if wait > 0 then return tostring(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[7])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HSET', KEYS[2], 'last', tostring(now))
redis.call('EXPIRE', KEYS[2], math.ceil(forget))
return '0'
"""
SUCCEEDED = """
redis.call('ZPOPMAX', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[1]))
return 1
"""
ASKED_FOR_CODE = """
redis.call('ZPOPMAX', KEYS[1])
if redis.call('HINCRBY', KEYS[2], 'count', -1) <= 0 then redis.call('DEL', KEYS[2]) end
return 1
"""


class LoginThrottlePort(Protocol):
    async def begin(self, address: str, account: str) -> float: ...
    async def succeeded(self, address: str, account: str) -> None: ...
    async def asked_for_code(self, address: str, account: str) -> None: ...


class InProcessLoginThrottle:
    """The throttle of one gateway process (no Redis)."""

    def __init__(self, throttle: LoginThrottle | None = None) -> None:
        self.throttle = throttle or LoginThrottle()

    async def begin(self, address: str, account: str) -> float:
        return self.throttle.begin(address, account)

    async def succeeded(self, address: str, account: str) -> None:
        self.throttle.succeeded(address, account)

    async def asked_for_code(self, address: str, account: str) -> None:
        self.throttle.asked_for_code(address, account)


class RedisLoginThrottle:
    def __init__(self, client: Redis, prefix: str, *, address_limit: int = 20, address_window: float = 600.0,
                 free_failures: int = 5, base_delay: float = 1.0, max_delay: float = 30.0,
                 forget_after: float = 900.0, trust_for: float = 12 * 3600.0) -> None:
        self.client = client
        self.prefix = f"{prefix}login:"
        self.args = (address_window, address_limit, free_failures, base_delay, max_delay, forget_after)
        self.trust_for = int(trust_for)

    def _keys(self, address: str, account: str) -> list[str]:
        return [f"{self.prefix}addr:{address}", f"{self.prefix}acct:{account}",
                f"{self.prefix}known:{address}|{account}"]

    async def begin(self, address: str, account: str) -> float:
        keys = self._keys(address, account)
        wait = await self.client.eval(BEGIN, 3, *keys, *self.args, secrets.token_hex(8))
        return float(wait)

    async def succeeded(self, address: str, account: str) -> None:
        await self.client.eval(SUCCEEDED, 3, *self._keys(address, account), self.trust_for)

    async def asked_for_code(self, address: str, account: str) -> None:
        await self.client.eval(ASKED_FOR_CODE, 3, *self._keys(address, account))
