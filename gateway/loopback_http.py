"""A small HTTP/1.1 client with kept-alive connections, for the gateway's calls to Rasa.

Every citizen turn makes one POST to a Rasa server the gateway trusts (loopback or the
cluster's own network, plain HTTP). httpx spends about 1.5 ms of CPU on each such request
(URL and header models, anyio, the h11 state machine); this client writes the request and
reads the response over asyncio streams in about 0.1 ms, so the gateway adds less to each
turn than Rasa's own time. ``gateway.rasa_client.RasaClient`` uses it for ``http://`` URLs
and httpx for anything else (``https://``, or a test's ``httpx.MockTransport``).

What it does, and no more: one request per connection at a time, connections kept for
reuse for ``keepalive_s`` (4 s: below Sanic's default of 5 s for an idle connection; Rasa
sets 120 s) and dropped when the server has closed them or asked to (``Connection: close``);
responses with ``Content-Length``, chunked, or delimited by the end of the connection; a
deadline for the whole request and a shorter one for connecting. A request that fails in
any way closes its connection and raises :class:`LoopbackHTTPError` (or ``TimeoutError``);
it is never sent again by this client (Rasa may have processed it: the caller decides).
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_BODY_BYTES = 16 * 1024 * 1024  # Rasa's answers are a few kB; anything near this is wrong
MAX_HEAD_BYTES = 64 * 1024


class LoopbackHTTPError(Exception):
    """The server could not be reached or did not answer with a readable HTTP response."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float, keepalive_s: float) -> bool:
        return (now - self.idle_since < keepalive_s and not self.reader.at_eof()
                and not self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class LoopbackHTTP:
    """Requests to one ``http://host:port`` with fixed headers (see the module text)."""

    def __init__(self, base_url: str, headers: dict[str, str], *, timeout_s: float, connect_timeout_s: float,
                 keepalive_s: float = 4.0, max_idle: int = 32) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"LoopbackHTTP speaks plain HTTP only, not {base_url!r}.")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        host_header = parts.netloc.rpartition("@")[2]
        fixed = {"host": host_header, **{k.lower(): v for k, v in headers.items()}}
        self._head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.keepalive_s = keepalive_s
        self.max_idle = max_idle
        self._idle: deque[_Connection] = deque()

    async def request(self, method: str, path: str, body: bytes | None = None, *,
                      content_type: str = "application/json", timeout_s: float | None = None) -> tuple[int, bytes]:
        """``(status, body)`` of one request; raises ``LoopbackHTTPError`` or ``TimeoutError``."""
        async with asyncio.timeout(self.timeout_s if timeout_s is None else timeout_s):
            conn = await self._checkout()
            try:
                status, payload, keep = await self._exchange(conn, method, path, body, content_type)
            except BaseException:  # a timeout, a cancelled turn, a broken stream: never reuse it
                conn.close()
                raise
        if keep and len(self._idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()
        return status, payload

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _checkout(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # the most recently used one is the least likely to be closed
            if conn.reusable(now, self.keepalive_s):
                return conn
            conn.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_HEAD_BYTES), self.connect_timeout_s)
        except OSError as exc:
            raise LoopbackHTTPError(f"could not connect: {type(exc).__name__}") from exc
        return _Connection(reader, writer)

    async def _exchange(self, conn: _Connection, method: str, path: str, body: bytes | None,
                        content_type: str) -> tuple[int, bytes, bool]:
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1") + self._head
        if body is not None:
            head += f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n".encode("latin-1")
        try:
            conn.writer.write(head + b"\r\n" + (body or b""))
            await conn.writer.drain()
            raw = await conn.reader.readuntil(b"\r\n\r\n")
            status, headers = _parse_head(raw)
            if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                payload, delimited = b"", True
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                payload, delimited = await _read_chunked(conn.reader), True
            elif "content-length" in headers:
                length = int(headers["content-length"])
                if not 0 <= length <= MAX_BODY_BYTES:
                    raise LoopbackHTTPError(f"response of {length} bytes refused")
                payload, delimited = await conn.reader.readexactly(length), True
            else:  # delimited by the end of the connection
                payload, delimited = await conn.reader.read(MAX_BODY_BYTES + 1), False
                if len(payload) > MAX_BODY_BYTES:
                    raise LoopbackHTTPError("response too large")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise LoopbackHTTPError(f"no readable response: {type(exc).__name__}") from exc
        keep = delimited and headers.get("connection", "").lower() != "close"
        return status, payload, keep


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError("not an HTTP/1.x response")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError("malformed header line")
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        length = int(line.split(b";", 1)[0].strip(), 16)
        if length == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, if any
                pass
            return b"".join(chunks)
        size += length
        if size > MAX_BODY_BYTES:
            raise ValueError("chunked response too large")
        chunks.append(await reader.readexactly(length))
        await reader.readexactly(2)  # the CRLF after each chunk
