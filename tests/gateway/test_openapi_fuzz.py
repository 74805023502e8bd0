"""The OpenAPI document tells the truth: a bounded schemathesis run against the gateway as
uvicorn serves it on loopback finds no server error and no response that the document does
not describe (status, content type, headers, body schema)."""
from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.served_app import production_server
from tests.gateway.staff_helpers import PASSWORD, RasaRecorder, make_staff, settings_for, totp_code

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance",
    "negative_data_rejection", "positive_data_acceptance",
])
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# What the checks accept beyond schemathesis' defaults, and why:
CONFIG = """
# A text over 2000 characters (the schema's maxLength) is refused with 413, not 400/422.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

# Auditors give a day or a from/to period (not both), with from before to: rules between
# parameters that OpenAPI cannot state; the 400 names the rule.
[[operations]]
include-path-regex = "^/staff/api/audit/(records|export|stats)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]

# Readiness answers 503 while a part is down (here: no action server), as documented.
[[operations]]
include-path = "/readyz"
checks.not_a_server_error.expected-statuses = ["2xx", "4xx", "503"]
"""
BUDGET_S = 240  # the whole test, both runs


class FakeRasa(RasaRecorder):
    """Rasa's karlstad channel: its status (GET) and turns (POST: answers, or hands off when
    the message asks for a person)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": "fuzz-model", "model_file": None})
        return super().__call__(request)


async def _fuzz(url: str, config: Path, *extra: str) -> tuple[int, str]:
    args = [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{url}/api/openapi.json",
            "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
            "--phases", "examples,coverage,fuzzing", "--request-timeout", "10",
            "--suppress-health-check", "too_slow", "--no-color", *extra]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=str(config.parent),
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), BUDGET_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"schemathesis did not finish within {BUDGET_S} s")
    return proc.returncode or 0, out.decode(errors="replace")


async def test_fuzzing_finds_no_server_error_and_no_schema_mismatch(tmp_path: Path) -> None:
    assert SCHEMATHESIS.exists(), "schemathesis is pinned in requirements/app.txt"
    settings = settings_for(tmp_path, create_rate_limit_per_minute=100000, rate_limit_per_minute=100000)
    started = time.monotonic()
    async with production_server(settings, FakeRasa()) as served:
        services = served.app.state.services
        await services.store.run(make_staff, services.store, "fuzz-staff", "Fuzz", "admin")
        async with httpx.AsyncClient(base_url=served.url) as client:
            # Real ids for the second run: a conversation with an answer, handed to a person.
            created = (await client.post("/api/conversations", json={"language": "sv"})).json()
            cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
            answer = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "Hej"})
            basis_id = answer.json()["messages"][0]["basis_id"]
            handoff = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                        json={"text": "Jag vill prata med en människa"})
            assert handoff.json()["handoff"], handoff.text
            code = await services.store.run(totp_code, services.store, "fuzz-staff")  # admin: second factor
            login = await client.post("/staff/api/login",
                                      json={"username": "fuzz-staff", "password": PASSWORD, "code": code})
            assert login.status_code == 200, login.text
            ticket_id = (await client.get("/staff/api/queue")).json()["open"][0]["id"]
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            f'[parameters]\n"path.conversation_id" = "{cid}"\n"path.basis_id" = "{basis_id}"\n'
            f'"path.ticket_id" = "{ticket_id}"\n{CONFIG}', encoding="utf-8")
        anonymous = tmp_path / "anonymous.toml"
        anonymous.write_text(CONFIG, encoding="utf-8")

        # 1. As anyone: every operation, made-up ids, no token or session.
        code, report = await _fuzz(served.url, anonymous)
        assert code == 0, report[-6000:]
        # 2. As the conversation's owner and a logged-in admin, on a real conversation. Event
        #    streams never end and logging out would end the session: not in this run.
        code, report = await _fuzz(
            served.url, config,
            "-H", f"Authorization: Bearer {created['token']}", "-H", f"Cookie: {cookie}",
            "-H", f"X-CSRF-Token: {login.json()['csrf_token']}",
            "--exclude-path-regex", "/events$|/logout$")
        assert code == 0, report[-6000:]
    assert time.monotonic() - started < BUDGET_S
