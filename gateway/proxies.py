"""The citizen's address behind a load balancer: ``X-Forwarded-For``, believed only from our proxies.

Behind HAProxy every request comes from the proxy's address, so a limit per client address
(new conversations, staff log-ins) would be one limit for the whole city. The proxy appends
the address it was connected from to ``X-Forwarded-For``; whatever was there before came from
the client and can be anything. So, when the connection comes from a configured proxy
(``GATEWAY_TRUSTED_PROXIES``: addresses or networks), the list is read from the right and the
first address that is not one of our proxies is the client. From anyone else the header is
ignored: a citizen cannot choose their own address by sending it.

:class:`ForwardedClient` rewrites the ASGI scope's ``client`` before any route sees it, so
``request.client.host`` is the citizen's address everywhere. (uvicorn's own proxy-header
handling is turned off in ``gateway.main.server_options``: this is the one place.)
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyConfigError(ValueError):
    """A trusted proxy is neither an address nor a network."""


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.5", "192.168.0.0/24", "::1"]`` as networks; a bad entry says which it is."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ProxyConfigError(
                f"GATEWAY_TRUSTED_PROXIES: '{entry[:64]}' is not an IP address or network "
                "(e.g. 127.0.0.1, 10.0.0.0/8, ::1)."
            ) from None
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy; then the right-most
    address of ``forwarded_for`` (every header's entries, in order) that is not a trusted
    proxy. If every hop is trusted, the left-most; an entry that is not an address ends the
    walk at the proxy that passed it on."""
    current = _address(peer)
    if current is None or not trusted or not _trusted(current, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, trusted):
            break
    return str(current)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


class ForwardedClient:
    """ASGI middleware: ``scope["client"]`` becomes the client behind our proxies."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer = scope["client"][0]
            forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
            client = client_address(str(peer), forwarded, self.trusted)
            if client != peer:
                scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
