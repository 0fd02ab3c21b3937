"""Content codings on their own: negotiation from Accept-Encoding, and the compressed stream
decoding, batch by batch and whole, to exactly the bytes it was given."""

import asyncio
import gzip
import zlib

import pytest
import zstandard

from datasette_seller_export.engine.compression import STREAMS, compressed
from datasette_seller_export.web.encoding import NotAcceptable, choose_encoding

BOTH = ["zstd", "gzip"]


@pytest.mark.parametrize(
    "header, available, chosen",
    [
        (None, BOTH, "identity"),
        ("", BOTH, "identity"),
        ("gzip", BOTH, "gzip"),
        ("zstd", BOTH, "zstd"),
        ("gzip, zstd", BOTH, "zstd"),  # equal weights: the better coding
        ("gzip, deflate, br, zstd", BOTH, "zstd"),  # what current browsers send
        ("gzip, deflate, br", BOTH, "gzip"),
        ("GZIP", BOTH, "gzip"),
        ("x-gzip", BOTH, "gzip"),
        ("zstd;q=0.5, gzip", BOTH, "gzip"),  # the client's weights come first
        ("zstd;q=0.5, gzip;q=0.5", BOTH, "zstd"),
        ("gzip;q=0, zstd", BOTH, "zstd"),
        ("gzip;q=0", BOTH, "identity"),
        ("gzip ; q=0.000", BOTH, "identity"),
        ("gzip;q=0.001", BOTH, "gzip"),
        ("zstd;q=0", BOTH, "identity"),
        ("*", BOTH, "zstd"),
        ("*;q=0.2, gzip", BOTH, "gzip"),
        ("*;q=0.5, zstd;q=0", BOTH, "gzip"),
        ("br", BOTH, "identity"),
        ("identity", BOTH, "identity"),
        ("identity;q=0, gzip", BOTH, "gzip"),
        ("*;q=0, identity", BOTH, "identity"),
        ("gzip;q=2", BOTH, "identity"),  # a malformed weight: the entry is left out
        ("gzip;q=abc, zstd", BOTH, "zstd"),
        ("zstd", ["gzip"], "identity"),  # zstd unavailable
    ],
)
def test_the_chosen_coding(header, available, chosen):
    assert choose_encoding(header, available) == chosen


@pytest.mark.parametrize("header", ["identity;q=0", "*;q=0", "gzip;q=0, identity;q=0", "br, *;q=0"])
def test_nothing_acceptable_says_what_would_be(header):
    with pytest.raises(NotAcceptable) as raised:
        choose_encoding(header, BOTH)
    assert "(zstd, gzip, identity)" in str(raised.value) and repr(header) in str(raised.value)


DECODERS = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),
}


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_every_chunk_decodes_as_it_arrives_and_the_whole_to_the_same_bytes(encoding):
    chunks = [b"header\r\n"] + [f"row {n},".encode() * 500 for n in range(20)] + [b"", b"end"]

    async def source():
        for chunk in chunks:
            yield chunk

    async def collect():
        return [c async for c in compressed(source(), encoding)]

    parts = asyncio.run(collect())
    assert len(parts) == len(chunks) + 1  # one per chunk, then the stream's end
    decoder = DECODERS[encoding]()
    for chunk, part in zip(chunks, parts, strict=False):
        assert decoder.decompress(part) == chunk  # flushed: nothing held back
    whole = b"".join(parts)
    if encoding == "gzip":
        assert gzip.decompress(whole) == b"".join(chunks)
    else:
        assert zstandard.ZstdDecompressor().decompressobj().decompress(whole) == b"".join(chunks)
    assert len(whole) < len(b"".join(chunks)) / 5


def test_identity_passes_chunks_through():
    async def source():
        yield b"a"
        yield b"b"

    async def collect():
        return [c async for c in compressed(source(), "identity")]

    assert asyncio.run(collect()) == [b"a", b"b"]


def test_both_codings_are_available():
    assert list(STREAMS) == ["zstd", "gzip"]
