"""Writing the SQLite mirror: demo data and dump imports."""
