"""The SQL functions the engine's queries call, registered on every connection (Datasette's,
through the `prepare_connection` hook, and the command line's)."""

import math
import re

REAL_TEXT_FUNCTION = "seller_export_real_text"
XLSX_TEXT_FUNCTION = "seller_export_xlsx_text"
# Search outside the index compares names folded by this function, as the index folds them.
FOLD_FUNCTION = "seller_export_fold"


def real_text(value):
    """Python's shortest round-trip text for a float: what `json.dumps` and `csv` write.

    The encoders' SQL (encoders._real_sql) calls it only for the rare floats SQLite's own
    `%!.15g` cannot write exactly. Infinity is written 1e999, which JSON parsers read back as
    infinity.
    """
    if value is None:
        return None
    value = float(value)
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


# What an XLSX cell's text cannot hold as it is (encoders._xlsx_text_sql): controls but tab
# and LF, U+FFFE and U+FFFF, and the underscore that starts text Excel would read as its
# escape, _xHHHH_.
_XLSX_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def xlsx_text(value):
    """Text for an XLSX cell: XML's & < > as entities, and what XML 1.0 cannot carry as
    Excel escapes it, `_xHHHH_` (a NUL `_x0000_`, an underscore `_x005F_`), which Excel and
    LibreOffice read back as the character."""
    if value is None:
        return None
    value = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _XLSX_UNWRITABLE.sub(lambda match: f"_x{ord(match.group()):04X}_", value)


def fold(value):
    """Case folded as the FTS5 trigram tokenizer folds it."""
    return value.lower() if isinstance(value, str) else value


def register_functions(conn):
    conn.create_function(REAL_TEXT_FUNCTION, 1, real_text, deterministic=True)
    conn.create_function(XLSX_TEXT_FUNCTION, 1, xlsx_text, deterministic=True)
    conn.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
