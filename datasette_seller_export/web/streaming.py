"""Sending every seller answer with a body over ASGI, streamed export or JSON page: its content
coding, its headers, errors before the first byte as JSON and after it as an aborted
connection, and a client that hangs up stops the export within one batch.

Datasette's `AsgiStream` does neither of the last two: it never reads `receive`, so it cannot
see a disconnect, and it always ends the body cleanly, so a failed export would look complete.
"""

import asyncio
from dataclasses import dataclass
from typing import AsyncIterator, Optional

from datasette.utils.asgi import Response

from ..engine.compression import IDENTITY, STREAMS, compressed
from ..events import COMPLETE, DISCONNECTED, FAILED
from .encoding import NotAcceptable, choose_encoding
from .request import DATABASE_ERRORS, RequestError, database_error, log

# A body known to be smaller goes as it is: compressed, it would hardly shrink, or grow.
MINIMUM_COMPRESSED_SIZE = 1024


@dataclass(frozen=True)
class Answer:
    """How send_answer answered: `response` is for Datasette to send (an error found before
    the first byte), or None when the body was sent; `outcome` is how the body went (events
    COMPLETE, FAILED or DISCONNECTED; FAILED too for a database error before the first
    byte), None when no body was due (HEAD, 406); `encoding` its content coding."""

    response: Optional[Response]
    outcome: Optional[str]
    encoding: str = IDENTITY


async def send_answer(
    datasette,
    request,
    send,
    receive,
    headers: dict,
    chunks: AsyncIterator[bytes],
    description,
    compressible=True,
) -> Answer:
    """Answer `request` with the body `chunks` and `headers`, in the content coding its
    Accept-Encoding asks for (zstd, gzip or identity; `Vary: Accept-Encoding` on every
    answer; identity alone when not `compressible`, for a body compressed already). An error
    found before the first byte is a Response in the Answer, for Datasette to send (406 when
    no coding is acceptable; the database's errors as request.database_error classifies
    them). HEAD gets the headers alone, and `chunks` is closed unread.
    """
    headers = {**headers, "vary": "Accept-Encoding"}
    try:
        codings = list(STREAMS) if compressible else []
        encoding = choose_encoding(request.headers.get("accept-encoding"), codings)
    except NotAcceptable as error:
        await chunks.aclose()
        not_acceptable = RequestError(406, str(error), {"Vary": "Accept-Encoding"})
        return Answer(not_acceptable.json_response(), None)
    if request.method == "HEAD":
        await chunks.aclose()
        await send_head(send, _with_encoding(headers, encoding))
        return Answer(None, None, encoding)
    head = []
    try:
        head.append(await chunks.__anext__())
        ended = False
        # Read on while the body might still be small enough to go as it is.
        while encoding != IDENTITY and sum(map(len, head)) < MINIMUM_COMPRESSED_SIZE:
            try:
                head.append(await chunks.__anext__())
            except StopAsyncIteration:
                encoding, ended = IDENTITY, True
    except StopAsyncIteration:
        ended = True
    except DATABASE_ERRORS as error:
        await chunks.aclose()
        return Answer(database_error(error, datasette).json_response(), FAILED, encoding)
    body = compressed(_after(head, None if ended else chunks), encoding)
    first = await anext(body, b"")
    headers = _with_encoding(headers, encoding)
    outcome = await send_stream(send, receive, first, body, headers, description)
    return Answer(None, outcome, encoding)


def _with_encoding(headers, encoding):
    return headers if encoding == IDENTITY else {**headers, "content-encoding": encoding}


async def _after(head, rest):
    """The chunks of `head`, then those of the async generator `rest` (None: no more),
    which is closed with this one."""
    try:
        for chunk in head:
            yield chunk
        if rest is not None:
            async for chunk in rest:
                yield chunk
    finally:
        if rest is not None:
            await rest.aclose()


async def one_chunk(body: bytes):
    """A body that is whole already, as the chunks send_answer takes."""
    yield body


def _header_list(headers: dict):
    return [[k.lower().encode("latin-1"), v.encode("latin-1")] for k, v in headers.items()]


async def _wait_for_disconnect(receive, disconnected: asyncio.Event):
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return


async def send_stream(
    send, receive, first_chunk: bytes, chunks, headers: dict, description: str
) -> str:
    """Stream `first_chunk` then the rest of the async iterator `chunks` as a 200 response;
    return how it went: COMPLETE, DISCONNECTED or FAILED.

    The caller has already produced `first_chunk`, so every error that can be reported
    cleanly has been. An error after this point is logged and the response is left
    unfinished: the server then closes the connection without the chunked body's final
    empty chunk, and every HTTP client reports the download as incomplete.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _header_list(headers),
        }
    )
    disconnected = asyncio.Event()
    watcher = asyncio.create_task(_wait_for_disconnect(receive, disconnected))
    try:
        chunk, sent = first_chunk, 0
        while True:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += 1
            if disconnected.is_set():
                log.warning(
                    "%s: client disconnected, export stopped after %d chunks", description, sent
                )
                return DISCONNECTED
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return COMPLETE
    except Exception:
        log.exception("%s: failed after the first byte; aborting the connection", description)
        return FAILED
    finally:
        watcher.cancel()
        await chunks.aclose()


async def send_head(send, headers: dict):
    """The answer to HEAD: GET's status and headers, and no body."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _header_list(headers),
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})
