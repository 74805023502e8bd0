"""A real Prometheus (Debian's package, as IT runs it) scrapes a gateway served by uvicorn
and its query API shows the rate of the turns this test made; the shipped alert rules load
in it and pass promtool's checks and unit tests (deploy/prometheus/).

scripts/test.sh installs the package when it is missing; without it these tests fail and
say so. Bounded: Prometheus scrapes every second and the whole test waits at most 60 s.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.served_app import production_server

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "prometheus"
ANSWERED = 'karlstad_turns_total{job="karlstad-gateway",outcome="answered",language="sv"}'


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed. These tests need Debian's prometheus package: "
                    "`apt-get install prometheus` (scripts/test.sh does it).", pytrace=False)
    return path


@contextlib.contextmanager
def prometheus(tmp_path: Path, target: str) -> Iterator[str]:
    """Prometheus on a free loopback port scraping ``target`` every second, with the shipped
    alert rules; yields its base URL."""
    from scripts.stack import free_port

    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [alerts.yml]\n"
        "scrape_configs:\n"
        "  - job_name: karlstad-gateway\n"
        "    scrape_timeout: 1s\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited: {(tmp_path / 'prometheus.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("prometheus did not become ready in 20 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def query(client: httpx.AsyncClient, url: str, expr: str, at: float | None = None) -> list[dict[str, Any]]:
    params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
    response = await client.get(f"{url}/api/v1/query", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def wait_for(client: httpx.AsyncClient, url: str, expr: str, ok: Any, deadline: float) -> float:
    """Polls ``expr`` (one series) until ``ok(value)``; returns the value."""
    import asyncio

    last: float | None = None
    while time.monotonic() < deadline:
        result = await query(client, url, expr)
        if result:
            last = float(result[0]["value"][1])
            if ok(last):
                return last
        await asyncio.sleep(0.3)
    pytest.fail(f"`{expr}` never met the condition (last value {last})")


async def test_prometheus_scrapes_the_gateway_and_the_rate_shows_the_turns(tmp_path: Path) -> None:
    from gateway.settings import Settings

    started = time.monotonic()
    deadline = started + 55
    settings = Settings(environment="test", var_dir=tmp_path / "var", models_dir=tmp_path / "no-models",
                        rasa_token="test-token-0123456789", opening_hours="mon-sun 00:00-23:59",
                        rate_limit_per_minute=1000)
    async with production_server(settings) as served, httpx.AsyncClient(timeout=5) as http:
        with prometheus(tmp_path / "prom", f"{served.host}:{served.port}") as prom:
            created = (await http.post(f"{served.url}/api/conversations")).json()
            auth = {"Authorization": f"Bearer {created['token']}"}
            turn_url = f"{served.url}/api/conversations/{created['conversation_id']}/messages"

            async def turn() -> None:
                response = await http.post(turn_url, headers=auth, json={"text": "Behöver jag bygglov?"})
                assert response.status_code == 200, response.text

            await turn()  # the series exists before the rate's window: scraped once at 1
            await wait_for(http, prom, f"sum({ANSWERED})", lambda v: v == 1, deadline)
            assert await wait_for(http, prom, 'up{job="karlstad-gateway"}', lambda v: v == 1, deadline) == 1
            # two scrapes with no turn between them: the rate is there, and it is 0
            quiet = await wait_for(http, prom, f"count_over_time({ANSWERED}[10s])", lambda v: v >= 2, deadline)
            assert quiet >= 2
            before = await query(http, prom, f"sum(rate({ANSWERED}[10s]))")
            assert before and float(before[0]["value"][1]) == 0

            for _ in range(6):
                await turn()
            total = await wait_for(http, prom, f"sum({ANSWERED})", lambda v: v >= 7, deadline)
            assert total == 7
            at = time.time()  # both at one instant, so they read the same samples
            rate = float((await query(http, prom, f"sum(rate({ANSWERED}[10s]))", at))[0]["value"][1])
            increase = float((await query(http, prom, f"sum(increase({ANSWERED}[10s]))", at))[0]["value"][1])
            assert 3 <= increase <= 12, increase  # 6 turns, extrapolated to the window's edges
            assert rate == pytest.approx(increase / 10, rel=0.01)

            latency = await query(http, prom, 'sum(rate(karlstad_stage_duration_seconds_count{stage="rasa"}[10s]))')
            assert latency and float(latency[0]["value"][1]) > 0

            rules = (await http.get(f"{prom}/api/v1/rules")).json()["data"]["groups"]
            names = {rule["name"] for group in rules for rule in group["rules"]}
            assert {"AssistantUnavailable", "AssistantErrorRate", "HandoffQueueWaitingLong",
                    "AcuteTicketUnclaimed"} <= names
            health = {rule["name"]: rule["health"] for group in rules for rule in group["rules"]}
            assert set(health.values()) <= {"ok", "unknown"}, health
    assert time.monotonic() - started < 60


def test_alert_rules_and_scrape_config_pass_promtool() -> None:
    promtool = tool("promtool")
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"],
                 ["test", "rules", "alerts.test.yml"]):
        result = subprocess.run([promtool, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        assert "SUCCESS" in result.stdout + result.stderr
