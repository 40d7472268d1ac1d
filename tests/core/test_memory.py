"""The embedded engine's async facade, tested directly (no app).

Semantics found and relied on (see app/core/memory/):
- one transaction runs at a time; a second `start_transaction()` waits until the first ends;
- operations outside the transaction wait for it, so they never see uncommitted writes;
- inside a transaction, an operation without `session=` from the same task raises
  TransactionMisuse instead of deadlocking.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import bson.errors
import mongomock_ng
import mongomock_ng.codec_options
import pytest
from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError, ExecutionTimeout

from app.core.memory import (
    MemoryClient,
    TransactionMisuse,
    TransactionWaitTimeout,
    gate,
    mongomock_edge,
    walks,
)
from tests.touched import touched


@pytest.fixture
def coll():
    return MemoryClient()["test"]["things"]


async def test_crud(coll):
    inserted = await coll.insert_one({"name": "a", "qty": 1})
    assert inserted.inserted_id is not None
    assert (await coll.find_one({"_id": inserted.inserted_id}))["name"] == "a"
    updated = await coll.update_one({"name": "a"}, {"$set": {"qty": 2}})
    assert updated.modified_count == 1
    assert (await coll.find_one({"name": "a"}))["qty"] == 2
    deleted = await coll.delete_one({"name": "a"})
    assert deleted.deleted_count == 1
    assert await coll.find_one({"name": "a"}) is None


async def test_find_sort_skip_limit_and_count(coll):
    await coll.insert_many([{"n": n, "even": n % 2 == 0} for n in range(10)])
    page = await coll.find({"even": True}, sort=[("n", -1)], skip=1, limit=2).to_list()
    assert [d["n"] for d in page] == [6, 4]
    chained = await coll.find({}).sort("n", ASCENDING).skip(8).limit(5).to_list()
    assert [d["n"] for d in chained] == [8, 9]
    assert await coll.count_documents({"even": False}) == 5
    streamed = [d["n"] async for d in coll.find({"n": {"$lt": 3}}, sort=[("n", 1)])]
    assert streamed == [0, 1, 2]


async def test_aggregate(coll):
    await coll.insert_many([{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 5}])
    cursor = await coll.aggregate(
        [{"$group": {"_id": "$k", "total": {"$sum": "$v"}}}, {"$sort": {"_id": 1}}]
    )
    assert await cursor.to_list() == [{"_id": "a", "total": 3}, {"_id": "b", "total": 5}]


async def test_unique_index_raises_pymongos_duplicate_key_error(coll):
    await coll.create_indexes([IndexModel([("email", ASCENDING)], unique=True)])
    await coll.insert_one({"email": "a@b.c"})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"email": "a@b.c"})


async def test_guarded_inc_never_goes_below_zero(coll):
    await coll.insert_one({"_id": 1, "stock": 3})
    guard = {"_id": 1, "stock": {"$gte": 2}}
    first = await coll.update_one(guard, {"$inc": {"stock": -2}})
    second = await coll.update_one(guard, {"$inc": {"stock": -2}})
    assert (first.modified_count, second.modified_count) == (1, 0)
    assert (await coll.find_one({"_id": 1}))["stock"] == 1


async def test_find_one_and_update_returns_the_new_document(coll):
    await coll.insert_one({"_id": 1, "n": 1})
    after = await coll.find_one_and_update(
        {"_id": 1}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
    )
    assert after["n"] == 2


async def test_commit_keeps_writes():
    client = MemoryClient()
    coll = client["test"]["things"]
    async with client.start_session() as session:
        async with await session.start_transaction():
            await coll.insert_one({"_id": 1}, session=session)
            await coll.insert_one({"_id": 2}, session=session)
    assert await coll.count_documents({}) == 2


async def test_abort_rolls_back_every_collection():
    client = MemoryClient()
    stock, orders = client["test"]["stock"], client["test"]["orders"]
    await stock.insert_one({"_id": 1, "qty": 5})
    with pytest.raises(RuntimeError):
        async with client.start_session() as session:
            async with await session.start_transaction():
                await stock.update_one({"_id": 1}, {"$inc": {"qty": -5}}, session=session)
                await orders.insert_one({"_id": "o1"}, session=session)
                raise RuntimeError("payment step failed")
    assert (await stock.find_one({"_id": 1}))["qty"] == 5
    assert await orders.count_documents({}) == 0


async def test_explicit_abort_and_commit_calls():
    client = MemoryClient()
    coll = client["test"]["things"]
    session = client.start_session()
    await session.start_transaction()
    await coll.insert_one({"_id": 1}, session=session)
    await session.abort_transaction()
    await session.start_transaction()
    await coll.insert_one({"_id": 2}, session=session)
    await session.commit_transaction()
    await session.end_session()
    assert [d["_id"] for d in await coll.find({}).to_list()] == [2]


async def test_forgetting_session_inside_a_transaction_fails_loudly():
    client = MemoryClient()
    coll = client["test"]["things"]
    async with client.start_session() as session:
        with pytest.raises(TransactionMisuse):
            async with await session.start_transaction():
                await coll.insert_one({"_id": 1}, session=session)
                await coll.insert_one({"_id": 2})  # no session=
    assert await coll.count_documents({}) == 0, "the failed transaction rolled back"


async def test_interleaved_transactions_are_serialised_and_both_commit():
    client = MemoryClient()
    coll = client["test"]["counter"]
    await coll.insert_one({"_id": 1, "n": 0})
    order: list[str] = []

    async def worker(name: str, fail: bool) -> None:
        async with client.start_session() as session:
            try:
                async with await session.start_transaction():
                    order.append(f"{name}:start")
                    doc = await coll.find_one({"_id": 1}, session=session)
                    await asyncio.sleep(0.01)  # let the other task try to interleave
                    await coll.update_one(
                        {"_id": 1}, {"$set": {"n": doc["n"] + 1}}, session=session
                    )
                    order.append(f"{name}:end")
                    if fail:
                        raise RuntimeError("abort")
            except RuntimeError:
                pass

    await asyncio.gather(worker("a", False), worker("b", True), worker("c", False))
    # No transaction started while another was open ...
    assert order == ["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]
    # ... so b's abort did not wipe a's committed write, and no increment was lost.
    assert (await coll.find_one({"_id": 1}))["n"] == 2


async def test_reads_outside_a_transaction_never_see_uncommitted_writes():
    client = MemoryClient()
    coll = client["test"]["things"]
    seen: list[int] = []
    inside = asyncio.Event()

    async def writer() -> None:
        async with client.start_session() as session:
            async with await session.start_transaction():
                await coll.insert_one({"_id": 1}, session=session)
                inside.set()
                await asyncio.sleep(0.02)
                await session.abort_transaction()

    async def reader() -> None:
        await inside.wait()
        seen.append(await coll.count_documents({}))

    await asyncio.gather(writer(), reader())
    assert seen == [0]


async def test_beanie_facing_surface():
    client = MemoryClient()
    database = client["shop"]
    assert callable(client.append_metadata)
    assert "version" in await database.command({"buildInfo": 1})
    await database["a"].insert_one({})
    assert "a" in await database.list_collection_names(authorizedCollections=True, nameOnly=True)
    assert (await database.command("ping"))["ok"] == 1


async def test_a_write_by_id_looks_at_that_document_only(monkeypatch):
    client = MemoryClient()
    stock = client["test"]["stock"]
    await stock.insert_many([{"_id": i, "qty": 5} for i in range(500)])
    evaluated = []
    real = mongomock_edge.filtering.filter_applies

    def spy(filter, document, *args, **kwargs):
        evaluated.append(document.get("_id"))
        return real(filter, document, *args, **kwargs)

    # mongomock-ng's collection module holds its own name for it.
    monkeypatch.setattr(mongomock_edge.filtering, "filter_applies", spy)
    monkeypatch.setattr(mongomock_edge.mongomock_collection, "filter_applies", spy)
    changed = await stock.find_one_and_update(
        {"_id": 7, "qty": {"$gte": 2}},
        {"$inc": {"qty": -2}},
        return_document=ReturnDocument.AFTER,
    )
    assert changed["qty"] == 3
    refused = await stock.update_one({"_id": 8, "qty": {"$gte": 9}}, {"$inc": {"qty": -9}})
    assert refused.matched_count == 0
    assert set(evaluated) <= {7, 8}


async def test_a_transaction_saves_only_what_it_changes_and_restores_it_in_order(monkeypatch):
    client = MemoryClient()
    stock = client["test"]["stock"]
    await stock.insert_many([{"_id": i, "qty": 5, "tags": ["a"]} for i in range(300)])
    copies = []
    real_copy = walks.copy_value
    monkeypatch.setattr(walks, "copy_value", lambda v, tz: copies.append(1) or real_copy(v, tz))
    with pytest.raises(RuntimeError):
        async with client.start_session() as session:
            async with await session.start_transaction():
                await stock.update_one({"_id": 3}, {"$push": {"tags": "b"}}, session=session)
                await stock.update_many({"qty": {"$gt": 100}}, {"$set": {"x": 1}}, session=session)
                await stock.delete_one({"_id": 10}, session=session)
                await stock.insert_one({"_id": 1000, "qty": 1}, session=session)
                raise RuntimeError("roll back")
    assert len(copies) < 30  # what it changed (and returned), not the 300 documents
    monkeypatch.setattr(walks, "copy_value", real_copy)
    after = await stock.find({}).to_list()
    assert [d["_id"] for d in after] == list(range(300))  # the deleted one back in its place
    assert after[3]["tags"] == ["a"] and "x" not in after[3]


async def test_unique_indexes_stay_exact_through_updates_deletes_and_aborts(monkeypatch):
    client = MemoryClient()
    items = client["test"]["items"]
    await items.create_indexes([IndexModel([("slug", ASCENDING)], unique=True)])
    await items.insert_many([{"_id": i, "slug": f"s{i}"} for i in range(200)])
    computed = []
    real = mongomock_edge.mongomock_collection.Collection._compute_index_entries
    monkeypatch.setattr(
        mongomock_edge.mongomock_collection.Collection,
        "_compute_index_entries",
        staticmethod(lambda *a: computed.append(1) or real(*a)),
    )
    with pytest.raises(DuplicateKeyError):
        await items.insert_one({"_id": 500, "slug": "s3"})
    with pytest.raises(DuplicateKeyError):
        await items.update_one({"_id": 1}, {"$set": {"slug": "s2"}})
    assert (await items.find_one({"_id": 1}))["slug"] == "s1"
    assert len(computed) < 20  # looked up, not compared with all 200
    await items.delete_one({"_id": 2})
    await items.update_one({"_id": 1}, {"$set": {"slug": "s2"}})  # free now
    with pytest.raises(RuntimeError):
        async with client.start_session() as session:
            async with await session.start_transaction():
                await items.update_one({"_id": 5}, {"$set": {"slug": "new"}}, session=session)
                raise RuntimeError("roll back")
    await items.insert_one({"_id": 600, "slug": "new"})  # the aborted change freed nothing
    with pytest.raises(DuplicateKeyError):
        await items.insert_one({"_id": 601, "slug": "s5"})  # ...and "s5" is taken again
    await items.insert_one({"_id": 602, "slug": "s1"})  # given up by _id 1 above


async def test_lookups_by_value_and_by_id_batches_read_their_documents_only():
    client = MemoryClient()
    carts = client["test"]["carts"]
    users = [ObjectId() for _ in range(500)]
    await carts.insert_many(
        [{"_id": n, "user_id": u, "slug": f"s{n}"} for n, u in enumerate(users)]
    )
    queries = [
        lambda: carts.find_one({"user_id": users[42]}),
        lambda: carts.find({"_id": {"$in": [400, 7, 9]}}).to_list(),
        lambda: carts.count_documents({"slug": {"$in": ["s1", "s2", "nope"]}}),
        lambda: carts.find_one({"$or": [{"_id": "nope"}, {"slug": "s77"}]}),
        lambda: carts.update_one({"user_id": users[3]}, {"$inc": {"version": 1}}),
    ]
    for query in queries:
        await query()  # the first look at a field builds its map (one pass)
    async with touched(client) as counts:
        found = await queries[0]()
        batch = await queries[1]()
        assert await queries[2]() == 2
        assert (await queries[3]())["_id"] == 77
        assert (await queries[4]()).modified_count == 1
    assert found["_id"] == 42 and [d["_id"] for d in batch] == [7, 9, 400]
    assert counts["carts"] < 20  # what was asked for, not the 500


async def test_expiry_pops_what_is_due_instead_of_testing_every_document(monkeypatch):
    client = MemoryClient()
    sessions = client["test"]["sessions"]
    await sessions.create_indexes([IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)])
    now = datetime.now(UTC)
    await sessions.insert_many(
        [{"_id": n, "expires_at": now + timedelta(hours=1 + n % 3)} for n in range(300)]
    )
    await sessions.find_one({"_id": 1})
    async with touched(client) as counts:
        for n in range(10):
            assert (await sessions.find_one({"_id": n}))["_id"] == n
    assert counts["sessions"] <= 10
    await sessions.update_one({"_id": 0}, {"$set": {"expires_at": now + timedelta(hours=9)}})
    await sessions.update_one({"_id": 2}, {"$set": {"expires_at": now - timedelta(seconds=1)}})
    assert await sessions.find_one({"_id": 2}) is None  # due at once
    later = now + timedelta(hours=2, minutes=30)  # past 1 h and 2 h, before 3 h
    monkeypatch.setattr(mongomock_ng, "utcnow", lambda: later)
    left = await sessions.find({}).to_list()
    assert {d["_id"] % 3 for d in left} == {2} | {0}  # the 3 h ones, and _id 0 moved to 9 h
    assert 0 in {d["_id"] for d in left} and len(left) == 100


async def test_find_one_and_update_copies_the_document_once_for_its_answer(monkeypatch):
    # mongomock-ng's find_one_and_update reads the document with its own find (copy, project,
    # then make datetimes aware: three walks over it), updates it, and reads it again the same
    # way; the facade reads the stored document in place and copies the answer only.
    client = MemoryClient()
    orders = client["test"]["orders"]
    lines = [{"sku": f"s{n}", "qty": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)} for n in range(200)]
    await orders.insert_many([{"_id": n, "status": "new", "lines": lines} for n in range(3)])
    walked = []
    spy_modules = [
        (mongomock_edge.mongomock_collection, "_copy_field"),
        (walks, "copy_value"),
        (mongomock_edge.mongomock_collection, "_clone_document"),
        (mongomock_edge.helpers, "make_datetime_timezone_aware_in_document"),
    ]
    for module, name in spy_modules:
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, _real=real, **k: walked.append(1) or _real(*a, **k)
        )
    before = await orders.find_one_and_update(
        {"_id": 1, "status": "new"}, {"$set": {"status": "paid"}}
    )
    after = await orders.find_one_and_update(
        {"_id": 2}, {"$set": {"status": "paid"}}, return_document=ReturnDocument.AFTER
    )
    assert before["status"] == "new" and after["status"] == "paid"
    assert before["lines"] == lines and after["lines"][0]["at"] == lines[0]["at"]
    assert after["lines"][0]["at"].tzinfo is not None  # as a tz-aware client answers
    after["lines"][0]["qty"] = 99  # a copy: the stored document is not changed
    assert (await orders.find_one({"_id": 2}))["lines"][0]["qty"] == 1
    # Per call: the answer's copy and mongomock-ng's snapshot of the document it updates,
    # one value each (a line and its three fields: about 800 per walk), not four walks more.
    assert len(walked) < 2 * 2 * 900, len(walked)


async def test_a_transaction_keeps_the_indexes_as_they_were_without_deep_copies(monkeypatch):
    client = MemoryClient()
    items = client["test"]["items"]
    await items.create_indexes([IndexModel([("slug", ASCENDING)], unique=True)])
    await items.insert_one({"_id": 1, "slug": "a"})
    deep_copies = []
    real = walks.copy.deepcopy

    def spy(value, *args):
        deep_copies.append(sorted(value) if isinstance(value, dict) else None)  # its keys then
        return real(value, *args)

    monkeypatch.setattr(walks.copy, "deepcopy", spy)
    with pytest.raises(RuntimeError):
        async with client.start_session() as session:
            async with await session.start_transaction():
                await items.update_one({"_id": 1}, {"$set": {"n": 1}}, session=session)
                await items.create_index([("n", ASCENDING)], session=session)
                await items.drop_index("slug_1", session=session)
                raise RuntimeError("roll back")
    # Of the index descriptions (per collection per transaction, it cost more than the rest).
    assert not [keys for keys in deep_copies if keys and "slug_1" in keys]
    assert sorted(await items.index_information()) == ["_id_", "slug_1"]
    with pytest.raises(DuplicateKeyError):
        await items.insert_one({"_id": 2, "slug": "a"})  # the unique index is back


def test_the_faster_walks_answer_as_mongomock_ngs_own():
    from collections import OrderedDict
    from datetime import timezone

    from bson import Timestamp

    aware = datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    samples = [
        1,
        "a",
        None,
        True,
        1.5,
        b"x",
        ObjectId(),
        datetime(2026, 1, 1, 1, 1, 1, 123_456),
        aware,
        {"a": [1, {"b": aware}], "c": (1, 2), "d": OrderedDict(x=aware), "e": {1, 2}},
        [(1,), {"s": [datetime(2026, 5, 1, 0, 0, 0, 1_500)]}],
        OrderedDict(a=datetime(2026, 1, 1, 0, 0, 0, 1_500)),
        Timestamp(5, 1),
    ]
    for value in samples:
        patched, theirs = walks.patched_datetimes(value), mongomock_edge.OWN_PATCH_DATETIMES(value)
        assert patched == theirs and type(patched) is type(theirs), value
        cloned, theirs = walks.cloned(value), mongomock_edge.OWN_CLONE(value)
        assert cloned == theirs and type(cloned) is type(theirs), value
        if isinstance(value, (dict, list)):
            assert cloned is not value
    nested = {"lines": [{"qty": 1}]}
    walks.cloned(nested)["lines"][0]["qty"] = 2
    assert nested == {"lines": [{"qty": 1}]}  # a deep copy
    assert mongomock_edge.helpers.patch_datetime_awareness_in_document is walks.patched_datetimes
    assert mongomock_edge.mongomock_collection._clone_document is walks.cloned


async def test_the_gate_arms_its_timeout_only_to_wait(monkeypatch):
    client = MemoryClient()
    things = client["test"]["things"]
    await things.insert_one({"_id": 1})
    armed = []
    real = asyncio.timeout
    monkeypatch.setattr(gate.asyncio, "timeout", lambda delay: armed.append(delay) or real(delay))
    for _ in range(5):
        await things.find_one({"_id": 1})
        await things.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert armed == []  # the gate was free each time
    monkeypatch.setattr(gate, "GATE_TIMEOUT_SECONDS", 0.05)
    async with client.start_session() as session:
        await session.start_transaction()
        # Another task waits for the transaction, and gives up when it never ends.
        with pytest.raises(TransactionWaitTimeout, match="waited too long") as waited:
            await asyncio.create_task(things.find_one({"_id": 1}))
        # A timeout, handled as the database's (PyMongo's ExecutionTimeout), not a misuse.
        assert isinstance(waited.value, TimeoutError)
        assert isinstance(waited.value, ExecutionTimeout) and waited.value.timeout
        assert not isinstance(waited.value, TransactionMisuse)
        await session.abort_transaction()
    assert armed == [0.05]
    assert (await things.find_one({"_id": 1}))["n"] == 5


async def test_find_one_and_update_returning_the_new_document_copies_no_old_one(monkeypatch):
    # Returning the document after the update, the document before is looked up for its
    # `_id` alone: the stored document is walked twice (mongomock-ng's snapshot of it, the
    # answer's copy), not a third time for a copy of the old one nobody reads.
    client = MemoryClient()
    orders = client["test"]["orders"]
    lines = [{"sku": f"s{n}", "qty": 1} for n in range(300)]
    await orders.insert_one({"_id": 1, "status": "new", "lines": lines})
    walked = []
    for module, name in [
        (walks, "copy_value"),
        (mongomock_edge.mongomock_collection, "_clone_document"),
    ]:
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, _real=real, **k: walked.append(1) or _real(*a, **k)
        )
    after = await orders.find_one_and_update(
        {"_id": 1, "status": "new"},
        {"$set": {"status": "paid"}},
        return_document=ReturnDocument.AFTER,
    )
    assert after["status"] == "paid" and after["lines"] == lines
    # The snapshot is one call (its walk recurses within), the answer's copy ~302 (a call per
    # container): a copy of the old document too would be ~302 more.
    assert len(walked) < 400, len(walked)


async def test_writes_convert_the_codec_options_once(coll, monkeypatch):
    # Every insert and `$set` value is BSON-encoded to check it can be stored (with the
    # collection's codec options, converted to PyMongo's once, not per call); a value BSON
    # cannot store is still refused.
    calls = []
    real = mongomock_ng.codec_options.CodecOptions.to_pymongo
    monkeypatch.setattr(
        mongomock_ng.codec_options.CodecOptions,
        "to_pymongo",
        lambda self: calls.append(1) or real(self),
    )
    for n in range(5):
        await coll.insert_one({"_id": n, "n": n})
        await coll.update_one({"_id": n}, {"$set": {"m": [n]}})
    assert len(calls) <= 1
    with pytest.raises(bson.errors.InvalidDocument):
        await coll.insert_one({"_id": 9, "bad": {1, 2}})
    with pytest.raises(bson.errors.InvalidDocument):
        await coll.update_one({"_id": 1}, {"$set": {"bad": object()}})
    assert await coll.count_documents({"bad": {"$exists": True}}) == 0
