"""The staff login throttle: how many password guesses an address and an account may get.

Three rules, checked before any password is hashed (a throttled attempt costs no Argon2):

- **Per address**: at most ``address_limit`` failed attempts in ``address_window`` seconds,
  whatever usernames they name. A successful login gives its attempt back.
- **Per account**: after ``free_failures`` failures in a row (from anywhere), each further
  attempt waits ``base_delay * 2**n`` seconds after the last failure, capped at
  ``max_delay``. The delay is short on purpose: an attacker can slow an account down, never
  lock its owner out for long. Refused attempts do not lengthen it; a success ends it.
- **Second factor**: an attempt with the right password that is asked for the code (it sent
  none) is given back; each attempt *with* a code counts like a password attempt.
- **Known address**: an address from which the account logged in within ``trust_for``
  seconds is exempt from the account delay (never from the address cap), so staff at their
  usual desk are not slowed down by guesses from elsewhere.

An attempt counts as a failure from the moment it starts (and is given back on success),
so parallel requests cannot all slip past the check before the first one fails.

Accounts are keyed by the normalised username (``staff_accounts.normalise_username``), the same
form the account lookup uses: " anna", "ANNA\\u00a0" and fullwidth "ａｎｎａ" share one budget.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from gateway.ratelimit import MAX_KEYS, Clock, ExpiringMap, SlidingWindowLimiter


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    def __init__(
        self,
        *,
        address_limit: int = 20,
        address_window: float = 600.0,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        forget_after: float = 900.0,
        trust_for: float = 12 * 3600.0,
        max_keys: int = MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self._addresses = SlidingWindowLimiter(address_limit, address_window, max_keys=max_keys, clock=clock)
        self._accounts: ExpiringMap[_Failures] = ExpiringMap(forget_after, max_keys=max_keys, clock=clock)
        self._known: ExpiringMap[bool] = ExpiringMap(trust_for, max_keys=max_keys, clock=clock)

    def _account_wait(self, address: str, account: str, now: float) -> float:
        if self._known.get(f"{address}|{account}"):
            return 0.0
        failures = self._accounts.get(account)
        if failures is None or failures.count < self.free_failures:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2.0 ** (failures.count - self.free_failures))
        return max(0.0, failures.last + delay - now)

    def begin(self, address: str, account: str) -> float:
        """Start one attempt: 0.0 to go ahead and check the password, else the seconds to wait
        (nothing is counted then)."""
        now = self.clock()
        wait = max(self._addresses.retry_after(address), self._account_wait(address, account, now))
        if wait > 0:
            return wait
        self._addresses.take(address)
        failures = self._accounts.get(account)
        self._accounts.put(account, _Failures((failures.count if failures else 0) + 1, now))
        return 0.0

    def succeeded(self, address: str, account: str) -> None:
        """The attempt begun for ``account`` from ``address`` logged in."""
        self._addresses.refund(address)
        self._accounts.pop(account)
        self._known.put(f"{address}|{account}", True)


    def asked_for_code(self, address: str, account: str) -> None:
        """The attempt begun found the right password and is asked for the second factor: it
        tried no code, so it is given back (the attempt with the code is counted as usual)."""
        self._addresses.refund(address)
        failures = self._accounts.get(account)
        if failures is not None and failures.count > 1:
            self._accounts.put(account, _Failures(failures.count - 1, failures.last))
        elif failures is not None:
            self._accounts.pop(account)


def refusal(wait: float) -> str:
    """The message for a throttled login, in Swedish like the rest of the console."""
    seconds = max(1, math.ceil(wait))
    if seconds < 120:
        when = f"{seconds} sekund" if seconds == 1 else f"{seconds} sekunder"
    else:
        when = f"{math.ceil(seconds / 60)} minuter"
    return f"För många inloggningsförsök. Vänta {when} och försök igen."
