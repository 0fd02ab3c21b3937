"""The export formats: how each frames the rows SQLite encodes (encoders.py) into a file.

A format writes a Document: `begin()` once, then `add(encoded, count)` for each batch, the
batch's rows as the format's row encoding joined by its separator, then `end()`; each returns
the file's next bytes. CSV, JSON and NDJSON are text around the rows; XLSX and Parquet are
containers whose work per batch (deflating, parsing into columns) runs off the event loop.
"""

import functools
import importlib
from dataclasses import dataclass
from typing import Callable, Protocol

from .encoders import UTF8_BOM, csv_header, row_sql
from .schema import ANY_VALUES, EXPORTED_COLUMNS


@functools.cache
def _importable(module):
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


class Document(Protocol):
    def begin(self) -> bytes: ...
    def add(self, encoded: bytes, count: int) -> bytes: ...
    def end(self) -> bytes: ...


class TextDocument:
    """`head`, the batches with `separator` between them, `tail`."""

    def __init__(self, head: bytes, separator: bytes, tail: bytes):
        self._head, self._separator, self._tail = head, separator, tail
        self._first = True

    def begin(self):
        return self._head

    def add(self, encoded, count):
        if self._first:
            self._first = False
            return encoded
        return self._separator + encoded

    def end(self):
        return self._tail


def _workbook(columns, bom):
    from .workbook import Workbook

    return Workbook(columns)


def _parquet_file(columns, bom):
    from .parquet import ParquetFile

    return ParquetFile(columns)


@dataclass(frozen=True)
class Format:
    name: str  # also the file extension
    content_type: str
    rows: str  # the row encoding its batches are made of (encoders.row_sql)
    separator: bytes  # between the rows of a batch, and between batches
    document: Callable[[tuple, bool], Document]  # (columns, bom): a new one per export
    # Already compressed (ZIP, Parquet's pages): sent as it is, whatever Accept-Encoding says.
    compressed: bool = False
    requires: str = ""  # the module it needs, when that comes with an extra
    extra: str = ""

    def row_sql(self, escape_formulas=True, columns=EXPORTED_COLUMNS, rules=ANY_VALUES):
        return row_sql(self.rows, escape_formulas, columns, rules)

    @property
    def available(self):
        return not self.requires or _importable(self.requires)

    def missing_message(self):
        return (
            f"{self.name} exports need {self.requires}, which this server lacks; install it"
            f" with `pip install 'datasette-seller-export[{self.extra}]'`"
        )


def _text(name, content_type, separator=b"", opening=b"", closing=b""):
    def document(columns, bom):
        head = opening if name != "csv" else csv_header(columns)
        return TextDocument((UTF8_BOM if bom else b"") + head, separator, closing)

    return Format(name, content_type, name, separator, document)


FORMATS = {
    "csv": _text("csv", "text/csv; charset=utf-8"),
    "json": _text("json", "application/json; charset=utf-8", b",\n", b"[", b"]"),
    "ndjson": _text("ndjson", "application/x-ndjson"),
    "xlsx": Format(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        b"",
        _workbook,
        compressed=True,
    ),
    "parquet": Format(
        "parquet",
        "application/vnd.apache.parquet",
        "arrow_csv",
        b"",
        _parquet_file,
        compressed=True,
        requires="pyarrow",
        extra="parquet",
    ),
}
