"""The embedded engine's async facade, tested directly (no app).

Semantics found and relied on (see app/core/memory.py):
- one transaction runs at a time; a second `start_transaction()` waits until the first ends;
- operations outside the transaction wait for it, so they never see uncommitted writes;
- inside a transaction, an operation without `session=` from the same task raises
  TransactionMisuse instead of deadlocking.
"""

import asyncio

import pytest
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.memory import MemoryClient, TransactionMisuse


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
