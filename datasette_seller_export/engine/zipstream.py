"""A ZIP archive written front to back, as it is sent: each member's local header, its data
deflated as it comes, then a data descriptor with its CRC and sizes, which no header could
know in advance; the central directory at the end (PKWARE's APPNOTE, sections 4.3 and 4.5).

ZIP64 records appear only where a size or an offset passes 4 GiB, as Go's archive/zip does:
readers find every member through the central directory, which has the true sizes.
"""

import struct
import zlib
from datetime import datetime

# Measured on the demo's worksheet XML (docs/benchmarks.md#xlsx-and-parquet): level 1 deflates
# it to 11.5% at twice level 6's speed, where 6 gives 8.4%.
DEFLATE_LEVEL = 1
_FLAGS = 0x08  # bit 3: sizes and CRC in the data descriptor after the data
_DEFLATED = 8
_ZIP32_LIMIT = 0xFFFFFFFF


def _dos_time(moment: datetime):
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


class ZipStream:
    """One archive. `start(name)`, then `write(data)` any number of times, then `end_member()`,
    for each member in turn; `finish()` last. Each returns the archive's next bytes."""

    def __init__(self, modified: datetime, level=DEFLATE_LEVEL):
        self._time, self._date = _dos_time(modified)
        self._level = level
        self._offset = 0  # bytes of the archive written so far
        self._members = []  # (name, crc, compressed size, size, local header offset)
        self._current = None

    def _out(self, data: bytes) -> bytes:
        self._offset += len(data)
        return data

    def start(self, name: str) -> bytes:
        encoded = name.encode("ascii")
        self._current = {
            "name": encoded,
            "offset": self._offset,
            "crc": 0,
            "size": 0,
            "compressed": 0,
            "deflate": zlib.compressobj(self._level, zlib.DEFLATED, -zlib.MAX_WBITS),
        }
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,  # version needed: deflate
            _FLAGS,
            _DEFLATED,
            self._time,
            self._date,
            0,  # CRC, compressed size and size: in the data descriptor
            0,
            0,
            len(encoded),
            0,
        )
        return self._out(header + encoded)

    def write(self, data: bytes) -> bytes:
        member = self._current
        member["crc"] = zlib.crc32(data, member["crc"])
        member["size"] += len(data)
        deflated = member["deflate"].compress(data)
        member["compressed"] += len(deflated)
        return self._out(deflated)

    def end_member(self) -> bytes:
        member, self._current = self._current, None
        rest = member["deflate"].flush(zlib.Z_FINISH)
        member["compressed"] += len(rest)
        sizes = (member["compressed"], member["size"])
        if max(sizes) > _ZIP32_LIMIT:
            descriptor = struct.pack("<IIQQ", 0x08074B50, member["crc"], *sizes)
        else:
            descriptor = struct.pack("<IIII", 0x08074B50, member["crc"], *sizes)
        self._members.append(
            (member["name"], member["crc"], *sizes, member["offset"]),
        )
        return self._out(rest) + self._out(descriptor)

    def add(self, name: str, data: bytes) -> bytes:
        """A whole member at once."""
        return self.start(name) + self.write(data) + self.end_member()

    def finish(self) -> bytes:
        directory_offset = self._offset
        entries = b"".join(self._directory_entry(*member) for member in self._members)
        directory_size = len(entries)
        count = len(self._members)
        tail = b""
        if directory_offset + directory_size > _ZIP32_LIMIT or count > 0xFFFF:
            end64_offset = directory_offset + directory_size
            tail += struct.pack(
                "<IQHHIIQQQQ",
                0x06064B50,
                44,  # the size of the rest of this record
                45,  # version made by, and needed: ZIP64
                45,
                0,
                0,
                count,
                count,
                directory_size,
                directory_offset,
            )
            tail += struct.pack("<IIQI", 0x07064B50, 0, end64_offset, 1)
        tail += struct.pack(
            "<IHHHHIIH",
            0x06054B50,
            0,
            0,
            min(count, 0xFFFF),
            min(count, 0xFFFF),
            min(directory_size, _ZIP32_LIMIT),
            min(directory_offset, _ZIP32_LIMIT),
            0,
        )
        return self._out(entries + tail)

    def _directory_entry(self, name, crc, compressed, size, offset):
        # The ZIP64 extra field holds, in this order, only the values that overflowed.
        wide = [value for value in (size, compressed, offset) if value > _ZIP32_LIMIT]
        extra = b""
        if wide:
            extra = struct.pack(f"<HH{len(wide)}Q", 0x0001, 8 * len(wide), *wide)
        version = 45 if wide else 20
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                version,  # made by (MS-DOS attributes)
                version,  # needed
                _FLAGS,
                _DEFLATED,
                self._time,
                self._date,
                crc,
                min(compressed, _ZIP32_LIMIT),
                min(size, _ZIP32_LIMIT),
                len(name),
                len(extra),
                0,  # comment
                0,  # disk
                0,  # internal attributes
                0,  # external attributes
                min(offset, _ZIP32_LIMIT),
            )
            + name
            + extra
        )
