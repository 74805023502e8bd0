"""Staff single sign-on against a real OpenID Connect provider (panva's oidc-provider under
Node.js, tests/oidc/): the authorization code flow with PKCE through the provider's login page,
an existing account found by e-mail and linked, unknown, deactivated and unverified people
refused with a Swedish message, a callback that is replayed or lands in another browser
refused, and a provider that does not answer. The gateway runs in process (ASGITransport at
http://gateway); everything between it and the provider is real HTTP on loopback."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.staff_accounts import create_user
from gateway.store import audit_events, staff_identities
from tests.gateway.staff_helpers import make_staff, staff_login
from tests.oidc.provider import RunningProvider, oidc_provider
from tests.pg import temporary_database

CALLBACK = "http://gateway/staff/sso/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    with oidc_provider([CALLBACK], unverified=["ulla"]) as running:
        yield running


@asynccontextmanager
async def browser(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: the gateway in process at http://gateway, the provider over real HTTP."""
    mounts = {"http://gateway": httpx.ASGITransport(app=client.app)}  # type: ignore[attr-defined]
    async with httpx.AsyncClient(mounts=mounts, base_url="http://gateway", follow_redirects=True,
                                 timeout=20) as other:
        other.app = client.app  # type: ignore[attr-defined]
        yield other


async def provider_login(web: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    """Press "Logga in med kommunens konto", then fill in the provider's login page."""
    page = await web.get("/staff/sso/login")
    assert page.status_code == 200 and "Kommunens inloggning" in page.text, page.text[:500]
    assert page.url.host == "localhost" and "code_challenge_method=S256" in str(page.history[-1].url)
    form = page.url.copy_with(path=f"{page.url.path}/login", query=None)
    return await web.post(str(form), data={"login": login, "password": password})


def audit(client: httpx.AsyncClient) -> list[tuple[str, str, Any]]:
    with client.app.state.services.store.connect() as conn:  # type: ignore[attr-defined]
        return [(r.actor, r.action, r.detail) for r in conn.execute(select(audit_events).order_by(audit_events.c.id))]


async def messages(web: httpx.AsyncClient) -> dict[str, str]:
    options = (await web.get("/staff/api/login-options")).json()
    assert options["sso"] is True and options["sso_label"] == "Logga in med kommunens konto"
    return dict(options["sso_messages"])


async def test_staff_member_logs_in_with_the_municipal_account(gateway_factory: Any, provider: RunningProvider) -> None:
    async with gateway_factory(**provider.settings(CALLBACK)) as client, browser(client) as web:
        store = client.app.state.services.store
        make_staff(store, "anna", "Anna", "staff")
        landed = await provider_login(web, "anna", provider.password)
        assert landed.status_code == 200 and str(landed.url) == "http://gateway/staff"
        me = (await web.get("/staff/api/me")).json()
        assert me["user"]["username"] == "anna" and me["login_method"] == "oidc" and me["needs_totp"] is False
        queue = await web.get("/staff/api/queue")
        assert queue.status_code == 200
        with store.connect() as conn:
            linked = conn.execute(select(staff_identities)).one()
        assert linked.subject == "anna" and linked.issuer == provider.issuer
        assert ("anna", "staff.sso_linked", {"issuer": provider.issuer}) in audit(client)
        assert ("anna", "staff.login", {"method": "oidc", "issuer": provider.issuer}) in audit(client)
        # A second login goes by the link and links nothing new.
        web.cookies.clear()
        again = await provider_login(web, "anna", provider.password)
        assert str(again.url) == "http://gateway/staff" and (await web.get("/staff/api/me")).status_code == 200
        assert [a for _, a, _ in audit(client)].count("staff.sso_linked") == 1


async def test_admin_from_sso_needs_no_local_code_and_sso_only_accounts_have_no_password(
        gateway_factory: Any, provider: RunningProvider) -> None:
    async with gateway_factory(**provider.settings(CALLBACK)) as client, browser(client) as web:
        store = client.app.state.services.store
        make_staff(store, "adam", "Adam", "admin")
        create_user(store, "bodil", "Bodil", "staff", None)  # single sign-on only
        await provider_login(web, "adam", provider.password)
        users = await web.get("/staff/api/admin/users")
        assert users.status_code == 200, users.text  # the provider's MFA stands for the second factor
        refused = await client.post("/staff/api/login", json={"username": "bodil", "password": "!sso-only"})
        assert refused.status_code == 401 and refused.json()["error"]["message"] == "Fel användarnamn eller lösenord."
        web.cookies.clear()
        await provider_login(web, "bodil", provider.password)
        assert (await web.get("/staff/api/me")).json()["user"]["username"] == "bodil"


async def test_people_without_a_usable_account_are_refused_in_swedish(
        gateway_factory: Any, provider: RunningProvider) -> None:
    async with gateway_factory(**provider.settings(CALLBACK)) as client, browser(client) as web:
        store = client.app.state.services.store
        make_staff(store, "anna", "Anna", "staff")
        make_staff(store, "dag", "Dag", "staff")
        make_staff(store, "ulla", "Ulla", "staff")
        from gateway import staff_lifecycle
        staff_lifecycle.set_active(store, "dag", False, "cli")
        text = await messages(web)
        for login, reason in (("okand", "no_account"), ("dag", "deactivated"), ("ulla", "no_account")):
            web.cookies.clear()
            landed = await provider_login(web, login, provider.password)
            assert str(landed.url) == f"http://gateway/staff?sso={reason}", login
            assert (await web.get("/staff/api/me")).status_code == 401, login
        # "Anna" is another person at the provider (subject "Anna") whose e-mail names the account anna.
        web.cookies.clear()
        await provider_login(web, "anna", provider.password)
        web.cookies.clear()
        other = await provider_login(web, "Anna", provider.password)
        assert str(other.url) == "http://gateway/staff?sso=other_identity"
        assert "inget konto i chattens personalgränssnitt" in text["no_account"]
        assert "inaktiverat" in text["deactivated"]
        failures = [(actor, detail) for actor, action, detail in audit(client) if action == "staff.login_failed"]
        assert [d["reason"] for _, d in failures] == ["no_account", "deactivated", "no_account", "other_identity"]
        assert failures[0][0].startswith("unknown:") and "okand" not in str(failures)


async def test_a_callback_replayed_or_in_another_browser_opens_no_session(
        gateway_factory: Any, provider: RunningProvider) -> None:
    async with gateway_factory(**provider.settings(CALLBACK)) as client, browser(client) as web:
        make_staff(client.app.state.services.store, "anna", "Anna", "staff")
        landed = await provider_login(web, "anna", provider.password)
        callback = next(r.url for r in landed.history if r.url.path == "/staff/sso/callback")
        async with browser(client) as stranger:
            stolen = await stranger.get(str(callback))
            assert str(stolen.url) == "http://gateway/staff?sso=expired"
            assert (await stranger.get("/staff/api/me")).status_code == 401
        web.cookies.delete("staff_session")
        replay = await web.get(str(callback))
        assert str(replay.url) == "http://gateway/staff?sso=expired"
        assert (await web.get("/staff/api/me")).status_code == 401


async def test_a_provider_that_does_not_answer_is_explained(gateway_factory: Any) -> None:
    from scripts.stack import free_port

    settings = {"oidc_issuer": f"http://127.0.0.1:{free_port()}", "oidc_client_id": "x",
                "oidc_client_secret": "y", "oidc_redirect_url": CALLBACK}
    async with gateway_factory(**settings) as client, browser(client) as web:
        landed = await web.get("/staff/sso/login")
        assert str(landed.url) == "http://gateway/staff?sso=unavailable"
        assert "svarar inte" in (await messages(web))["unavailable"]


async def test_sso_off_and_password_login_off(gateway_factory: Any, provider: RunningProvider) -> None:
    async with gateway_factory() as client:
        options = (await client.get("/staff/api/login-options")).json()
        assert options["sso"] is False and options["password"] is True
        off = await client.get("/staff/sso/login")
        assert off.status_code == 303 and off.headers["location"] == "/staff?sso=off"
    async with gateway_factory(staff_password_login=False, **provider.settings(CALLBACK)) as client:
        make_staff(client.app.state.services.store)
        refused = await client.post("/staff/api/login", json={"username": "anna", "password": "x" * 12})
        assert refused.status_code == 403 and "kommunens konto" in refused.json()["error"]["message"]


@pytest.mark.postgres
async def test_sso_login_on_postgresql(gateway_factory: Any, provider: RunningProvider) -> None:
    with temporary_database() as url:
        async with gateway_factory(database_url=url, **provider.settings(CALLBACK)) as client, \
                browser(client) as web:
            assert client.app.state.services.store.dialect == "postgresql"
            make_staff(client.app.state.services.store, "per", "Per", "publisher")
            landed = await provider_login(web, "per", provider.password)
            assert str(landed.url) == "http://gateway/staff"
            assert (await web.get("/staff/api/me")).json()["needs_totp"] is False
            await staff_login(client, "per")  # the password login still asks for the code
