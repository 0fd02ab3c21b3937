"""`/-/sellers.json`: paging through equals the export; tokens are opaque and bound."""

import base64
import json

import pytest
from support.clients import page_through
from support.oracle import expected_export
from support.sellers import ROOT


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("size", [1, 7, 50, 249, 250, 251, "max", None])
@pytest.mark.parametrize("flagged", [None, "true", "false"])
async def test_paging_through_equals_the_export(ds, sellers_db, size, flagged):
    query = (
        "org_id=org-a"
        + (f"&_size={size}" if size else "")
        + (f"&flagged={flagged}" if flagged else "")
    )
    rows, pages = await page_through(ds, query)
    wanted = {None: None, "true": True, "false": False}[flagged]
    assert rows == json.loads(expected_export(sellers_db, "org-a", "json", flagged=wanted))
    page_size = {None: 100, "max": 1000}.get(size, size)
    assert all(len(p.json()["rows"]) == page_size for p in pages[:-1])
    assert 1 <= len(pages[-1].json()["rows"]) <= page_size or rows == []


@pytest.mark.asyncio
async def test_size_defaults_to_default_page_size_and_is_capped(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db, settings={"default_page_size": 20, "max_returned_rows": 60}, root=True
    )
    first = (await ds.client.get("/-/sellers.json?org_id=org-a", actor=ROOT)).json()
    assert len(first["rows"]) == 20
    capped = (await ds.client.get("/-/sellers.json?org_id=org-a&_size=5000", actor=ROOT)).json()
    assert len(capped["rows"]) == 60
    assert "_size=60" in capped["next_url"]


@pytest.mark.asyncio
async def test_empty_and_single_page(ds):
    assert (await ds.client.get("/-/sellers.json?org_id=org-empty", actor=ROOT)).json() == {
        "ok": True,
        "rows": [],
        "next": None,
        "next_url": None,
        "prev": None,
        "prev_url": None,
    }
    one = (await ds.client.get("/-/sellers.json?org_id=org-one", actor=ROOT)).json()
    assert len(one["rows"]) == 1 and one["next"] is None


@pytest.mark.asyncio
async def test_the_token_reveals_nothing_internal(ds):
    body = (await ds.client.get("/-/sellers.json?org_id=org-a&_size=3", actor=ROOT)).json()
    token = body["next"]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (b"sid-", b"org-a", b"2025", b"created_at"):
        assert secret not in raw
    assert "sid-" not in json.dumps(body["rows"])


async def first_token(ds, query="org_id=org-a&_size=5", actor=ROOT):
    return (await ds.client.get(f"/-/sellers.json?{query}", actor=actor)).json()["next"]


def flip(token, index):
    characters = list(token)
    characters[index] = "A" if characters[index] != "A" else "B"
    return "".join(characters)


@pytest.mark.asyncio
async def test_bad_tokens_are_400(make_datasette, ds, sellers_db):
    token = await first_token(ds)
    other_instance = await make_datasette(sellers_db, root=True)
    other_instance._secret = "another secret"  # the same data served under another secret
    foreign = await first_token(other_instance)
    cases = {
        "garbage": ("org_id=org-a&_next=not-a-token", "not a valid paging token"),
        "flipped early": (f"org_id=org-a&_next={flip(token, 10)}", "not a valid paging token"),
        "flipped late": (
            f"org_id=org-a&_next={flip(token, len(token) - 5)}",
            "not a valid paging token",
        ),
        "truncated": (f"org_id=org-a&_next={token[:-8]}", "not a valid paging token"),
        "non-ascii": ("org_id=org-a&_next=%C3%A9%C3%A9", "not a valid paging token"),
        "other secret": (f"org_id=org-a&_next={foreign}", "not a valid paging token"),
        "other org": (f"org_id=org-b&_next={token}", "another organisation or other filters"),
        "other filter": (
            f"org_id=org-a&flagged=true&_next={token}",
            "another organisation or other filters",
        ),
    }
    for name, (query, message) in cases.items():
        response = await ds.client.get(f"/-/sellers.json?{query}", actor=ROOT)
        assert response.status_code == 400, name
        assert message in response.json()["error"], name
    # The genuine token still works.
    assert (
        await ds.client.get(f"/-/sellers.json?org_id=org-a&_next={token}", actor=ROOT)
    ).status_code == 200


@pytest.mark.asyncio
async def test_a_token_from_one_org_actor_cannot_read_another_org(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db, config={"permissions": {"seller_collection.read": {"org_id": "*"}}}
    )
    alice, bob = {"id": "alice", "org_id": "org-a"}, {"id": "bob", "org_id": "org-b"}
    token = await first_token(ds, "_size=2", actor=alice)
    response = await ds.client.get(f"/-/sellers.json?_next={token}", actor=bob)
    assert response.status_code == 400
    assert "another organisation" in response.json()["error"]


@pytest.mark.asyncio
async def test_replicas_sharing_a_secret_accept_each_others_tokens(make_datasette, sellers_db):
    one = await make_datasette(sellers_db, root=True)
    two = await make_datasette(sellers_db, root=True)
    one._secret = two._secret = "shared"
    token = await first_token(one)
    response = await two.client.get(
        f"/-/sellers.json?org_id=org-a&_size=5&_next={token}", actor=ROOT
    )
    assert response.status_code == 200
    rows, _ = await page_through(one, "org_id=org-a&_size=5")
    assert response.json()["rows"] == rows[5:10]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query,status,message",
    [
        ("org_id=org-a&_size=0", 400, "_size='0'"),
        ("org_id=org-a&_size=-1", 400, "_size='-1'"),
        ("org_id=org-a&_size=ten", 400, "whole number from 1 to 1000, or max"),
        ("org_id=org-a&_size=1&_size=2", 400, "more than once"),
        ("org_id=org-a&_bom=1", 400, "Unknown parameter '_bom'"),
        ("org_id=org-a&_shape=array", 400, "Unknown parameter '_shape'"),
        ("org_id=org-a&flagged=maybe", 400, "flagged='maybe'"),
        ("", 400, "Choose an organisation"),
    ],
)
async def test_bad_api_parameters(ds, query, status, message):
    response = await ds.client.get(f"/-/sellers.json?{query}", actor=ROOT)
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.asyncio
async def test_api_permissions_match_the_export(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db, config={"permissions": {"seller_collection.read": {"org_id": "*"}}}
    )
    assert (await ds.client.get("/-/sellers.json")).status_code == 403
    assert (await ds.client.get("/-/sellers.json", actor={"id": "x"})).status_code == 403
    own = await ds.client.get("/-/sellers.json?_size=max", actor={"id": "b", "org_id": "org-b"})
    assert own.json()["rows"] == json.loads(expected_export(sellers_db, "org-b", "json"))
    other = await ds.client.get(
        "/-/sellers.json?org_id=org-a", actor={"id": "b", "org_id": "org-b"}
    )
    assert other.status_code == 403
    assert (
        await ds.client.post("/-/sellers.json", actor={"id": "b", "org_id": "org-b"})
    ).status_code == 405
