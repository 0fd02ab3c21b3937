"""The plugin's Datasette events, seen by a plugin of the tests' own that implements
`track_event`, on every seller surface: exports, pages and refusals."""

import asyncio
import json
import logging

import pytest
import pytest_asyncio
from datasette import hookimpl
from datasette.plugins import pm
from support.clients import check_link
from support.sellers import ROOT, ROW_MARKERS

from datasette_seller_export.events import EVENTS

MEMBER = {"id": "alice", "org_id": "org-a"}
NO_ORG = {"id": "bob"}
READERS = {"seller_collection.read": {"id": ["alice", "bob"]}}


class Recorder:
    """Every event Datasette hands to plugins; raises instead when `failing`."""

    def __init__(self):
        self.events = []
        self.failing = False

    @hookimpl
    def track_event(self, datasette, event):
        if self.failing:
            raise RuntimeError("the recording plugin broke")
        self.events.append(event)

    async def settled(self):
        """The events, once the tasks that send them have run."""
        for _ in range(5):
            await asyncio.sleep(0)
        return self.events

    async def one(self, name):
        named = [event for event in await self.settled() if event.name == name]
        assert len(named) == 1, named
        return named[0]


@pytest.fixture
def recorder():
    recorder = Recorder()
    pm.register(recorder, name="test-event-recorder")
    yield recorder
    pm.unregister(name="test-event-recorder")


@pytest_asyncio.fixture
async def readers_ds(make_datasette, sellers_db):
    return await make_datasette(sellers_db, root=True, config={"permissions": READERS})


def assert_no_row_value(event):
    text = json.dumps(event.properties(), ensure_ascii=False)
    for value in ROW_MARKERS:
        assert value not in text, (value, text)


@pytest.mark.asyncio
async def test_the_three_events_are_registered(ds):
    names = {cls.name for cls in ds.event_classes}
    assert {"seller-export", "seller-page", "seller-access-denied"} <= names
    assert all(cls in ds.event_classes for cls in EVENTS)


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "xlsx", "parquet"])
async def test_a_complete_export_is_one_event_with_its_counts(ds, recorder, fmt):
    response = await ds.client.get(
        f"/export/sellers/{fmt}?org_id=org-a", actor=ROOT, headers={"Accept-Encoding": "identity"}
    )
    assert response.status_code == 200
    event = await recorder.one("seller-export")
    assert event.actor == ROOT
    assert event.properties() == {
        "org_id": "org-a",
        "format": fmt,
        "filters": {"flagged": None, "q": None, "sort": None, "filters": {}, "columns": None},
        "rows": 250,
        "bytes": len(response.content),
        "encoding": "identity",
        "outcome": "complete",
        "duration_ms": event.duration_ms,
    }
    assert event.duration_ms > 0
    assert_no_row_value(event)
    assert [e.name for e in recorder.events] == ["seller-export"]


@pytest.mark.asyncio
@pytest.mark.parametrize("coding", ["gzip", "zstd"])
async def test_an_export_counts_its_bytes_before_the_content_coding(ds, recorder, coding):
    path = "/export/sellers/json?org_id=org-b"
    plain = await ds.client.get(path, actor=ROOT, headers={"Accept-Encoding": "identity"})
    coded = await ds.client.get(path, actor=ROOT, headers={"Accept-Encoding": coding})
    assert coded.headers["content-encoding"] == coding
    first, second = await recorder.settled()
    assert (first.encoding, second.encoding) == ("identity", coding)
    assert first.bytes == second.bytes == len(plain.content)
    assert first.rows == second.rows == 40


@pytest.mark.asyncio
async def test_the_selection_is_recorded_as_asked(ds, recorder):
    query = (
        "org_id=org-a&flagged=true&q=seller&_sort_desc=times_seen&platform__exact=ebay"
        "&times_seen__gte=5&_col=display_name&_col=platform"
    )
    response = await ds.client.get(f"/export/sellers/ndjson?{query}", actor=ROOT)
    assert response.status_code == 200
    event = await recorder.one("seller-export")
    assert event.filters == {
        "flagged": True,
        "q": "seller",
        "sort": "-times_seen",
        "filters": {"platform__exact": "ebay", "times_seen__gte": "5"},
        "columns": ["display_name", "platform"],
    }
    assert event.rows == len(response.content.splitlines())


@pytest.mark.asyncio
async def test_an_export_of_no_rows_is_recorded_too(ds, recorder):
    response = await ds.client.get("/export/sellers/csv?org_id=org-empty", actor=ROOT)
    assert response.status_code == 200
    event = await recorder.one("seller-export")
    assert (event.rows, event.bytes, event.outcome) == (0, len(response.content), "complete")


@pytest.mark.asyncio
async def test_head_and_bad_requests_read_nothing_and_are_not_exports(ds, recorder):
    assert (await ds.client.head("/export/sellers/csv?org_id=org-a", actor=ROOT)).status_code == 200
    bad = await ds.client.get("/export/sellers/csv?org_id=org-a&flagged=maybe", actor=ROOT)
    assert bad.status_code == 400
    refused = await ds.client.get(
        "/export/sellers/csv?org_id=org-a", actor=ROOT, headers={"Accept-Encoding": "identity;q=0"}
    )
    assert refused.status_code == 406
    assert await recorder.settled() == []


@pytest.mark.asyncio
async def test_each_page_of_the_api_is_one_event(ds, recorder):
    response = await ds.client.get("/-/sellers.json?org_id=org-a&_size=7&flagged=0", actor=ROOT)
    assert len(response.json()["rows"]) == 7
    event = await recorder.one("seller-page")
    assert event.actor == ROOT
    assert event.properties() == {
        "surface": "api",
        "org_id": "org-a",
        "filters": {"flagged": False, "q": None, "sort": None, "filters": {}, "columns": None},
        "rows": 7,
    }
    assert_no_row_value(event)
    following = await ds.client.get(check_link(response.json(), response, "next"), actor=ROOT)
    assert following.status_code == 200
    assert [e.name for e in await recorder.settled()] == ["seller-page", "seller-page"]


@pytest.mark.asyncio
async def test_each_browse_page_is_one_event_and_the_picker_none(readers_ds, recorder):
    response = await readers_ds.client.get("/-/sellers?_size=20", actor=MEMBER)
    assert response.status_code == 200
    event = await recorder.one("seller-page")
    assert (event.surface, event.org_id, event.rows, event.actor) == ("browse", "org-a", 20, MEMBER)
    assert_no_row_value(event)
    picker = await readers_ds.client.get("/-/sellers", actor=ROOT)  # root chooses first
    assert picker.status_code == 200 and "org-b" in picker.text
    assert len(await recorder.settled()) == 1


@pytest.mark.asyncio
async def test_track_pages_off_leaves_pages_out_but_not_exports_or_refusals(
    make_datasette, sellers_db, recorder
):
    ds = await make_datasette(sellers_db, root=True, plugin_config={"track_pages": False})
    await ds.client.get("/-/sellers.json?org_id=org-a", actor=ROOT)
    await ds.client.get("/-/sellers?org_id=org-a", actor=ROOT)
    await ds.client.get("/export/sellers/csv?org_id=org-a", actor=ROOT)
    await ds.client.get("/export/sellers/csv?org_id=org-a")
    names = [event.name for event in await recorder.settled()]
    assert names == ["seller-export", "seller-access-denied"]


SURFACES = [
    "/export/sellers/csv",
    "/export/sellers/parquet",
    "/-/sellers.json",
    "/-/sellers",
    "/-/sellers/orgs.json",
]


REFUSALS = [
    (None, None, "not signed in"),
    (None, "org-b", "not signed in"),
    ({"id": "mallory", "org_id": "org-a"}, None, "no permission"),
    ({"id": "root", "token": "dstok", "_r": {"a": ["view-instance"]}}, None, "token restricted"),
    (MEMBER, "org-b", "not a member of the organisation"),
    (NO_ORG, None, "no organisation"),
]
# The list of the actor's own organisations asks for none, so it refuses only who may not read.
ORGANISATION_REFUSALS = ("not a member of the organisation", "no organisation")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path, actor, org_id, reason",
    [
        (path, *refusal)
        for path in SURFACES
        for refusal in REFUSALS
        if not (path.endswith("orgs.json") and refusal[2] in ORGANISATION_REFUSALS)
    ],
)
async def test_every_refusal_is_one_event(readers_ds, recorder, path, actor, org_id, reason):
    query = f"?org_id={org_id}" if org_id else ""
    response = await readers_ds.client.get(path + query, actor=actor)
    assert response.status_code == 403
    event = await recorder.one("seller-access-denied")
    assert event.actor == actor
    assert event.properties() == {"path": path, "org_id": org_id, "reason": reason}
    assert len(recorder.events) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "actor, query, reason",
    [
        ({"id": "mallory"}, "", "may not view the table"),
        (MEMBER, "?org_id=org-b", "not a member of the organisation"),
    ],
)
async def test_the_renderers_refusals_are_events_too(
    make_datasette, sellers_db, recorder, actor, query, reason
):
    config = {
        "permissions": READERS,
        "databases": {"sellers": {"permissions": {"view-table": {"id": "alice"}}}},
    }
    ds = await make_datasette(sellers_db, config=config, plugin_config={"protect_raw_table": False})
    response = await ds.client.get(f"/sellers/sellers.sellers_csv{query}", actor=actor)
    assert response.status_code == 403
    event = await recorder.one("seller-access-denied")
    assert (event.path, event.reason) == ("/sellers/sellers.sellers_csv", reason)


@pytest.mark.asyncio
async def test_a_failing_recorder_is_logged_and_the_answer_is_whole(ds, recorder, caplog):
    recorder.failing = True
    with caplog.at_level(logging.ERROR, logger="datasette_seller_export"):
        response = await ds.client.get("/export/sellers/csv?org_id=org-a", actor=ROOT)
        page = await ds.client.get("/-/sellers.json?org_id=org-a", actor=ROOT)
        refused = await ds.client.get("/-/sellers.json?org_id=org-a")
        await recorder.settled()
    assert (response.status_code, page.status_code, refused.status_code) == (200, 200, 403)
    assert len(response.text.splitlines()) > 250  # the header, and rows some with newlines
    failures = [r for r in caplog.records if "failed to record" in r.getMessage()]
    assert [r.getMessage() for r in failures] == [
        "a plugin failed to record the seller-export event",
        "a plugin failed to record the seller-page event",
        "a plugin failed to record the seller-access-denied event",
    ]


@pytest.mark.asyncio
async def test_a_slow_recorder_does_not_hold_the_answer(ds):
    release = asyncio.Event()

    class SlowRecorder:
        @hookimpl
        def track_event(self, datasette, event):
            return release.wait()  # awaited by Datasette: holds whatever awaits it

    pm.register(SlowRecorder(), name="test-slow-recorder")
    try:
        for _ in range(3):
            response = await asyncio.wait_for(
                ds.client.get("/-/sellers.json?org_id=org-a&_size=1", actor=ROOT), 10
            )
            assert response.status_code == 200
    finally:
        release.set()
        pm.unregister(name="test-slow-recorder")
