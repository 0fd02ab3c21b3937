"""`datasette seller-export members add|remove|list|import`, through Datasette's command line."""

import os

import pytest
import sqlite_utils
from support.clients import run_cli

TABLE = "seller_export_memberships"


def rows(path, table=TABLE):
    return sorted(sqlite_utils.Database(path)[table].rows_where(select="actor_id, org_id"), key=str)


def pairs(path, table=TABLE):
    return sorted((r["actor_id"], r["org_id"]) for r in rows(path, table))


def test_add_creates_the_table_and_adding_twice_changes_nothing(tmp_path):
    path = str(tmp_path / "m.db")
    first = run_cli("members", "add", path, "alice", "org-1", "org-2")
    assert first.exit_code == 0 and "2 added, 0 removed" in first.output
    again = run_cli("members", "add", path, "alice", "org-1")
    assert again.exit_code == 0 and "0 added" in again.output
    assert pairs(path) == [("alice", "org-1"), ("alice", "org-2")]
    assert sqlite_utils.Database(path)[TABLE].pks == ["actor_id", "org_id"]


def test_remove_and_list(tmp_path):
    path = str(tmp_path / "m.db")
    run_cli("members", "add", path, "alice", "org-1", "org-2")
    run_cli("members", "add", path, "bob", "org-2")
    listed = run_cli("members", "list", path)
    assert listed.output == "actor_id,org_id\nalice,org-1\nalice,org-2\nbob,org-2\n"
    assert run_cli("members", "list", path, "--org", "org-2").output.splitlines()[1:] == [
        "alice,org-2",
        "bob,org-2",
    ]
    assert run_cli("members", "list", path, "--actor", "bob").output.splitlines()[1:] == [
        "bob,org-2"
    ]
    removed = run_cli("members", "remove", path, "alice", "org-2", "org-9")
    assert removed.exit_code == 0 and "1 removed" in removed.output
    assert pairs(path) == [("alice", "org-1"), ("bob", "org-2")]


def test_import_adds_and_replace_makes_the_table_exactly_the_file(tmp_path):
    path = str(tmp_path / "m.db")
    run_cli("members", "add", path, "old", "org-0")
    csv_path = tmp_path / "members.csv"
    csv_path.write_text('actor_id,org_id\nalice,org-1\n"b,ob","org ""2"""\nalice,org-1\n')
    added = run_cli("members", "import", path, csv_path)
    assert added.exit_code == 0 and "2 added, 0 removed" in added.output
    assert pairs(path) == [("alice", "org-1"), ("b,ob", 'org "2"'), ("old", "org-0")]
    replaced = run_cli("members", "import", path, csv_path, "--replace")
    assert replaced.exit_code == 0 and "0 added, 1 removed" in replaced.output
    assert pairs(path) == [("alice", "org-1"), ("b,ob", 'org "2"')]
    # What `list` writes, `import` reads.
    listed = tmp_path / "listed.csv"
    listed.write_text(run_cli("members", "list", path).output)
    assert run_cli("members", "import", path, listed, "--replace").exit_code == 0
    assert pairs(path) == [("alice", "org-1"), ("b,ob", 'org "2"')]


@pytest.mark.parametrize(
    "content, message",
    [
        ("actor,org\nalice,org-1\n", "the first line must be the header actor_id,org_id"),
        ("actor_id,org_id\nalice,org-1\nbob\n", "record 2: has 1 fields where the header has 2"),
        ("actor_id,org_id\nalice,org-1\n,org-2\n", "record 2: the actor id is empty"),
        ("actor_id,org_id\nalice , org-1\n", "record 1: the actor id 'alice ' starts or ends"),
        ("", "the first line must be the header"),
    ],
)
def test_a_bad_file_changes_nothing(tmp_path, content, message):
    path = str(tmp_path / "m.db")
    run_cli("members", "add", path, "old", "org-0")
    csv_path = tmp_path / "members.csv"
    csv_path.write_text(content)
    result = run_cli("members", "import", path, csv_path, "--replace")
    assert result.exit_code != 0 and message in result.output
    assert "nothing was changed" in result.output and "Traceback" not in result.output
    assert pairs(path) == [("old", "org-0")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "{missing}/m.db", "alice", "org-1"], "does not exist"),
        (["import", "{missing}/m.db", "{csv}"], "does not exist"),
        (["add", "{db}", "alice"], "Missing argument 'ORG_ID...'"),
        (["add", "{db}", "", "org-1"], "the actor id is empty"),
        (["add", "{db}", "alice", " org-1"], "the org id ' org-1' starts or ends with white space"),
        (["remove", "{missing}/m.db", "alice", "org-1"], "does not exist"),
        (["list", "{db}", "--actor", "a", "--org", "b"], "give --actor or --org, not both"),
        (["list", "{missing}/m.db"], "does not exist"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, args, message):
    db = tmp_path / "m.db"
    run_cli("members", "add", db, "old", "org-0")
    csv_path = tmp_path / "members.csv"
    csv_path.write_text("actor_id,org_id\na,b\n")
    values = {"missing": tmp_path / "no" / "such", "db": db, "csv": csv_path}
    result = run_cli("members", *[a.format(**values) for a in args])
    assert result.exit_code != 0, result.output
    assert message in result.output and "Traceback" not in result.output
    assert pairs(db) == [("old", "org-0")]
    assert not os.path.exists(tmp_path / "no")


def test_adding_a_member_to_an_organisation_the_mirror_has_not_seen_warns(sellers_db):
    result = run_cli("members", "add", sellers_db, "eve", "org-aa", "org-b")
    assert result.exit_code == 0
    assert "has no sellers of organisation 'org-aa'; organisations with ids like it: org-a" in (
        result.output
    )
    assert "'org-b'" not in result.output  # it has sellers: nothing to say
