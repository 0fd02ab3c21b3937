"""Writing the SQLite mirror: one pipeline (writer.py) for every writer of it: a sync from
PostgreSQL, an import of a dump, demo data."""
