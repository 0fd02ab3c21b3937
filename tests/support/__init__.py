"""What the tests, the benchmarks and the stress run share, imported from the repository (it is
not in the installed package): `sellers` (actors and mirrors of test data), `clients` (ways to
talk to the plugin), `server` (a real `datasette serve`), `postgres` (a throwaway PostgreSQL
cluster) and `oracle` (the expected export, computed without the plugin)."""
