"""``make cluster``: two gateways behind HAProxy, two Rasa, two action servers and a
PostgreSQL and Redis of the cluster's own, on loopback (scripts/cluster.py).

What a citizen notices: an answer through the load balancer; the conversation goes on
whichever gateway takes the next message; a stopped gateway costs no failed message; the
model-pull route is not reachable through the load balancer. The longer fault runs
(every part stopped under load, recovery times) are ``make faults``.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.loadclient import Attempt, Load, LoopbackOnlyError

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def cluster(trained_model: Path) -> Iterator[Any]:
    from scripts.cluster import Cluster, ClusterPorts

    work = Path(tempfile.mkdtemp(prefix="karlstad-cluster-test-"))
    work.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its folder
    stack = Cluster(model=trained_model, var_dir=work, ports=ClusterPorts.free(), supervise=False,
                    extra_env={"GATEWAY_ENVIRONMENT": "test", "GATEWAY_OPENING_HOURS": "mon-sun 00:00-23:59",
                               "GATEWAY_MODELS_DIR": str(work / "none")})
    stack.start(timeout=420)
    try:
        yield stack
    finally:
        stack.stop()


def _conversation(base: str) -> tuple[str, dict[str, str]]:
    created = httpx.post(f"{base}/api/conversations", timeout=30)
    assert created.status_code == 201, created.text
    body = created.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def test_a_conversation_goes_on_whichever_gateway_answers(cluster: Any) -> None:
    cid, auth = _conversation(cluster.url)
    for text in ("Behöver jag bygglov för ett garage?", "Hur söker jag färdtjänst?", "När töms soptunnan?"):
        response = httpx.post(f"{cluster.url}/api/conversations/{cid}/messages", json={"text": text},
                              headers=auth, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["messages"][0]["basis_id"]
    # Each gateway on its own reads the same conversation: the state is in the shared database.
    for gateway in cluster.gateway_urls():
        transcript = httpx.get(f"{gateway}/api/conversations/{cid}/messages", headers=auth, timeout=30)
        assert transcript.status_code == 200
        assert [m["text"] for m in transcript.json()["messages"] if m["role"] == "citizen"][-3:] == [
            "Behöver jag bygglov för ett garage?", "Hur söker jag färdtjänst?", "När töms soptunnan?"]


def test_the_model_route_is_not_reachable_through_the_load_balancer(cluster: Any) -> None:
    response = httpx.get(f"{cluster.url}/internal/rasa/model", timeout=10)
    assert response.status_code == 404
    direct = httpx.get(f"{cluster.gateway_urls()[0]}/internal/rasa/model", timeout=10)
    assert direct.status_code == 401  # the gateway itself still serves its Rasa (with the token)


def test_a_stopped_gateway_costs_no_failed_message(cluster: Any) -> None:
    cid, auth = _conversation(cluster.url)
    cluster.stop_service("gateway-1")
    try:
        statuses = []
        for _ in range(6):
            response = httpx.post(f"{cluster.url}/api/conversations/{cid}/messages",
                                  json={"text": "Hur ansöker jag om plats i förskolan?"}, headers=auth, timeout=60)
            statuses.append(response.status_code)
        assert statuses == [200] * 6
    finally:
        cluster.respawn("gateway-1")
    from scripts.faults import wait_ok

    wait_ok(f"{cluster.gateway_urls()[0]}/readyz", 120)  # back, for the tests after this one


def test_load_goes_only_to_loopback() -> None:
    with pytest.raises(LoopbackOnlyError):
        Load("http://192.0.2.1:8000", deadline=time.monotonic() + 1, max_messages=1)


def test_recovery_is_measured_from_the_stop_to_the_first_success_after_the_last_failure() -> None:
    from scripts.faults import outage, recovery

    attempts = [Attempt(9.0, 9.2, 200, "message"), Attempt(10.5, 10.6, 503, "message"),
                Attempt(11.0, 11.1, 0, "message"), Attempt(12.0, 13.4, 200, "message"),
                Attempt(14.0, 14.2, 200, "message")]
    assert recovery(attempts, since=10.0) == pytest.approx(3.4)
    assert outage(attempts, since=10.0) == pytest.approx(2.9)  # failures began at 10.5
    assert recovery([Attempt(10.5, 10.6, 200, "message")], since=10.0) is None
