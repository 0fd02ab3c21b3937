"""Compressing an export as it is written: zstd or gzip, one stream for the whole export, every
chunk flushed so that a client decodes each batch as it arrives.

One stream, not a frame or gzip member per batch: concatenated gzip members are valid gzip, but
zlib-based decoders (httpx, browsers) stop after the first. So chunks are compressed in order,
on one thread of the process's own (not Datasette's read threads, not the event loop's), while
the next batches are encoded. One thread serves every export: at the levels below it
compresses several times faster than all exports together write (docs/benchmarks.md#compression);
and a pool that grew with the load would keep the threads it grew.
"""

import asyncio
import concurrent.futures
import contextlib
import zlib
from typing import AsyncIterator

# Measured on the biggest demo organisation's CSV, compressed batch by batch as it is sent
# (docs/benchmarks.md#compression): zstd 1 is as small as 3 (26.3% against 26.6%; plain data
# 15.9% against 19.2%) for half the CPU; gzip 1 is 30.2% against 6's 25.3% for a third of the
# CPU. A parallel export already keeps every core busy, so the cheaper levels.
GZIP_LEVEL = 1
ZSTD_LEVEL = 1

try:  # Python 3.14's own binding
    from compression import zstd as _stdlib_zstd
except ImportError:
    _stdlib_zstd = None
try:
    import zstandard
except ImportError:
    zstandard = None


class GzipStream:
    """gzip (RFC 1952) through zlib; each chunk ends with a sync flush."""

    def __init__(self, level=GZIP_LEVEL):
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def compress(self, data: bytes) -> bytes:
        return self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._compressor.flush(zlib.Z_FINISH)


class ZstdStream:
    """One zstd frame; each chunk ends with a flushed block."""

    def __init__(self, level=ZSTD_LEVEL):
        if zstandard is not None:
            self._compressor = zstandard.ZstdCompressor(level=level).compressobj()
            self._block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
            self._frame = zstandard.COMPRESSOBJ_FLUSH_FINISH
        else:
            self._compressor = _stdlib_zstd.ZstdCompressor(level=level)
            self._block = _stdlib_zstd.ZstdCompressor.FLUSH_BLOCK
            self._frame = _stdlib_zstd.ZstdCompressor.FLUSH_FRAME

    def compress(self, data: bytes) -> bytes:
        return self._compressor.compress(data) + self._compressor.flush(self._block)

    def finish(self) -> bytes:
        return self._compressor.flush(self._frame)


# No coding: the body as it is.
IDENTITY = "identity"
# The content codings this plugin writes, best first.
STREAMS = {"zstd": ZstdStream, "gzip": GzipStream}
if zstandard is None and _stdlib_zstd is None:
    del STREAMS["zstd"]  # neither binding: gzip only
# The file extension of each, for the command line.
EXTENSIONS = {"zstd": ".zst", "gzip": ".gz"}
_COMPRESSING = concurrent.futures.ThreadPoolExecutor(1, "seller-export-compress")


async def off_the_loop(function, *args):
    """`function(*args)` on the compressing thread: for a container format's work on a batch
    (formats.py), which deflates or parses as compressing does."""
    return await asyncio.get_running_loop().run_in_executor(_COMPRESSING, function, *args)


async def compressed(chunks: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    """`chunks` compressed with `encoding` (IDENTITY: as they are), chunk by chunk, each
    compressed off the event loop; the stream's end comes last."""
    async with contextlib.aclosing(chunks):
        if encoding == IDENTITY:
            async for chunk in chunks:
                yield chunk
            return
        stream = STREAMS[encoding]()
        loop = asyncio.get_running_loop()
        async for chunk in chunks:
            yield await loop.run_in_executor(_COMPRESSING, stream.compress, chunk)
        yield stream.finish()
