"""The citizen's address behind the load balancer: X-Forwarded-For counts only when the
connection comes from a configured proxy, so citizens behind the proxy get a limit each and
nobody picks their own address by sending the header."""
from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from gateway.proxies import client_address, parse_networks
from gateway.settings import Settings
from tests.gateway.served_app import production_server
from tests.gateway.staff_helpers import settings_for

PROXY = "10.0.0.2"


def from_address(client: httpx.AsyncClient, peer: str) -> httpx.AsyncClient:
    """A client of the same in-process gateway whose connection comes from ``peer``."""
    transport = httpx.ASGITransport(app=client.app, client=(peer, 40000))  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def new_conversation(client: httpx.AsyncClient, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return (await client.post("/api/conversations", json={}, headers=headers)).status_code


async def test_through_a_trusted_proxy_two_citizens_get_a_limit_each(gateway_factory: Any) -> None:
    async with gateway_factory(trusted_proxies=[PROXY], create_rate_limit_per_minute=2) as gateway:
        async with from_address(gateway, PROXY) as proxy:
            anna = [await new_conversation(proxy, "198.51.100.7") for _ in range(3)]
            bo = [await new_conversation(proxy, "198.51.100.8") for _ in range(2)]
            # What the citizen wrote in the header is left of what the proxy appended: ignored.
            spoofing = [await new_conversation(proxy, f"203.0.113.{n}, 198.51.100.7") for n in range(2)]
    assert anna == [201, 201, 429]
    assert bo == [201, 201]
    assert spoofing == [429, 429]


async def test_a_forwarded_for_header_from_anyone_else_is_ignored(gateway_factory: Any) -> None:
    async with gateway_factory(trusted_proxies=[PROXY], create_rate_limit_per_minute=2) as gateway:
        async with from_address(gateway, "198.51.100.9") as citizen:
            codes = [await new_conversation(citizen, f"203.0.113.{n}") for n in range(3)]
    assert codes == [201, 201, 429]


async def test_without_trusted_proxies_the_served_gateway_ignores_the_header_even_from_loopback(
    tmp_path: Any,
) -> None:
    # uvicorn by itself believes X-Forwarded-For from 127.0.0.1; the gateway turns that off.
    settings = settings_for(tmp_path, create_rate_limit_per_minute=2)
    async with production_server(settings) as served, httpx.AsyncClient(base_url=served.url) as client:
        codes = [await new_conversation(client, f"203.0.113.{n}") for n in range(3)]
    assert codes == [201, 201, 429]


NETS = parse_networks(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("198.51.100.9", ["1.2.3.4"], "198.51.100.9"),  # not a proxy: the header is not read
    ("10.1.2.3", [], "10.1.2.3"),  # a proxy that sent no header
    ("10.1.2.3", ["1.2.3.4, 198.51.100.7"], "198.51.100.7"),  # right-most untrusted
    ("10.1.2.3", ["1.2.3.4, 198.51.100.7, 10.0.0.9"], "198.51.100.7"),  # through two proxies
    ("10.1.2.3", ["1.2.3.4", "198.51.100.7"], "198.51.100.7"),  # two header lines, in order
    ("127.0.0.1", ["10.0.0.7, 10.0.0.8"], "10.0.0.7"),  # every hop ours: the left-most
    ("10.1.2.3", ["1.2.3.4, not-an-address"], "10.1.2.3"),  # garbage from the proxy: stop there
    ("fd00::1", ["2001:db8::5"], "2001:db8::5"),
    ("::ffff:10.0.0.2", ["198.51.100.7:5555"], "198.51.100.7"),
])
def test_the_client_is_the_right_most_address_that_is_not_our_proxy(
    peer: str, header: list[str], expected: str
) -> None:
    assert client_address(peer, header, NETS) == expected


def test_a_trusted_proxy_that_is_no_address_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="'proxy.local' is not an IP address or network"):
        Settings(trusted_proxies="127.0.0.1, proxy.local")
    assert Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8").trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    assert parse_networks(["10.0.0.5/8"]) == (ipaddress.ip_network("10.0.0.0/8"),)
