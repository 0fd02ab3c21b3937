from setuptools import find_packages, setup

VERSION = "0.1.0"
# Where the repository is published; the README's links are relative to it.
REPOSITORY = "https://github.com/datasette-seller-export/datasette-seller-export"


def get_long_description():
    with open("README.md", encoding="utf8") as fp:
        return fp.read()


setup(
    name="datasette-seller-export",
    description=(
        "Stream one organisation's sellers out of a SQLite mirror as CSV, JSON, NDJSON, XLSX"
        " or Parquet"
    ),
    long_description=get_long_description(),
    long_description_content_type="text/markdown",
    version=VERSION,
    license="Apache License, Version 2.0",
    url=REPOSITORY,
    project_urls={
        "Documentation": REPOSITORY + "#readme",
        "Changelog": REPOSITORY + "/commits/main",
        "Issues": REPOSITORY + "/issues",
        "CI": REPOSITORY + "/actions",
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Framework :: Datasette",
        "Intended Audience :: Developers",
        "Intended Audience :: System Administrators",
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "Topic :: Database",
    ],
    packages=find_packages(include=["datasette_seller_export", "datasette_seller_export.*"]),
    entry_points={"datasette": ["seller_export = datasette_seller_export"]},
    package_data={"datasette_seller_export": ["templates/*.html"]},
    install_requires=[
        "datasette>=1.0a41",
        "sqlite-utils>=3.35",
        "cryptography>=42",
        # zstd for the exports; Python 3.14 has its own.
        "zstandard>=0.22; python_version < '3.14'",
    ],
    extras_require={
        # `datasette seller-export sync --from postgresql://...`; psycopg2 for --follow, whose
        # streaming replication psycopg 3 does not have (docs/design.md)
        "postgres": ["psycopg[binary]>=3.1", "psycopg2-binary>=2.9"],
        # `/export/sellers/parquet` and `export -o FILE.parquet`
        "parquet": ["pyarrow>=14"],
        "test": [
            # The readers the XLSX and Parquet exports are read back with.
            "pyarrow>=14",
            "openpyxl",
            "pandas",
            "polars",
            "duckdb",
            "psycopg[binary]>=3.1",
            "psycopg2-binary>=2.9",
            "pytest",
            "pytest-asyncio>=1.0",
            "pytest-timeout",
            # `pytest -n 2`: the fast tests on both cores (CONTRIBUTING.md).
            "pytest-xdist",
            # The CLI reference in docs/cli.md, generated from the commands' help.
            "cogapp",
            "hypothesis",
            "httpx",
            "selenium",
            # A published sign-in plugin, for the tests of a deployment behind one.
            "datasette-auth-passwords>=1.1.1",
            # Datasette's published gzip middleware, for the test of the two together.
            "datasette-gzip>=0.3",
            # Datasette's published event recorder, for the test of the events it records.
            "datasette-events-db>=0.1a2",
            "ruff==0.17.6",
        ],
    },
    python_requires=">=3.10",
)
