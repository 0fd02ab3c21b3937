"""The export formats' rows, encoded by SQLite itself.

Each format is one SQL expression that turns a row of the sellers table into its finished
bytes (a CSV line, a JSON object), so a batch is encoded in C while SQLite walks the index and
Python only joins the rows. That is what lets an export run at close to the speed of the
`sqlite3` shell, and it releases the GIL so concurrent batches use every core (docs/benchmarks.md).

The bytes are exactly what Python's `csv` (RFC 4180, CRLF) and `json.dumps` (compact,
UTF-8) would write for the same row; `tests/test_encoders.py` holds the two to each other.
"""

from .functions import REAL_TEXT_FUNCTION, XLSX_TEXT_FUNCTION
from .schema import (
    ANY_VALUES,
    BOOLEAN_COLUMNS,
    COLUMN_TYPES,
    EXPORTED_COLUMNS,
    TIMESTAMP_COLUMNS,
)
from .workbook import XLSX_DATE_STYLE

# Text a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _glob_first_character_in(characters):
    """A GLOB matching text that starts with one of `characters`: an anchored GLOB stops at
    the first character, several times cheaper than substr(...) IN (...). Control characters
    go in through char(); "-" goes last in the class, where it is literal."""
    printable = "".join(c for c in characters if c.isprintable() and c != "-")
    controls = ", ".join(str(ord(c)) for c in characters if not c.isprintable())
    dash = "-" if "-" in characters else ""
    return f"'[{printable}' || char({controls}) || '{dash}]*'"


_FORMULA_GLOB = _glob_first_character_in(FORMULA_PREFIXES)
UTF8_BOM = "\ufeff".encode("utf-8")


def _real_sql(column):
    # Between 1e-4 and 1e15 Python writes a float in plain notation with its shortest
    # round-trip digits. SQLite's CAST writes `%!.15g`: when that round-trips, it is those
    # same digits (and keeps the ".0"). Anything else goes to Python. CAST rather than
    # printf(): it writes into the register's own buffer, where printf() mallocs, and every
    # SQLite malloc takes a process-wide lock that stops concurrent exports from scaling.
    fast = f"CAST({column} AS TEXT)"
    return (
        f"CASE WHEN abs({column}) >= 1e-4 AND abs({column}) < 1e15"
        f" AND CAST({fast} AS REAL) = {column} THEN {fast}"
        f" ELSE {REAL_TEXT_FUNCTION}({column}) END"
    )


def _contains_sql(value, character, nul_safe):
    """Whether the text `value` holds `character`. GLOB '*c*' looks for it with strcspn(),
    several times faster than instr(); but strcspn() stops at a NUL, so rows that hold one
    use instr()."""
    literal = f"'{character}'" if character.isprintable() else f"char({ord(character)})"
    if nul_safe:
        return f"instr({value}, {literal})"
    return f"{value} GLOB '*' || {literal} || '*'"  # a constant pattern, built once per query


# RFC 4180 minimal quoting: only a field holding a quote, comma, CR or LF is quoted.
CSV_QUOTE_TRIGGERS = ('"', ",", "\n", "\r")


def _csv_text_sql(value, escape_formulas, nul_safe, empty_quoted=False):
    guarded = value
    if escape_formulas:
        guarded = f"CASE WHEN {value} GLOB {_FORMULA_GLOB} THEN '''' || {value} ELSE {value} END"
    checks = [_contains_sql(value, c, nul_safe) for c in CSV_QUOTE_TRIGGERS]
    if empty_quoted:  # "" is empty text, and an empty field NULL
        checks.append(f"{value} = ''")
    needs_quotes = " OR ".join(checks)
    return (
        f"CASE WHEN {needs_quotes} THEN '\"' || replace({guarded}, '\"', '\"\"') || '\"'"
        f" ELSE {guarded} END"
    )


def _typed_sql(column, null, text, typed=False):
    """The cell of `column`: its text through `text`, NULL as `null` (None: left NULL, which
    printf's %s writes as nothing), a number as Python writes it.

    In general a CASE on the value's storage class, text first (the common case), since
    SQLite lets any column hold any type. A STRICT table (`typed`) holds only the declared
    type or NULL in each column, so the cell needs no dispatch: a seventh of the CSV row's
    instructions, a seventh of JSON's (docs/benchmarks.md#encoder)."""
    if not typed:
        return (
            f"CASE typeof({column}) WHEN 'text' THEN {text(column)} WHEN 'null' THEN {null}"
            f" WHEN 'integer' THEN CAST({column} AS TEXT) WHEN 'real' THEN {_real_sql(column)}"
            f" ELSE {text(f'CAST({column} AS TEXT)')} END"
        )
    kind = COLUMN_TYPES[column]
    if kind is float:  # NULL must not reach _real_sql, whose fallback calls Python
        return f"CASE WHEN {column} IS NULL THEN {null or 'NULL'} ELSE {_real_sql(column)} END"
    # printf's %s writes an integer as CAST does.
    value = text(column) if kind is str else column
    return value if null is None else f"ifnull({value}, {null})"


def csv_cell_sql(column, escape_formulas=True, nul_safe=False, typed=False, empty_quoted=False):
    """One CSV field: NULL empty, booleans true/false, numbers as Python writes them; empty
    text `""` where `empty_quoted`, so that it differs from NULL. A typed cell is NULL for
    NULL where it goes into printf (not `nul_safe`), which writes that as nothing."""
    if column in BOOLEAN_COLUMNS:
        return f"CASE WHEN {column} IS NULL THEN '' WHEN {column} THEN 'true' ELSE 'false' END"
    null = None if typed and not nul_safe else "''"

    def text(value):
        return _csv_text_sql(value, escape_formulas, nul_safe, empty_quoted)

    return _typed_sql(column, null, text, typed)


def json_value_sql(column, typed=False):
    """One JSON value: NULL null, booleans true/false, text a JSON string."""
    if column in BOOLEAN_COLUMNS:
        return f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} THEN 'true' ELSE 'false' END"
    if typed and COLUMN_TYPES[column] is str:
        return f"json_quote({column})"  # which writes NULL as null
    return _typed_sql(column, "'null'", lambda value: f"json_quote({value})", typed)


def _printf_blob_sql(template, values):
    # One printf builds the whole row in one allocation, where a chain of || copies the
    # growing string once per piece. A BLOB, so that Python never decodes it: the bytes go
    # from SQLite to the socket as they are.
    literal = "'" + template.replace("'", "''").replace("\r\n", "' || char(13, 10) || '") + "'"
    return f"CAST(printf({literal}, {', '.join(values)}) AS BLOB)"


def csv_line_sql(
    escape_formulas=True, columns=EXPORTED_COLUMNS, rules=ANY_VALUES, empty_quoted=False
):
    typed = rules.typed
    cells = [
        csv_cell_sql(column, escape_formulas, typed=typed, empty_quoted=empty_quoted)
        for column in columns
    ]
    fast = _printf_blob_sql(",".join(["%s"] * len(cells)) + "\r\n", cells)
    # printf's %s stops at a NUL character. PostgreSQL text cannot hold one, and a mirror
    # made by the plugin refuses one (rules.nul_free), but another writer's table might:
    # rows that hold one are joined with ||, which keeps every byte, so no cell is truncated.
    # (JSON needs no such care: json_quote escapes NUL before printf sees it.)
    has_nul = " OR ".join(
        _contains_sql(c, "\0", nul_safe=True) for c in columns if COLUMN_TYPES[c] is str
    )
    if not has_nul or rules.nul_free:  # no text column chosen, or the table keeps NUL out
        return fast
    exact_cells = [
        csv_cell_sql(column, escape_formulas, True, typed, empty_quoted) for column in columns
    ]
    exact = (
        "CAST("
        + " || ',' || ".join(f"({cell})" for cell in exact_cells)
        + " || char(13, 10) AS BLOB)"
    )
    return f"CASE WHEN {has_nul} THEN {exact} ELSE {fast} END"


def json_object_sql(terminator="", columns=EXPORTED_COLUMNS, rules=ANY_VALUES):
    template = "{" + ",".join(f'"{column}":%s' for column in columns) + "}" + terminator
    values = [json_value_sql(column, rules.typed) for column in columns]
    return _printf_blob_sql(template, values)


def csv_header(columns=EXPORTED_COLUMNS):
    return (",".join(columns) + "\r\n").encode("utf-8")


# XLSX: each row a worksheet's <row> of <c> cells, in the workbook of engine/workbook.py.
# Cells carry no `r` reference: the format leaves it optional, each cell then being the next
# column (Excel, LibreOffice, Google Sheets, openpyxl read it so), and a reference would cost
# each cell its row number. So a NULL cannot be left out: it is an empty <c/>.
XLSX_EMPTY_CELL = "'<c/>'"
# Excel's day 0 is 1899-12-30 (its 1900 date system), julianday()'s day 2415018.5; in
# milliseconds, Excel's resolution and SQLite's.
_MS_A_DAY = 86_400_000
_EXCEL_EPOCH_JULIAN_MS = 2_415_018 * _MS_A_DAY + _MS_A_DAY // 2
# Excel counts 29 February 1900, which never was, so its days before March 1900 are off by
# one: earlier times stay text, as do years past 9999, which Excel cannot hold.
_EXCEL_FIRST_TRUE_DAY = "1900-03-01"
_DATED = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"
# What XML 1.0 cannot carry (controls but tab and LF; U+FFFE, U+FFFF), CR (which XML parsers
# read as LF), markup's & < >, and _x (the start of Excel's own _xHHHH_ escape, which a name
# must not be mistaken for): text holding any of them is escaped by Python (XLSX_TEXT_FUNCTION).
# The controls as a GLOB class of ranges: a class is matched element by element at every
# character, so three ranges cost half of the 31 characters they span; & < > and _x by
# instr() and GLOB '*_x*', which scan in C (docs/benchmarks.md#xlsx-and-parquet).
_XLSX_CONTROLS_GLOB = (
    "'*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*'"
)


def _xlsx_text_sql(value, nul_safe):
    """An inline string cell of the text `value`, escaped for XML and for Excel. GLOB stops
    at a NUL, so rows of a table that may hold one also look for it with instr()."""
    checks = [f"instr({value}, '{c}')" for c in "&<>"]
    checks += [f"{value} GLOB {_XLSX_CONTROLS_GLOB}", f"{value} GLOB '*_x*'"]
    if nul_safe:
        checks.append(f"instr({value}, char(0))")
    escaped = f"CASE WHEN {' OR '.join(checks)} THEN {XLSX_TEXT_FUNCTION}({value}) ELSE {value} END"
    return f"'<c t=\"inlineStr\"><is><t xml:space=\"preserve\">' || {escaped} || '</t></is></c>'"


def _xlsx_number_sql(text):
    return f"'<c><v>' || {text} || '</v></c>'"


def _xlsx_real_sql(column):
    # Infinity has no number cell: its text (1e999, as CSV writes it) is kept instead.
    return (
        f"CASE WHEN abs({column}) <= 1.7976931348623157e308 THEN"
        f" {_xlsx_number_sql(_real_sql(column))}"
        f" ELSE '<c t=\"inlineStr\"><is><t>' || {REAL_TEXT_FUNCTION}({column})"
        " || '</t></is></c>' END"
    )


def _xlsx_date_sql(column, nul_safe):
    """A timestamp as Excel's date-time, a number of days in the date style; text that is
    no time Excel can hold stays text: julianday() is NULL for text it cannot read, and
    reads a day that never was (30 February) as another, which must not become 1 March.

    julianday() is SQLite's integer milliseconds over 86,400,000: multiplied back and
    rounded, they are that integer again, so the day count is one correctly rounded division,
    written with 17 digits (printf's `!`), all a double holds. CAST's 15 digits would be up to
    4 µs early, which a reader that truncates (LibreOffice) shows as the second before."""
    serial = (
        f"(round(julianday({column}) * {_MS_A_DAY}) - {_EXCEL_EPOCH_JULIAN_MS}) / {_MS_A_DAY}.0"
    )
    is_date = (
        f"{column} >= '{_EXCEL_FIRST_TRUE_DAY}' AND {column} GLOB '{_DATED}'"
        f" AND date(julianday(substr({column}, 1, 10))) = substr({column}, 1, 10)"
    )
    return (
        f"CASE WHEN {is_date} THEN '<c s=\"{XLSX_DATE_STYLE}\"><v>' || printf('%!.17g', {serial})"
        f" || '</v></c>' ELSE {_xlsx_text_sql(column, nul_safe)} END"
    )


def xlsx_cell_sql(column, rules=ANY_VALUES):
    """One worksheet cell: text an inline string, never a formula (so no guard is needed),
    numbers numbers, booleans booleans, created_at a date-time, NULL empty."""
    nul_safe = not rules.nul_free
    if column in BOOLEAN_COLUMNS:
        return (
            f"CASE WHEN {column} IS NULL THEN {XLSX_EMPTY_CELL}"
            f" WHEN {column} THEN '<c t=\"b\"><v>1</v></c>' ELSE '<c t=\"b\"><v>0</v></c>' END"
        )
    kind = COLUMN_TYPES[column]
    text = _xlsx_date_sql if column in TIMESTAMP_COLUMNS else _xlsx_text_sql
    if rules.typed:
        if kind is str:
            value = text(column, nul_safe)
        elif kind is float:
            value = _xlsx_real_sql(column)
        else:
            value = _xlsx_number_sql(column)
        return f"CASE WHEN {column} IS NULL THEN {XLSX_EMPTY_CELL} ELSE {value} END"
    # Any table: a CASE on the value's storage class, as _typed_sql's.
    return (
        f"CASE typeof({column}) WHEN 'text' THEN {text(column, nul_safe)}"
        f" WHEN 'null' THEN {XLSX_EMPTY_CELL}"
        f" WHEN 'integer' THEN {_xlsx_number_sql(column)}"
        f" WHEN 'real' THEN {_xlsx_real_sql(column)}"
        f" ELSE {_xlsx_text_sql(f'CAST({column} AS TEXT)', nul_safe)} END"
    )


def xlsx_row_sql(columns=EXPORTED_COLUMNS, rules=ANY_VALUES):
    # No cell holds a NUL (_xlsx_text_sql escapes it), so printf keeps every byte.
    cells = [xlsx_cell_sql(column, rules) for column in columns]
    return _printf_blob_sql("<row>" + "%s" * len(cells) + "</row>", cells)


# arrow_csv: the rows of a Parquet export, for Arrow's CSV reader (engine/parquet.py), which
# parses them into typed columns at 0.6 µs a row where its JSON reader takes 1.6
# (docs/benchmarks.md#xlsx-and-parquet). CSV as the export writes it, less the formula guard
# (the values must come back as they are) and with empty text quoted: the reader takes an
# empty field for NULL and `""` for empty text, so nothing CSV usually loses is lost.
ROW_ENCODINGS = ("csv", "json", "ndjson", "xlsx", "arrow_csv")


def row_sql(encoding, escape_formulas=True, columns=EXPORTED_COLUMNS, rules=ANY_VALUES):
    """The SQL of one row's bytes in `encoding` (ROW_ENCODINGS), leaving unchecked what the
    table's `rules` guarantee."""
    if encoding == "csv":
        return csv_line_sql(escape_formulas, columns, rules)
    if encoding == "arrow_csv":
        return csv_line_sql(False, columns, rules, empty_quoted=True)
    if encoding == "xlsx":
        return xlsx_row_sql(columns, rules)
    return json_object_sql("\n" if encoding == "ndjson" else "", columns, rules)
