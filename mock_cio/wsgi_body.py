"""Reading a WSGI request's body with a cap: never more than `limit + 1` bytes are held.

Where it sits: the first thing the mock's Track API view, its admin API and the live server's
Tracking API do with a request. A declared `Content-Length` over the limit is refused without
reading a byte; a body without one (chunked transfer encoding) is read in pieces of at most
`PIECE` bytes and refused as soon as it passes the limit, so a client cannot make the process
hold more than the limit (the server itself caps a single chunk: mock_cio/server.py). A body the
server cannot decode (a broken chunk) is reported, not raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReadBody:
    """`data` when the body was read whole; else `oversized` (the declared length, or `limit + 1`
    when the body had none and ran past the limit) or `error` (why it could not be read)."""

    data: bytes = b""
    oversized: int | None = None
    declared: bool = True
    """Whether `oversized` is the declared Content-Length (else: at least that many bytes)."""
    error: str | None = None


def read_body(environ: dict[str, Any], limit: int) -> ReadBody:
    """The body of the request in `environ`, at most `limit` bytes (see the module's doc)."""
    text = (environ.get("CONTENT_LENGTH") or "").strip()
    length: int | None = None
    if text:
        if not text.isdigit() or len(text) > 18:
            return ReadBody(error=f"Content-Length must be a number of bytes, got {text[:40]!r}")
        length = int(text)
        if length > limit:
            return ReadBody(oversized=length)
    chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    stream = environ.get("wsgi.input")
    if stream is None or (length is None and not chunked and not environ.get("wsgi.input_terminated")):
        return ReadBody()
    wanted = limit + 1 if length is None else length
    parts: list[bytes] = []
    total = 0
    try:
        while total < wanted:
            piece = stream.read(min(PIECE, wanted - total))
            if not piece:
                break
            parts.append(piece)
            total += len(piece)
    except (OSError, ValueError) as exc:  # the server's dechunking: a bad or too large chunk
        message = str(exc) or type(exc).__name__
        if "too large" in message.lower():
            return ReadBody(oversized=limit + 1, declared=False)
        return ReadBody(error=f"the request body could not be read: {message}")
    if total > limit:
        return ReadBody(oversized=total, declared=False)
    return ReadBody(b"".join(parts))
