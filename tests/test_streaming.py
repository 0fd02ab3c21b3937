"""`send_stream` on its own, with a scripted ASGI peer."""

import asyncio

import pytest

from datasette_seller_export.web.streaming import send_stream


class Peer:
    """An ASGI client that hangs up after `hang_up_after` body messages."""

    def __init__(self, hang_up_after):
        self.hang_up_after = hang_up_after
        self.messages = []
        self.hung_up = asyncio.Event()

    async def send(self, message):
        await asyncio.sleep(0)  # a real server yields while writing
        self.messages.append(message)
        if len(self.messages) - 1 == self.hang_up_after:
            self.hung_up.set()

    async def receive(self):
        await self.hung_up.wait()
        return {"type": "http.disconnect"}


def numbered_chunks(pulled):
    async def chunks():
        for number in range(1, 1000):
            pulled.append(number)
            await asyncio.sleep(0)  # a batch query
            yield f"chunk {number}".encode()

    return chunks()


@pytest.mark.asyncio
@pytest.mark.parametrize("hang_up_after", [1, 2, 5])
async def test_a_hang_up_stops_the_export_within_one_batch(hang_up_after):
    peer, pulled = Peer(hang_up_after), []
    await send_stream(peer.send, peer.receive, b"first", numbered_chunks(pulled), {}, "test")
    assert len(pulled) <= hang_up_after  # the first chunk plus at most one batch after hang-up
    assert all(m.get("more_body") for m in peer.messages[1:])  # never a clean end


@pytest.mark.asyncio
async def test_a_complete_stream_ends_cleanly():
    peer = Peer(hang_up_after=10**6)

    async def chunks():
        yield b"b"
        yield b"c"

    await send_stream(peer.send, peer.receive, b"a", chunks(), {"content-type": "text/csv"}, "test")
    assert peer.messages[0]["headers"] == [[b"content-type", b"text/csv"]]
    assert [m["body"] for m in peer.messages[1:]] == [b"a", b"b", b"c", b""]
    assert peer.messages[-1]["more_body"] is False


@pytest.mark.asyncio
async def test_an_error_mid_stream_leaves_the_body_unfinished(caplog):
    peer = Peer(hang_up_after=10**6)

    async def chunks():
        yield b"b"
        raise RuntimeError("disk on fire")

    await send_stream(peer.send, peer.receive, b"a", chunks(), {}, "test export")
    assert all(m.get("more_body") for m in peer.messages[1:])
    assert "test export: failed after the first byte" in caplog.text
