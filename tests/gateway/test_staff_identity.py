"""Local staff accounts' identity: the TOTP second factor (enrolment in the console, required
for admin and publisher, codes used once), deactivation that ends the account's sessions and
its open live stream at once, a password change that needs the old password, and the
``staff-user`` command's actions; every change in the audit trail. SQLite and PostgreSQL."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from gateway import staff_sessions as sessions
from gateway.settings import Settings
from gateway.staff_accounts import create_user
from gateway.store import Store, audit_events
from tests.gateway.staff_helpers import (
    PASSWORD,
    make_staff,
    served_gateway,
    settings_for,
    sse,
    staff_login,
    totp_code,
)
from tests.pg import temporary_database

ROOT = Path(__file__).resolve().parents[2]


def actions(store: Store) -> list[tuple[str, str]]:
    with store.connect() as conn:
        return [(r.actor, r.action) for r in conn.execute(select(audit_events).order_by(audit_events.c.id))]


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD,
                code: str | None = None) -> httpx.Response:
    body = {"username": username, "password": password, **({"code": code} if code else {})}
    response = await client.post("/staff/api/login", json=body)
    if response.status_code == 200:
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return response


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield {}
        return
    with temporary_database() as url:
        yield {"database_url": url}


async def test_a_publisher_enrols_totp_in_the_console_before_anything_else(
        gateway_factory: Any, database: dict[str, str]) -> None:
    async with gateway_factory(**database) as client:
        store = client.app.state.services.store
        create_user(store, "per", "Per", "publisher", PASSWORD)  # no second factor yet
        first = await login(client, "per")
        assert first.status_code == 200 and first.json()["needs_totp"] is True
        blocked = await client.get("/staff/api/editor/changes")
        assert blocked.status_code == 403 and "tvåstegsverifiering" in blocked.json()["error"]["message"]
        assert (await client.get("/staff/api/me")).status_code == 200

        enrolment = (await client.post("/staff/api/account/totp")).json()
        assert enrolment["uri"].startswith("otpauth://totp/") and f"secret={enrolment['secret']}" in enrolment["uri"]
        app = pyotp.TOTP(enrolment["secret"])
        wrong = await client.post("/staff/api/account/totp/confirm", json={"code": "000000"
                                  if app.now() != "000000" else "111111"})
        assert wrong.status_code == 403 and "Koden stämmer inte" in wrong.json()["error"]["message"]
        junk = await client.post("/staff/api/account/totp/confirm", json={"code": "12345x"})
        assert junk.status_code == 422
        confirmed = await client.post("/staff/api/account/totp/confirm", json={"code": app.now()})
        assert confirmed.status_code == 200 and confirmed.json()["needs_totp"] is False
        assert (await client.get("/staff/api/editor/changes")).status_code == 200
        again = await client.post("/staff/api/account/totp")
        assert again.status_code == 409 and "redan aktiverad" in again.json()["error"]["message"]

        client.cookies.clear()
        asked = await login(client, "per")
        assert asked.status_code == 401 and asked.json()["error"]["code"] == "totp_required"
        replayed = await login(client, "per", code=app.now())  # the code that confirmed enrolment
        assert replayed.status_code == 401 and "Koden stämmer inte" in replayed.json()["error"]["message"]
        code = totp_code(store, "per")
        ok = await login(client, "per", code=code)
        assert ok.status_code == 200 and ok.json()["login_method"] == "password+totp"
        client.cookies.clear()
        assert (await login(client, "per", code=code)).status_code == 401  # each code once
        wrong_password = await login(client, "per", password="not the password", code=totp_code(store, "per"))
        assert wrong_password.json()["error"]["message"] == "Fel användarnamn eller lösenord."
    assert [a for a in actions(store) if a[0] == "per"] == [
        ("per", "staff.login"), ("per", "staff.totp_enrolment_started"), ("per", "staff.totp_enrolled"),
        ("per", "staff.login_failed"), ("per", "staff.login"), ("per", "staff.login_failed"),
        ("per", "staff.login_failed")]


async def test_staff_without_a_second_factor_log_in_as_before(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        make_staff(client.app.state.services.store)
        response = await login(client, "anna")
        assert response.status_code == 200 and response.json()["needs_totp"] is False
        assert (await client.get("/staff/api/queue")).status_code == 200


async def test_deactivating_an_account_ends_its_sessions_and_live_stream_at_once(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path)) as gw, \
            httpx.AsyncClient(base_url=gw.url, timeout=10) as admin, \
            httpx.AsyncClient(base_url=gw.url, timeout=10) as anna, \
            httpx.AsyncClient(base_url=gw.url, timeout=10) as annas_laptop:
        store = gw.services.store
        make_staff(store, "adam", "Adam", "admin")
        make_staff(store, "anna", "Anna", "staff")
        admin.app = anna.app = gw.app  # type: ignore[attr-defined]
        await staff_login(admin, "adam")
        await staff_login(anna, "anna")
        await staff_login(annas_laptop, "anna")
        forbidden = await anna.post("/staff/api/admin/users/adam/deactivate")
        assert forbidden.status_code == 403
        themselves = await admin.post("/staff/api/admin/users/adam/deactivate")
        assert themselves.status_code == 409 and "ditt eget konto" in themselves.json()["error"]["message"]
        async with sse(anna, "/staff/api/events") as stream:
            await stream.wait_for(lambda s: bool(s.named("hello")))
            done = await admin.post("/staff/api/admin/users/anna/deactivate")
            assert done.status_code == 200, done.text
            assert done.json()["sessions_ended"] == 2 and done.json()["account"]["active"] is False
            await stream.wait_for(lambda s: bool(s.named("logged_out")), timeout=2)
        for client in (anna, annas_laptop):
            assert (await client.get("/staff/api/queue")).status_code == 401
        assert (await login(anna, "anna")).status_code == 401
        listed = (await admin.get("/staff/api/admin/users")).json()["accounts"]
        assert {a["username"]: (a["active"], a["totp"]) for a in listed} == {
            "adam": (True, True), "anna": (False, False)}
        assert (await admin.post("/staff/api/admin/users/anna/activate")).status_code == 200
        assert (await login(anna, "anna")).status_code == 200
        missing = await admin.post("/staff/api/admin/users/nobody/deactivate")
        assert missing.status_code == 404 and "nobody" in missing.json()["error"]["message"]
        own = await admin.post("/staff/api/admin/users/adam/totp-reset")
        assert own.status_code == 409 and "egen" in own.json()["error"]["message"]
        make_staff(store, "per", "Per", "publisher")
        per = httpx.AsyncClient(base_url=gw.url, timeout=10)
        per.app = gw.app  # type: ignore[attr-defined]
        async with per:
            await staff_login(per, "per")
            reset = await admin.post("/staff/api/admin/users/per/totp-reset")
            assert reset.status_code == 200 and reset.json()["sessions_ended"] == 1
            assert reset.json()["account"]["totp"] is False
            assert (await per.get("/staff/api/editor/changes")).status_code == 401
    assert [a for a in actions(store) if a[1].startswith("staff.user_") or a[1] == "staff.totp_reset"] == [
        ("cli", "staff.user_created"), ("cli", "staff.user_created"),
        ("adam", "staff.user_deactivated"), ("adam", "staff.user_activated"), ("cli", "staff.user_created"),
        ("adam", "staff.totp_reset")]


async def test_password_change_needs_the_old_password_and_ends_other_sessions(
        gateway_factory: Any, database: dict[str, str]) -> None:
    async with gateway_factory(**database) as client:
        store = client.app.state.services.store
        make_staff(store)
        other = await store.run(sessions.login, store, "anna", PASSWORD)
        await staff_login(client, "anna")
        url = "/staff/api/account/password"
        wrong = await client.post(url, json={"old_password": "not it at all", "new_password": "x" * 20})
        assert wrong.status_code == 403 and "nuvarande lösenordet stämmer inte" in wrong.json()["error"]["message"]
        short = await client.post(url, json={"old_password": PASSWORD, "new_password": "kort"})
        assert short.status_code == 422 and "minst 12" in short.json()["error"]["message"]
        same = await client.post(url, json={"old_password": PASSWORD, "new_password": PASSWORD})
        assert same.status_code == 422
        changed = await client.post(url, json={"old_password": PASSWORD, "new_password": "ett nytt långt lösenord"})
        assert changed.status_code == 200
        assert (await client.get("/staff/api/queue")).status_code == 200  # this session goes on
        assert sessions.lookup(store, other.id) is None  # the other one has ended
        client.cookies.clear()
        assert (await login(client, "anna")).status_code == 401
        assert (await login(client, "anna", "ett nytt långt lösenord")).status_code == 200
    assert ("anna", "staff.password_change_failed") in actions(store)
    assert ("anna", "staff.password_changed") in actions(store)


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "staff-user", *args], input=stdin, env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_staff_user_command_deactivates_resets_and_lists(tmp_path: Path, backend: str) -> None:
    with temporary_database() if backend == "postgresql" else contextlib.nullcontext("") as pg_url:
        url = pg_url or f"sqlite:///{tmp_path / 'gateway.db'}"
        env = {**os.environ, "GATEWAY_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "GATEWAY_DATABASE_URL": url}
        env.pop("DATABASE_URL", None)
        created = _cli(env, "--username", "bo", "--display-name", "Bo", "--role", "publisher", "--totp",
                       "--password-stdin", stdin=PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        secret = next(line.split(": ", 1)[1] for line in created.stdout.splitlines() if line.startswith("TOTP secret"))
        store = Store(Settings(database_url=url).effective_database_url)
        try:
            with pytest.raises(sessions.TotpRequiredError):
                sessions.login(store, "bo", PASSWORD)
            session = sessions.login(store, "bo", PASSWORD, pyotp.TOTP(secret).now())
            assert session.method == "password+totp" and not session.needs_totp

            deactivated = _cli(env, "deactivate", "--username", "BO")
            assert deactivated.returncode == 0 and "1 session(s) ended" in deactivated.stdout
            assert sessions.lookup(store, session.id) is None
            listed = _cli(env, "list")
            assert listed.returncode == 0 and any(
                line.split()[:5] == ["bo", "publisher", "no", "yes", "no"] for line in listed.stdout.splitlines())
            assert _cli(env, "activate", "--username", "bo").returncode == 0
            reset = _cli(env, "totp-reset", "--username", "bo")
            assert reset.returncode == 0, reset.stderr
            assert sessions.login(store, "bo", PASSWORD).needs_totp  # enrol again, from the console
            new_password = _cli(env, "set-password", "--username", "bo", "--password-stdin",
                                stdin="ett annat långt lösenord\n")
            assert new_password.returncode == 0, new_password.stderr
            assert sessions.login(store, "bo", "ett annat långt lösenord").user.username == "bo"
            unknown = _cli(env, "deactivate", "--username", "nobody")
            assert unknown.returncode == 2 and "nobody" in unknown.stderr
            nameless = _cli(env, "deactivate")
            assert nameless.returncode == 2 and "--username is missing" in nameless.stderr
            assert [a for a in actions(store) if a[0] == "cli"] == [
                ("cli", "staff.user_created"), ("cli", "staff.totp_enrolled"), ("cli", "staff.user_deactivated"),
                ("cli", "staff.user_activated"), ("cli", "staff.totp_reset"), ("cli", "staff.password_set")]
        finally:
            store.dispose()


async def test_code_guesses_are_throttled_like_password_guesses(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        store = client.app.state.services.store
        make_staff(store, "per", "Per", "publisher")
        asked = [(await login(client, "per")).json()["error"]["code"] for _ in range(8)]
        assert asked == ["totp_required"] * 8  # the right password alone tries no code: not counted
        good = totp_code(store, "per")
        wrong = "000000" if good != "000000" else "111111"
        guesses = [(await login(client, "per", code=wrong)).status_code for _ in range(6)]
        assert guesses == [401] * 5 + [429]
        throttled = await login(client, "per", code=good)
        assert throttled.status_code == 429 and "Vänta" in throttled.json()["error"]["message"]


def test_a_database_from_before_gets_the_new_session_column(tmp_path: Path, database: dict[str, str]) -> None:
    from sqlalchemy import inspect, text

    url = Settings(database_url=database.get("database_url", ""),
                   var_dir=tmp_path).effective_database_url
    store = Store(url)
    try:
        with store.begin() as conn:  # staff_sessions as it was before this change
            conn.execute(text("CREATE TABLE staff_sessions (id_hash VARCHAR(128) PRIMARY KEY, user_id VARCHAR(64) "
                              "NOT NULL, csrf_token VARCHAR(128) NOT NULL, created_at TIMESTAMP NOT NULL, "
                              "expires_at TIMESTAMP NOT NULL)"))
        store.create_all()
        store.create_all()  # a second start (or replica) changes nothing
        assert "method" in {c["name"] for c in inspect(store.engine).get_columns("staff_sessions")}
        make_staff(store)
        assert sessions.login(store, "anna", PASSWORD).method == "password"
    finally:
        store.dispose()
