"""The Parquet export (the `parquet` extra: pyarrow), written as it is sent.

SQLite encodes each batch as CSV that keeps NULL apart from empty text and floats exact
(encoders' arrow_csv), which pyarrow's CSV reader parses in C++ against the export's schema:
far faster than building Python rows, and than its JSON reader. Batches gather into row
groups of ROW_GROUP_ROWS, each written and sent as it fills; the footer, which indexes them,
comes last, so a file cut short never opens.
"""

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .schema import BOOLEAN_COLUMNS, COLUMN_TYPES, TIMESTAMP_COLUMNS

# A row group is held until it is written: 50,000 rows are a few MB of columns (the server
# grew by 6-18 MB exporting the 1M demo's biggest organisation,
# docs/benchmarks.md#xlsx-and-parquet), and big enough for readers to scan well.
ROW_GROUP_ROWS = 50_000
COMPRESSION = "zstd"
# The columns of few values, worth a dictionary. Trying one on every column, pyarrow's
# default, tripled the cost of writing (names, ids and times seldom repeat) and made the
# file bigger (docs/benchmarks.md#xlsx-and-parquet).
DICTIONARY_COLUMNS = ("platform",)
_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64()}


def arrow_type(column):
    if column in BOOLEAN_COLUMNS:
        return pa.bool_()
    if column in TIMESTAMP_COLUMNS:
        return pa.timestamp("us", tz="UTC")
    return _ARROW_TYPES[COLUMN_TYPES[column]]


def arrow_schema(columns):
    return pa.schema([(column, arrow_type(column)) for column in columns])


class _Pieces:
    """The file pyarrow writes into: it keeps what is written until it is taken."""

    closed = False

    def __init__(self):
        self._pieces = []
        self._position = 0

    def write(self, data):
        self._pieces.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self):
        return self._position

    def flush(self):
        pass

    def take(self) -> bytes:
        written = b"".join(self._pieces)
        self._pieces.clear()
        return written


class ParquetFile:
    """The Parquet file of the rows of `columns`, as the document an export writes (see
    formats.Document): `begin()`, `add(csv_rows, count)` per batch, `end()`."""

    def __init__(self, columns, row_group_rows=ROW_GROUP_ROWS):
        self._schema = arrow_schema(columns)
        self._row_group_rows = row_group_rows
        self._file = _Pieces()
        self._writer = pq.ParquetWriter(
            self._file,
            self._schema,
            compression=COMPRESSION,
            use_dictionary=[c for c in columns if c in DICTIONARY_COLUMNS],
        )
        self._column_names = list(columns)
        # A row of one column that is NULL is an empty line: a row all the same.
        self._parse_options = pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
        # An empty field is NULL, `""` empty text; booleans are written true and false.
        self._convert_options = pa_csv.ConvertOptions(
            column_types=self._schema,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["true"],
            false_values=["false"],
        )
        self._pending = []  # parsed batches of the row group being gathered
        self._pending_rows = 0

    def begin(self) -> bytes:
        return self._file.take()  # the magic number

    def add(self, csv_rows: bytes, count: int) -> bytes:
        if count:
            read_options = pa_csv.ReadOptions(
                use_threads=False, block_size=len(csv_rows), column_names=self._column_names
            )
            batch = pa_csv.read_csv(
                pa.BufferReader(csv_rows),
                read_options=read_options,
                parse_options=self._parse_options,
                convert_options=self._convert_options,
            )
            self._pending.append(batch)
            self._pending_rows += count
        if self._pending_rows >= self._row_group_rows:
            self._write_row_group()
        return self._file.take()

    def end(self) -> bytes:
        self._write_row_group()
        self._writer.close()
        return self._file.take()

    def _write_row_group(self):
        if not self._pending:
            return
        rows = pa.concat_tables(self._pending)
        self._pending, self._pending_rows = [], 0
        self._writer.write_table(rows, row_group_size=len(rows))
