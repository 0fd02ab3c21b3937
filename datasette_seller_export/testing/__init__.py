"""Test support shared by `tests/`, `benchmarks/` and `stress/`: a real `datasette serve`
process, and the expected export computed without the plugin. Needs only the plain install."""
