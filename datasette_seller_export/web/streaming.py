"""Sending an export over ASGI: errors before the first byte as JSON, after it as an aborted
connection, and a client that hangs up stops the export within one batch.

Datasette's `AsgiStream` does neither: it never reads `receive`, so it cannot see a
disconnect, and it always ends the body cleanly, so a failed export would look complete.
"""

import asyncio
import logging

log = logging.getLogger("datasette_seller_export")


def _header_list(headers: dict):
    return [[k.lower().encode("latin-1"), v.encode("latin-1")] for k, v in headers.items()]


async def _wait_for_disconnect(receive, disconnected: asyncio.Event):
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return


async def send_stream(send, receive, first_chunk: bytes, chunks, headers: dict, description: str):
    """Stream `first_chunk` then the rest of the async iterator `chunks` as a 200 response.

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
                return
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except Exception:
        log.exception("%s: failed after the first byte; aborting the connection", description)
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
