"""The embedded engine's read path gives mongomock-ng's own answers, without its copying.

Every query below runs twice: through the facade (filter and sort in place, copy only the
page, remember results until the collection changes) and through mongomock-ng's own cursor
(which copies every match); the answers must be identical. Then: results follow every kind
of change (update, delete, insert, a failed update, an aborted transaction).
"""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from mongomock_ng import collection as mongomock_collection
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from app.core.memory import MemoryClient, walks
from app.core.memory.collection import FastCollection

BASE = datetime(2026, 1, 1, tzinfo=UTC)
OIDS = [ObjectId() for _ in range(3)]


def _documents() -> list[dict]:
    rows = []
    for n in range(60):
        row = {
            "_id": n,
            "n": n,
            "name": f"item {n:02d}",
            "status": "active" if n % 5 else "archived",
            "price": (n * 37) % 100,
            "tags": ["red", "blue"][: n % 3],
            "rating": {"average": (n % 7) / 2, "count": n},
            "when": BASE + timedelta(hours=n % 11),
            "ref": OIDS[n % 3],
        }
        if n % 4 == 0:
            del row["price"]  # missing sort key: sorts first, as null
        if n % 9 == 0:
            row["price"] = "n/a"  # mixed types: BSON order, not Python's
        rows.append(row)
    return rows


QUERIES = [
    ({}, None, None, 0, 0),
    ({"status": "active"}, None, [("n", -1)], 0, 20),
    ({"status": "active"}, {"name": 1, "price": 1}, [("price", 1), ("_id", 1)], 5, 10),
    ({"status": "active"}, {"_id": 0, "name": 1}, [("when", -1), ("_id", -1)], 0, 7),
    ({"price": {"$gte": 20, "$lt": 70}}, {"tags": 0}, [("price", -1), ("n", 1)], 2, 0),
    ({"tags": "blue"}, ["name"], [("rating.average", -1), ("_id", -1)], 0, 5),
    ({"ref": OIDS[1]}, {"_id": 1}, [("name", 1)], 0, 0),
    ({"ref": {"$in": OIDS[:2]}, "status": "active"}, {"_id": 0}, [("ref", 1), ("n", 1)], 3, 4),
    ({"$or": [{"name": {"$regex": "item 1"}}, {"n": 59}]}, None, [("n", 1)], 0, 0),
    ({"when": {"$gt": BASE + timedelta(hours=5)}}, {"when": 1}, [("when", 1), ("n", 1)], 0, 0),
    ({"rating.count": {"$lte": 10}}, {"rating.average": 1}, None, 0, 3),
    ({"_id": 7}, None, None, 0, 0),
    ({"_id": 7, "status": "archived"}, None, None, 0, 0),
    ({"_id": "7"}, None, None, 0, 0),
    ({"_id": {"$in": [9, 3, 41, 1000]}}, {"n": 1}, None, 0, 0),
    ({"_id": {"$in": [9, 3, 41]}, "status": "active"}, None, [("n", -1)], 0, 0),
    ({"_id": {"$in": [2, "2", True]}}, None, None, 0, 0),
    ({"missing": None}, {"n": 1}, [("n", -1)], 55, 0),
    ({"status": "active"}, None, [("tags", 1), ("n", 1)], 0, 0),
    ({"name": "item 05"}, None, None, 0, 0),
    ({"name": "nothing"}, None, None, 0, 0),
    ({"status": "active", "name": "item 07"}, {"n": 1}, None, 0, 0),
    ({"tags": "blue", "status": "active"}, None, [("n", -1)], 1, 3),
    ({"tags": "red"}, None, None, 0, 0),
    ({"name": {"$in": ["item 41", "item 03", "none"]}}, None, None, 0, 0),
    ({"name": {"$eq": "item 08"}, "ref": OIDS[2]}, None, None, 0, 0),
    ({"tags": {"$in": ["blue", "green"]}, "ref": {"$in": [OIDS[0]]}}, {"n": 1}, None, 0, 0),
    (
        {"$or": [{"_id": 4}, {"name": "item 09"}, {"ref": OIDS[1], "n": {"$lt": 9}}]},
        None,
        None,
        0,
        0,
    ),
    ({"$or": [{"_id": 4}, {"n": {"$gt": 57}}]}, None, None, 0, 0),
    ({"$or": [{"_id": 4}, {"name": "item 09"}], "status": "archived"}, None, None, 0, 0),
    ({"ref": OIDS[0], "status": {"$in": ["active"]}}, None, [("n", -1)], 0, 0),
]


@pytest.fixture
async def coll():
    collection = MemoryClient()["test"]["things"]
    await collection.insert_many(_documents())
    return collection


def _mongomock(collection, spec, projection, sort, skip, limit) -> list[dict]:
    """mongomock-ng's own answer: its collection class, not the engine's (which looks
    documents up in its maps)."""
    inner = collection._inner
    inner.__class__ = mongomock_collection.Collection
    try:
        return list(inner.find(spec, projection, sort=sort, skip=skip, limit=limit))
    finally:
        inner.__class__ = FastCollection


@pytest.mark.parametrize(("spec", "projection", "sort", "skip", "limit"), QUERIES)
async def test_find_gives_mongomock_ngs_answer(coll, spec, projection, sort, skip, limit):
    expected = _mongomock(coll, spec, projection, sort, skip, limit)
    for _ in range(2):  # computed, then remembered
        found = await coll.find(spec, projection, sort=sort, skip=skip, limit=limit).to_list()
        assert found == expected  # (fields in stored order, as a server gives them)
        assert await coll.count_documents(spec) == coll._inner.count_documents(spec)
    if expected:
        assert await coll.find_one(spec, projection, sort=sort, skip=skip) == expected[0]


async def test_chained_cursor_modifiers(coll):
    chained = await coll.find({"status": "active"}).sort("n", -1).skip(3).limit(4).to_list()
    assert [doc["n"] for doc in chained] == [56, 54, 53, 52]


async def test_returned_documents_are_copies(coll):
    found = await coll.find_one({"_id": 3})
    found["rating"]["count"] = 999
    found["tags"].append("green")
    again = await coll.find_one({"_id": 3})
    assert again["rating"]["count"] == 3 and again["tags"] == []


async def test_only_the_page_is_copied(coll, monkeypatch):
    copied = []
    real_copy = walks.copy_value

    def counting_copy(value, tz_aware):
        copied.append(value)
        return real_copy(value, tz_aware)

    monkeypatch.setattr(walks, "copy_value", counting_copy)
    page = await coll.find({"status": "active"}, {"name": 1}, sort=[("n", 1)], limit=5).to_list()
    # Five documents (their name and _id, copied whole); 48 matched.
    assert len(page) == 5 and len(copied) == 5
    assert all(set(value) == {"name", "_id"} for value in copied)


async def test_unknown_operators_and_text_still_raise_even_when_empty():
    empty = MemoryClient()["test"]["empty"]
    with pytest.raises(NotImplementedError):
        await empty.find_one({"$text": {"$search": "x"}})


async def test_results_follow_updates_deletes_and_inserts(coll):
    spec, sort = {"status": "active"}, [("rating.count", -1), ("_id", 1)]
    first = await coll.find(spec, sort=sort, limit=1).to_list()
    await coll.update_one({"_id": 1}, {"$set": {"rating.count": 1000}})
    assert (await coll.find(spec, sort=sort, limit=1).to_list())[0]["_id"] == 1
    await coll.delete_one({"_id": 1})
    assert await coll.find(spec, sort=sort, limit=1).to_list() == first
    await coll.insert_one({"_id": 100, "status": "active", "rating": {"count": 2000}})
    assert (await coll.find(spec, sort=sort, limit=1).to_list())[0]["_id"] == 100
    assert await coll.count_documents(spec) == 48 - 1 + 1


async def test_lookups_by_value_follow_changes(coll):
    assert await coll.count_documents({"name": "item 05"}) == 1
    await coll.update_one({"_id": 5}, {"$set": {"name": "renamed"}})
    assert await coll.count_documents({"name": "item 05"}) == 0
    assert (await coll.find_one({"name": "renamed"}))["_id"] == 5
    await coll.update_one({"_id": 6}, {"$set": {"name": ["renamed", "x"]}})
    assert await coll.count_documents({"name": "renamed"}) == 2


async def test_results_follow_a_failed_update(coll):
    await coll.create_indexes([IndexModel([("name", ASCENDING)], unique=True)])
    assert await coll.count_documents({"name": "item 02"}) == 1
    with pytest.raises(DuplicateKeyError):
        await coll.update_one({"_id": 3}, {"$set": {"name": "item 02"}})
    assert await coll.count_documents({"name": "item 02"}) == 1
    assert (await coll.find_one({"_id": 3}))["name"] == "item 03"


async def test_results_follow_an_aborted_transaction():
    client = MemoryClient()
    coll = client["test"]["things"]
    await coll.insert_many(_documents())
    assert await coll.count_documents({"status": "gone"}) == 0
    async with client.start_session() as session:
        await session.start_transaction()
        await coll.update_many({}, {"$set": {"status": "gone"}}, session=session)
        assert await coll.count_documents({"status": "gone"}, session=session) == 60
        await session.abort_transaction()
    assert await coll.count_documents({"status": "gone"}) == 0
    assert await coll.count_documents({"status": "active"}) == 48


async def test_bulk_load_checks_unique_indexes_in_one_pass():
    coll = MemoryClient()["test"]["things"]
    await coll.create_indexes([IndexModel([("slug", ASCENDING)], unique=True)])
    await coll.insert_one({"slug": "a"})
    with pytest.raises(DuplicateKeyError):
        await coll.bulk_load([{"slug": "b"}, {"slug": "a"}])
    with pytest.raises(DuplicateKeyError):
        await coll.bulk_load([{"slug": "c"}, {"slug": "c"}])
    assert await coll.count_documents({}) == 1
    await coll.bulk_load([{"slug": "b", "when": BASE}, {"slug": "c"}])
    assert [d["slug"] for d in await coll.find({}, sort=[("slug", 1)]).to_list()] == list("abc")
    assert (await coll.find_one({"slug": "b"}))["when"] == BASE


async def _same_as_mongomock(coll, specs) -> None:
    for spec in specs:
        expected = _mongomock(coll, spec, None, None, 0, 0)
        assert await coll.find(spec).to_list() == expected, spec


async def test_writes_through_the_maps_change_what_mongomock_ng_would(coll):
    lookups = [
        {"ref": OIDS[0]},
        {"ref": OIDS[1]},
        {"name": {"$in": ["item 03", "item 04", "moved"]}},
        {"_id": {"$in": [40, 3, 4, 59]}},
        {"$or": [{"_id": 7}, {"name": "moved"}]},
        {"tags": "blue"},
    ]
    await _same_as_mongomock(coll, lookups)  # the maps are built
    changed = await coll.update_many({"ref": OIDS[0]}, {"$set": {"ref": OIDS[1]}})
    assert changed.modified_count == 20
    await coll.update_one({"name": "item 03"}, {"$set": {"name": "moved", "tags": ["blue"]}})
    await coll.delete_many({"name": {"$in": ["item 04", "item 05"]}})
    await coll.insert_one({"_id": 4, "name": "item 04", "ref": OIDS[0]})  # back, at the end
    assert [d["_id"] for d in await coll.find({"_id": {"$in": [59, 4, 3]}}).to_list()] == [
        3,
        59,
        4,
    ]
    await _same_as_mongomock(coll, lookups)


async def test_maps_follow_an_aborted_transaction_and_a_failed_write():
    client = MemoryClient()
    coll = client["test"]["things"]
    await coll.insert_many(_documents())
    lookups = [{"ref": OIDS[2]}, {"name": "item 10"}, {"_id": {"$in": [10, 11, 12]}}]
    await _same_as_mongomock(coll, lookups)
    before = await coll.find({}).to_list()
    async with client.start_session() as session:
        await session.start_transaction()
        await coll.update_many({"ref": OIDS[2]}, {"$set": {"ref": OIDS[0]}}, session=session)
        await coll.delete_one({"name": "item 10"}, session=session)
        await coll.insert_one({"_id": 500, "name": "item 10"}, session=session)
        await session.abort_transaction()
    assert await coll.find({}).to_list() == before  # item 10 back in its place
    await _same_as_mongomock(coll, lookups)
    # `$inc` on a string fails after changing the document in place: nothing may go stale.
    with pytest.raises(Exception):  # noqa: B017 (mongomock-ng's own error)
        await coll.update_one({"_id": 11}, {"$set": {"ref": OIDS[0]}, "$inc": {"name": 1}})
    await _same_as_mongomock(coll, lookups)
