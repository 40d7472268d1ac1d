"""The ledger and low-stock lists are served by declared indexes (explained on a server)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from beanie import PydanticObjectId

from app.catalog.models import Product
from app.core import db
from app.core.pagination import PageQuery
from app.inventory import reads
from app.inventory.models import StockMovement

pytestmark = pytest.mark.usefixtures("app")


async def test_declared_indexes_are_created():
    movements = await StockMovement.get_pymongo_collection().index_information()
    assert {"newest", "product_newest", "reason_newest"} <= set(movements)
    assert movements["product_newest"]["key"] == [("product_id", 1), ("at", -1), ("_id", -1)]
    products = await Product.get_pymongo_collection().index_information()
    assert products["active_low_stock"]["key"] == [
        ("status", 1),
        ("low_stock", 1),
        ("stock", 1),
        ("_id", 1),
    ]


async def _plans(monkeypatch, document, run) -> list[str]:
    """Run `run()`, then explain every find it made on `document`'s collection."""
    collection = document.get_pymongo_collection()
    seen = []
    original_find = collection.find

    def spy(filter, *args, **kwargs):
        seen.append((filter, kwargs.get("sort")))
        return original_find(filter, *args, **kwargs)

    monkeypatch.setattr(collection, "find", spy)
    await run()
    monkeypatch.undo()
    assert seen, "the list query did not run"
    plans = []
    for filter, sort in seen:
        cursor = collection.find(filter, sort=sort)
        plans.append(str((await cursor.explain())["queryPlanner"]["winningPlan"]))
    return plans


SERVER_ONLY = pytest.mark.skipif(
    not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server"
)
MOMENT = datetime(2026, 3, 1, tzinfo=UTC)


@SERVER_ONLY
@pytest.mark.parametrize(
    "filters, index",
    [
        ({}, "newest"),
        ({"product_id": str(PydanticObjectId())}, "product_newest"),
        ({"reason": "sale"}, "reason_newest"),
        (
            {"product_id": str(PydanticObjectId()), "reason": "sale", "at_from": MOMENT},
            "product_newest",
        ),
        ({"at_from": MOMENT, "at_to": MOMENT}, "newest"),
        ({"reason": "cancel", "at_to": MOMENT}, "reason_newest"),
    ],
)
async def test_movement_queries_use_their_index(monkeypatch, filters, index):
    plans = await _plans(
        monkeypatch,
        StockMovement,
        lambda: reads.list_movements(query=PageQuery(), **filters),
    )
    hello = await db.get_db().database.command("hello")
    if "COLLSCAN" in plans[0] and hello.get("setName") == "secantus" and len(filters) > 1:
        # MongoDB's planner takes product_newest and filters `reason` on the way; SecantusDB's
        # scans the collection when a filter has a field outside the index it would use.
        pytest.xfail("SecantusDB's planner: no index with a field left for a residual filter")
    for plan in plans:
        assert f"'indexName': '{index}'" in plan and "COLLSCAN" not in plan, plan


@SERVER_ONLY
async def test_low_stock_query_uses_its_index(monkeypatch):
    plans = await _plans(monkeypatch, Product, lambda: reads.list_low_stock(query=PageQuery()))
    assert "'indexName': 'active_low_stock'" in plans[0] and "COLLSCAN" not in plans[0], plans[0]
