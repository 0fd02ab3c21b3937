"""The SQL functions the engine's queries call, registered on every connection (Datasette's,
through the `prepare_connection` hook, and the command line's)."""

import math

REAL_TEXT_FUNCTION = "seller_export_real_text"
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


def fold(value):
    """Case folded as the FTS5 trigram tokenizer folds it."""
    return value.lower() if isinstance(value, str) else value


def register_functions(conn):
    conn.create_function(REAL_TEXT_FUNCTION, 1, real_text, deterministic=True)
    conn.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
