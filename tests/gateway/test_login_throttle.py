"""Staff login throttling, as an attacker and as the staff member being attacked see it:
one budget per account however the name is written, a cap per address, a short delay that
cannot lock staff out, no Argon2 work for throttled guesses, and nothing typed into the
username field stored when it is no account. Time is a fake clock; nothing sleeps."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway import staff_accounts
from gateway.login_throttle import LoginThrottle
from gateway.shared_login_throttle import InProcessLoginThrottle
from gateway.store import audit_events
from tests.gateway.staff_helpers import PASSWORD, make_staff

# The same account for the lookup: whitespace (ASCII, tab, no-break, em space), case,
# fullwidth letters (NFKC) and an invisible zero-width joiner.
VARIANTS = [" anna", "anna\t", "ANNA\u00a0", "\uff41\uff4e\uff4e\uff41", "anna\u2003", "an\u200dna"]
WRONG = "not the password"


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class CountingHasher:
    """Counts Argon2 verifications (the expensive part of a login attempt)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified = 0

    def verify(self, *args: Any) -> Any:
        self.verified += 1
        return self.real.verify(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@asynccontextmanager
async def from_address(client: httpx.AsyncClient, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on ``address``, talking to the same running gateway."""
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as other:
        yield other


async def login(client: httpx.AsyncClient, username: str, password: str = WRONG) -> httpx.Response:
    return await client.post("/staff/api/login", json={"username": username, "password": password})


@pytest.fixture
def clock() -> Clock:
    return Clock()


def throttled(client: httpx.AsyncClient, clock: Clock) -> None:
    client.app.state.services.login_throttle = InProcessLoginThrottle(  # type: ignore[attr-defined]
        LoginThrottle(clock=clock))


async def test_spelling_variants_of_one_name_share_one_budget_and_cost_no_argon2_when_throttled(
    gateway_factory: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher(staff_accounts._hasher)
    monkeypatch.setattr(staff_accounts, "_hasher", hasher)
    async with gateway_factory() as client:
        throttled(client, clock)
        make_staff(client.app.state.services.store)
        assert staff_accounts.normalise_username(VARIANTS[3]) == "anna"

        answers = [await login(client, name) for name in VARIANTS * 2]
        assert [a.status_code for a in answers[:5]] == [401] * 5  # five free guesses in all
        assert [a.status_code for a in answers[5:]] == [429] * 7
        assert hasher.verified == 5  # the throttled seven cost no hashing
        limited = answers[-1]
        assert limited.json()["error"]["message"] == (
            "För många inloggningsförsök. Vänta 1 sekund och försök igen."
        )
        assert limited.headers["Retry-After"] == "1"

        clock.now += 1  # the delay is short: the owner gets in after it
        assert (await login(client, "Anna", PASSWORD)).status_code == 200


async def test_the_account_delay_doubles_but_never_exceeds_30_seconds(gateway_factory: Any, clock: Clock) -> None:
    async with gateway_factory() as client:
        throttled(client, clock)
        make_staff(client.app.state.services.store)
        addresses = (f"198.51.100.{i}" for i in range(100))  # a fresh address per guess: no address cap

        async def guess() -> httpx.Response:
            async with from_address(client, next(addresses)) as attacker:
                return await login(attacker, "anna")

        assert [(await guess()).status_code for _ in range(5)] == [401] * 5
        waits = []
        for _ in range(8):
            refused = await guess()
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            assert (await guess()).status_code == 429  # hammering does not lengthen it
            clock.now += waits[-1]
            assert (await guess()).status_code == 401  # after the wait, one more guess
        assert waits == [1, 2, 4, 8, 16, 30, 30, 30]
        clock.now += 30
        async with from_address(client, "203.0.113.7") as owner:  # the owner still gets in
            assert (await login(owner, "anna", PASSWORD)).status_code == 200


async def test_one_address_gets_20_guesses_in_ten_minutes_whatever_names_it_tries(
    gateway_factory: Any, clock: Clock
) -> None:
    async with gateway_factory() as client:
        throttled(client, clock)
        make_staff(client.app.state.services.store)
        answers = [await login(client, f"guess{i}") for i in range(25)]
        assert [a.status_code for a in answers] == [401] * 20 + [429] * 5
        assert int(answers[-1].headers["Retry-After"]) == 600
        # the cap is the address's, not the account's: anna elsewhere is not locked out
        async with from_address(client, "203.0.113.7") as owner:
            assert (await login(owner, "anna", PASSWORD)).status_code == 200
        clock.now += 601
        assert (await login(client, "anna", PASSWORD)).status_code == 200


async def test_guesses_from_elsewhere_do_not_slow_staff_at_their_usual_address(
    gateway_factory: Any, clock: Clock
) -> None:
    async with gateway_factory() as client:
        throttled(client, clock)
        make_staff(client.app.state.services.store)
        async with from_address(client, "10.1.2.3") as desk:
            assert (await login(desk, "anna", PASSWORD)).status_code == 200
            for i in range(10):
                async with from_address(client, f"198.51.100.{i}") as attacker:
                    await login(attacker, "anna")
            async with from_address(client, "192.0.2.44") as stranger:
                assert (await login(stranger, "anna", PASSWORD)).status_code == 429
            assert (await login(desk, "anna", PASSWORD)).status_code == 200


async def test_a_failed_login_does_not_store_what_was_typed_as_the_username(gateway_factory: Any) -> None:
    typed = "Sommar2024!hemligt"  # a password typed into the username field
    async with gateway_factory() as client:
        store = client.app.state.services.store
        make_staff(store)
        for name in (typed, typed, "Vinter1999?annat"):
            assert (await login(client, name)).status_code == 401
        assert (await login(client, "anna")).status_code == 401  # a real account, wrong password
        with store.connect() as conn:
            rows = conn.execute(
                select(audit_events).where(audit_events.c.action == "staff.login_failed").order_by(audit_events.c.id)
            ).all()
        stored = " ".join(f"{r.actor} {r.target} {r.detail}" for r in rows).lower()
        for fragment in ("sommar", "2024", "hemligt", "vinter", "annat"):
            assert fragment not in stored
        actors = [r.actor for r in rows]
        assert actors[0] == actors[1] != actors[2]  # repeats can be correlated
        assert all(a.startswith("unknown:") for a in actors[:3])
        assert actors[3] == "anna"  # a known account is named: staff can see it was attacked
