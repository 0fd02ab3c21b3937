"""What SQLite's bytecode for a statement reads, for tests that a query reads indexes alone."""


def table_row_reads(conn, sql, params, table="sellers"):
    """The numbers of the columns that `sql` reads from `table`'s rows themselves. Empty when
    it reads only indexes: EXPLAIN QUERY PLAN cannot say so for a partial index (it names a
    "COVERING INDEX" only when the index holds every column the WHERE names, even one the
    index's own WHERE answers), the bytecode can, since a row is read only by a Column op on
    the table's cursor (the seek before it is deferred until then)."""
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    ).fetchone()[0]
    program = conn.execute("EXPLAIN " + sql, params).fetchall()
    cursors = {p1 for _, opcode, p1, p2, *_ in program if opcode == "OpenRead" and p2 == root}
    return {p2 for _, opcode, p1, p2, *_ in program if opcode == "Column" and p1 in cursors}
