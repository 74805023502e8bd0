"""HTTP hardening in front of every route: request limits and security headers.

Two ASGI middlewares, installed by ``main.create_app``:

- ``RequestLimits`` reads the request body before any route does: a declared
  ``Content-Length`` above the limit is refused at once (413) without reading anything;
  a streamed body is counted as it arrives and refused as soon as it passes the limit; a
  body that does not arrive in full within the deadline (a client that sends half and
  waits) is answered with 408 and the connection is closed. Routes then read the body
  from memory, so nothing they parse can be larger than the limit.
- ``SecurityHeaders`` sets the security headers on every response, errors included (it
  wraps even Starlette's last-resort error handler, see ``main.GatewayApp``). The policy
  depends on the area of the site (``area``): the citizen and staff APIs may not be
  framed, sniffed or cached; the demo page, the widget's files and the About-AI page may be
  framed by the configured embedders (karlstad.se); the staff console only by itself.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_body_bytes

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDERS = ("https://karlstad.se", "https://*.karlstad.se")
_SOURCE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
STAFF_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Swagger UI (development and test only; off in production) loads from FastAPI's CDN and
# starts with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
# The demo page and the About-AI page carry their stylesheet inline; the demo page's search
# form has one inline handler (onsubmit="return false"), allowed by its hash only.
RETURN_FALSE = "'sha256-" + base64.b64encode(hashlib.sha256(b"return false").digest()).decode() + "'"
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-hashes' " + RETURN_FALSE + "; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
SECURITY_HEADERS = (
    b"content-security-policy", b"x-content-type-options", b"referrer-policy", b"x-frame-options",
    b"cache-control", b"server",
)


class PolicyError(ValueError):
    """A configured origin cannot be put into a Content-Security-Policy."""


def area(path: str) -> str:
    """Which part of the site ``path`` is: api, docs, staff, page or other."""
    if path == "/api/docs" or path.startswith("/api/docs/"):
        return "docs"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/staff/api/"):
        return "api"
    if path == "/staff" or path.startswith("/staff/"):
        return "staff"
    if path in ("/", "/om-ai") or path.startswith("/widget/"):
        return "page"
    return "other"


@dataclass(frozen=True)
class HeaderPolicy:
    """The security headers of each area; ``embedders`` may frame the public pages."""

    embedders: tuple[str, ...] = DEFAULT_EMBEDDERS

    @classmethod
    def build(cls, embedders: Iterable[str], allowed_origins: Iterable[str]) -> HeaderPolicy:
        sources: list[str] = []
        for origin in (*embedders, *allowed_origins):
            origin = origin.rstrip("/")
            if not _SOURCE.match(origin):
                raise PolicyError(
                    f"Origin {origin!r} cannot be used in the Content-Security-Policy. Use "
                    "scheme://host[:port], e.g. https://karlstad.se or https://*.karlstad.se "
                    "(GATEWAY_FRAME_ANCESTORS, GATEWAY_ALLOWED_ORIGINS)."
                )
            if origin not in sources:
                sources.append(origin)
        return cls(tuple(sources))

    def headers(self, path: str) -> list[tuple[bytes, bytes]]:
        part = area(path)
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if part == "page":
            ancestors = " ".join(("'self'", *self.embedders))
            return [*common, (b"content-security-policy", PAGE_CSP.format(ancestors=ancestors).encode())]
        csp = {"docs": DOCS_CSP, "staff": STAFF_CSP}.get(part, API_CSP)
        out = [*common, (b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY")]
        if part in ("api", "staff", "docs"):
            out.append((b"cache-control", b"no-store"))
        return out


class SecurityHeaders:
    """Sets ``policy``'s headers on every HTTP response (replacing any a route set) and
    drops ``server``."""

    def __init__(self, app: ASGIApp, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.policy.headers(str(scope.get("path", "")))
        replaced = {name for name, _ in extra} | {b"server"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                message = {**message, "headers": [*kept, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLimits:
    """Refuses bodies larger than ``max_body_bytes`` (413) and bodies that take longer than
    ``body_timeout_s`` to arrive (408), before any route reads them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "bad_request",
                          "The Content-Length header is not a number of bytes. Send the body's size in bytes.")
            return
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(send, scope, declared)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        with anyio.move_on_after(self.body_timeout_s) as deadline:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client left; there is no one to answer
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_body_bytes:
                    await self._too_large(send, scope, None)
                    return
                chunks.append(body)
                more = bool(message.get("more_body", False))
        if deadline.cancelled_caught:
            logger.info("request body timed out: path=%s received=%d bytes", scope.get("path"), size)
            await _refuse(send, 408, "request_timeout",
                          f"The request body did not arrive within {self.body_timeout_s:g} seconds. "
                          "Check the connection and send the request again.")
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as usual

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send, scope: Scope, declared: int | None) -> None:
        size = f"is {declared} bytes" if declared is not None else "is larger than that"
        logger.info("request body too large: path=%s declared=%s", scope.get("path"), declared)
        await _refuse(send, 413, "payload_too_large",
                      f"The request body {size}; at most {self.max_body_bytes} bytes are accepted. "
                      "Send a shorter message (at most 2000 characters).")


def _content_length(scope: Scope) -> int | None:
    """The declared body size; None when not declared, -1 when it is not a number."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else -1
    return None


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = error_body_bytes(code, message)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the rest of the body, if any, is not read
        ],
    })
    await send({"type": "http.response.body", "body": body})
