"""The export engine: the table's schema, the keyset query, the SQL encoders, the database
calls and the whole-export pipeline. Pure of Datasette's request handling: the web views, the
command line and the mirror's writers use it, never the reverse."""
