"""The catalog's declared indexes exist, and on a server every list query uses one."""

from __future__ import annotations

import os

import pytest

from app.catalog import listing, search
from app.catalog.models import Category, Product
from app.catalog.schemas import ProductQuery
from tests.secantus import PLANNER_SKIPS_PARTIAL_INDEX

PRODUCT_INDEXES = {
    "active_price",
    "active_name",
    "active_newest",
    "active_rating",
    "category_price",
    "category_name",
    "category_newest",
    "category_rating",
    "brand_price",
    "variant_options",
    "search",
    "category_id",
}


async def test_declared_indexes_are_created(app):
    products = await Product.get_pymongo_collection().index_information()
    # The text index exists only where search uses it (SEARCH_MODE, and the server allows it).
    expected = PRODUCT_INDEXES if search.uses_text_index() else PRODUCT_INDEXES - {"search"}
    assert expected <= set(products)
    assert any(info["key"] == [("slug", 1)] and info.get("unique") for info in products.values())
    categories = await Category.get_pymongo_collection().index_information()
    assert any(info["key"] == [("slug", 1)] and info.get("unique") for info in categories.values())
    assert any(info["key"] == [("ancestors", 1)] for info in categories.values())


_partial = pytest.mark.secantus_bug(PLANNER_SKIPS_PARTIAL_INDEX)


@pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server")
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "price"},
        {"sort": "-price", "min_price": 1000},
        {"sort": "name"},
        {"sort": "-rating"},
        {"category": "shirts"},
        {"category": "shirts", "sort": "price", "max_price": 5000},
        {"brand": "stride", "sort": "name"},
        {"size": "m", "sort": "price"},
        # A filter field that no index holds (an $elemMatch over `variants` (one variant with
        # both values, or in stock); stock; the words' fields in regex search).
        pytest.param({"color": "red", "size": "m"}, marks=_partial),
        pytest.param({"size": "M", "color": "blue", "in_stock": True}, marks=_partial),
        pytest.param({"in_stock": True, "sort": "-created_at"}, marks=_partial),
        pytest.param({"q": "shirt"}, marks=_partial),
        pytest.param({"q": "shirt", "category": "clothing", "sort": "price"}, marks=_partial),
    ],
)
async def test_list_queries_use_an_index_on_a_server(shop, monkeypatch, params):
    collection = Product.get_pymongo_collection()
    seen = []
    original_find = collection.find

    def spy(filter, projection=None, **kwargs):
        seen.append((filter, kwargs.get("sort")))
        return original_find(filter, projection, **kwargs)

    monkeypatch.setattr(collection, "find", spy)
    await listing.list_products(query=ProductQuery(**params))
    assert seen, "the list query did not run"
    for filter, sort in seen:
        cursor = original_find(filter, sort=sort)  # not the spy: it would append to `seen`
        plan = str((await cursor.explain())["queryPlanner"]["winningPlan"])
        assert "COLLSCAN" not in plan, plan
        assert "IXSCAN" in plan or "TEXT" in plan, plan


@pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server")
@pytest.mark.parametrize(
    "params",
    [
        {"size": "m"},
        pytest.param({"color": "blue", "size": "l", "in_stock": True}, marks=_partial),
    ],
)
async def test_option_filters_use_the_multikey_variant_index(shop, params):
    """`?size=` is an equality on the variants' option keys, `?size=&color=` (or with
    `in_stock`) an `$elemMatch` on one variant: the multikey `variant_options` index
    (status, variants.keys, price, _id) serves both on a server."""
    from app.catalog.listing import variant_filter, variant_match

    cursor = Product.get_pymongo_collection().find(
        {"status": "active", **variant_match(variant_filter(ProductQuery(**params)))},
        sort=[("price", 1), ("_id", 1)],
    )
    plan = str((await cursor.explain())["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in plan and "variant_options" in plan, plan
