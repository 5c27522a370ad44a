"""A real, hostile HTTP/1.1 server on loopback for the FHIR fault and SSRF matrices.

It runs on the test's own event loop (``asyncio.start_server`` on a free port), reads each
request head itself and hands the writer to a handler, so a test can answer any way a
broken or malicious server would: never, a byte at a time, gzip bombs, 50 MB bodies,
endless or looping ``next`` links, redirects. It counts every connection it accepts, which
is how the SSRF tests prove that no connection was made.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

Handler = Callable[["Request", asyncio.StreamWriter], Awaitable[bool]]


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    server: HostileServer


@dataclass
class HostileServer:
    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                request = Request(method, target, headers, self)
                self.requests.append(request)
                if not await self.handler(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def hostile(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[HostileServer]:
    server = await HostileServer(handler, host=host, port=port).start()
    try:
        yield server
    finally:
        await server.stop()


# -- answering ------------------------------------------------------------------------


async def respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    length: bool = True,
) -> bool:
    lines = [f"HTTP/1.1 {status} X"]
    all_headers = {"Content-Type": "application/fhir+json", **(headers or {})}
    if length:
        all_headers["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    return True


async def respond_json(writer: asyncio.StreamWriter, document: Any, status: int = 200) -> bool:
    return await respond(writer, status, orjson.dumps(document))


def searchset(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def gzip_bomb(inflated_mib: int = 1024) -> bytes:
    """About 1 KiB per MiB of zeros: ``inflated_mib`` gzip members of 1 MiB each."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    return member * inflated_mib


async def stream_chunked(writer: asyncio.StreamWriter, total: int, chunk: int = 1 << 16) -> bool:
    """A 200 with ``total`` bytes of JSON-ish filler, chunked, no Content-Length."""
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sent = 0
    piece = b" " * chunk
    while sent < total:
        writer.write(f"{chunk:x}\r\n".encode() + piece + b"\r\n")
        await writer.drain()
        sent += chunk
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


async def drip(writer: asyncio.StreamWriter, data: bytes, interval: float) -> bool:
    for i in range(len(data)):
        writer.write(data[i : i + 1])
        await writer.drain()
        await asyncio.sleep(interval)
    return True
