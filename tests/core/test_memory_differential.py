"""The embedded engine against plain mongomock-ng, on random work (Hypothesis).

Random documents go through random inserts, updates, replacements, deletes, index changes and
reads (filters, sorts, projections, skip and limit), some of them inside transactions that
commit or abort, once through the facade (fast paths on, then off: MemoryClient's switch)
and once straight through mongomock-ng (its own walks, no facade). Every answer, every error
and, after every step, the whole collection in stored order must be the same.

The examples are derived from a fixed seed (the suite stays deterministic); set
MEMORY_DIFFERENTIAL_EXAMPLES=5000 (say) to explore that many random ones instead.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

import mongomock_ng
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, IndexModel, ReturnDocument

from app.core.memory import MemoryClient, query
from app.core.memory.mongomock_edge import own_walks

IDS = list(range(10))
WORDS = ["a", "b", "c"]
OIDS = [ObjectId(f"{n:024x}") for n in range(1, 4)]
ATS = [datetime(2026, 1, day, 12, 0, 0, 123_456, tzinfo=UTC) for day in (1, 2, 3)]
UNIQUE = [("u", ASCENDING)]

_EXPLORE = int(os.environ.get("MEMORY_DIFFERENTIAL_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_EXPLORE or 300,
    derandomize=not _EXPLORE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- what the work is made of

anything = st.one_of(
    st.integers(-2, 3),
    st.sampled_from(WORDS),
    st.none(),
    st.booleans(),
    st.sampled_from([0.5, 2.0]),
    st.lists(st.sampled_from(WORDS), max_size=3),
)
documents = st.fixed_dictionaries(
    {"_id": st.sampled_from(IDS)},
    optional={
        "a": anything,
        "b": st.sampled_from(WORDS),
        "c": st.sampled_from(OIDS),
        "n": st.integers(0, 5),
        "tags": st.lists(st.sampled_from(WORDS), max_size=3),
        "u": st.sampled_from(["u1", "u2", "u3"]),
        "at": st.sampled_from(ATS),
    },
)
conditions = st.one_of(
    st.builds(lambda v: {"a": v}, anything),
    st.builds(lambda v: {"b": v}, st.sampled_from(WORDS)),
    st.builds(lambda v: {"c": v}, st.sampled_from(OIDS)),
    st.builds(lambda v: {"tags": v}, st.sampled_from(WORDS)),
    st.builds(lambda v: {"u": v}, st.sampled_from(["u1", "u2"])),
    st.builds(lambda v: {"_id": v}, st.sampled_from(IDS)),
    st.builds(lambda v: {"_id": {"$eq": v}}, st.sampled_from(IDS)),
    st.builds(lambda v: {"_id": {"$in": v}}, st.lists(st.sampled_from(IDS), max_size=3)),
    st.builds(lambda v: {"b": {"$in": v}}, st.lists(st.sampled_from(WORDS), max_size=2)),
    st.builds(lambda v: {"c": {"$in": v}}, st.lists(st.sampled_from(OIDS), max_size=2)),
    st.builds(lambda v: {"b": {"$ne": v}}, st.sampled_from(WORDS)),
    st.builds(lambda op, v: {"n": {op: v}}, st.sampled_from(["$gt", "$lte"]), st.integers(0, 5)),
    st.builds(lambda v: {"a": {"$exists": v}}, st.booleans()),
    st.builds(lambda v: {"at": {"$lt": v}}, st.sampled_from(ATS)),
)
filters = st.one_of(
    st.just({}),
    conditions,
    st.builds(lambda x, y: {**x, **y}, conditions, conditions),
    st.builds(lambda branches: {"$or": branches}, st.lists(conditions, min_size=1, max_size=3)),
)
sorts = st.one_of(
    st.none(),
    st.lists(
        st.tuples(
            st.sampled_from(["n", "a", "b", "_id", "at", "c", "tags"]), st.sampled_from([1, -1])
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda key: key[0],
    ),
)
projections = st.sampled_from(
    [None, {"b": 1}, {"n": 0}, {"_id": 0, "b": 1, "n": 1}, ["b", "a"], {"tags": 1, "_id": 0}]
)
updates = st.one_of(
    st.builds(lambda v: {"$set": {"n": v}}, st.integers(0, 5)),
    st.builds(lambda v: {"$inc": {"n": v}}, st.integers(-1, 2)),
    st.builds(lambda v: {"$set": {"b": v}}, st.sampled_from(WORDS)),
    st.just({"$unset": {"b": ""}}),
    st.builds(lambda v: {"$push": {"tags": v}}, st.sampled_from(WORDS)),
    st.builds(lambda v: {"$pull": {"tags": v}}, st.sampled_from(WORDS)),
    st.builds(lambda v: {"$set": {"c": v}}, st.sampled_from(OIDS)),
    st.builds(lambda v: {"$set": {"u": v}}, st.sampled_from(["u1", "u2", "u3"])),
    st.builds(lambda v: {"$set": {"a": v}}, anything),
)
reads = st.one_of(
    st.tuples(st.just("find"), filters, projections, sorts, st.integers(0, 3), st.integers(0, 4)),
    st.tuples(st.just("find_one"), filters, projections),
    st.tuples(st.just("count"), filters),
)
writes = st.one_of(
    st.tuples(st.just("insert_one"), documents),
    st.tuples(st.just("insert_many"), st.lists(documents, min_size=1, max_size=3)),
    st.tuples(st.just("update_one"), filters, updates),
    st.tuples(st.just("update_many"), filters, updates),
    st.tuples(st.just("replace_one"), filters, documents.map(lambda d: {**d, "_id": None})),
    st.tuples(st.just("delete_one"), filters),
    st.tuples(st.just("delete_many"), filters),
    st.tuples(st.just("find_one_and_update"), filters, updates, sorts, st.booleans()),
    st.tuples(st.just("index"), st.sampled_from(["create", "drop"])),
)
# Reads back to back, nothing changing between them: remembered results answer the later ones.
batches = st.tuples(st.just("batch"), st.lists(reads, min_size=2, max_size=5))
transactions = st.tuples(
    st.just("transaction"),
    st.lists(st.one_of(writes, reads), min_size=1, max_size=5),
    st.booleans(),
)
steps = st.one_of(reads, writes, transactions, transactions, batches)
work = st.tuples(
    st.lists(documents, min_size=2, max_size=8, unique_by=lambda document: document["_id"]),
    st.lists(steps, min_size=1, max_size=12),
)


# -- running a step on either side


def _call(name: str, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """The collection method, positional and keyword arguments of a step."""
    if name == "find":
        spec, projection, sort, skip, limit = args
        return "find", (spec, projection), {"sort": sort, "skip": skip, "limit": limit}
    if name == "find_one":
        return "find_one", args, {}
    if name == "count":
        return "count_documents", args, {}
    if name == "replace_one":
        spec, document = args
        return "replace_one", (spec, {k: v for k, v in document.items() if k != "_id"}), {}
    if name == "insert_one":
        return "insert_one", (dict(args[0]),), {}
    if name == "insert_many":
        return "insert_many", ([dict(d) for d in args[0]],), {}
    if name == "find_one_and_update":
        spec, update, sort, after = args
        returned = ReturnDocument.AFTER if after else ReturnDocument.BEFORE
        return name, (spec, update), {"sort": sort, "return_document": returned}
    return name, args, {}


def _outcome(result: Any) -> Any:
    """A result as comparable data."""
    for fields in (
        ("inserted_id",),
        ("inserted_ids",),
        ("matched_count", "modified_count", "upserted_id"),
        ("deleted_count",),
    ):
        if all(hasattr(result, field) for field in fields):
            return tuple(getattr(result, field) for field in fields)
    return result


def _error(error: Exception) -> tuple[str, str]:
    return ("error", type(error).__name__)


def run_plain(collection: Any, step: tuple[Any, ...], session: Any = None) -> Any:
    name, *args = step
    if name == "transaction":
        ops, commit = args
        with collection.database.client.start_session() as own:
            own.start_transaction()
            outcomes = [run_plain(collection, op, own) for op in ops]
            own.commit_transaction() if commit else own.abort_transaction()
        return outcomes
    if name == "index":
        return _index_plain(collection, args[0], session)
    if name == "batch":
        return [run_plain(collection, read, session) for read in args[0]]
    method, positional, keywords = _call(name, tuple(args))
    if session is not None and method != "count_documents":  # it refuses a session
        keywords["session"] = session
    try:
        with own_walks():
            found = getattr(collection, method)(*positional, **keywords)
            return list(found) if method == "find" else _outcome(found)
    except Exception as error:  # compared with the facade's
        return _error(error)


def _index_plain(collection: Any, change: str, session: Any) -> Any:
    keywords = {} if session is None else {"session": session}
    try:
        with own_walks():
            if change == "create":
                return collection.create_indexes(
                    [IndexModel(UNIQUE, unique=True, sparse=True)], **keywords
                )
            return collection.drop_index("u_1", **keywords)
    except Exception as error:
        return _error(error)


async def run_facade(collection: Any, step: tuple[Any, ...], session: Any = None) -> Any:
    name, *args = step
    if name == "transaction":
        ops, commit = args
        async with collection.database.client.start_session() as own:
            await own.start_transaction()
            outcomes = [await run_facade(collection, op, own) for op in ops]
            await (own.commit_transaction() if commit else own.abort_transaction())
        return outcomes
    if name == "batch":
        return [await run_facade(collection, read, session) for read in args[0]]
    keywords: dict[str, Any] = {} if session is None else {"session": session}
    try:
        if name == "index":
            if args[0] == "create":
                return await collection.create_indexes(
                    [IndexModel(UNIQUE, unique=True, sparse=True)], **keywords
                )
            return await collection.drop_index("u_1", **keywords)
        method, positional, extra = _call(name, tuple(args))
        call = getattr(collection, method)
        if method == "find":
            return await call(*positional, **extra, **keywords).to_list()
        return _outcome(await call(*positional, **extra, **keywords))
    except Exception as error:
        return _error(error)


async def _facade_run(fast_paths: bool, initial: list[dict], plan: list[tuple]) -> list[Any]:
    collection = MemoryClient(fast_paths=fast_paths)["test"]["things"]
    seen = [await run_facade(collection, ("index", "create"))]
    await collection.create_indexes([IndexModel([("b", ASCENDING)])])
    seen.append(await run_facade(collection, ("insert_many", initial)) if initial else None)
    for step in plan:
        seen.append(await run_facade(collection, step))
        seen.append(await collection.find({}).to_list())
    return seen


def _plain_run(initial: list[dict], plan: list[tuple]) -> list[Any]:
    collection = mongomock_ng.MongoClient(tz_aware=True)["test"]["things"]
    seen = [run_plain(collection, ("index", "create"))]
    collection.create_indexes([IndexModel([("b", ASCENDING)])])
    seen.append(run_plain(collection, ("insert_many", initial)) if initial else None)
    for step in plan:
        seen.append(run_plain(collection, step))
        with own_walks():
            seen.append(list(collection.find({})))
    return seen


@pytest.mark.parametrize(
    ("fast_paths", "few"),
    [(True, query.FEW), (True, 1), (False, query.FEW)],
    # FEW=1: every narrowed result is remembered, and lookups that are hardly fewer than all
    # the documents fall back to a scan, as on a large collection.
    ids=["fast paths on", "fast paths on, as on a large collection", "fast paths off"],
)
@SETTINGS
@given(work=work)
def test_the_facade_answers_as_plain_mongomock_ng(fast_paths, few, work):
    initial, plan = work
    expected = _plain_run(initial, plan)
    default, query.FEW = query.FEW, few
    try:
        found = asyncio.run(_facade_run(fast_paths, initial, plan))
    finally:
        query.FEW = default
    for n, (mine, theirs) in enumerate(zip(found, expected, strict=True)):
        step = "setup" if n < 2 else plan[(n - 2) // 2]
        assert mine == theirs, f"after {step!r}"
