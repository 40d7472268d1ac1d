"""`GET /products?facets=true`: counts per brand, option value (color, size) and category,
and the price range, over the filtered result, each facet ignoring its own filter (the
usual faceted-search rule: `?color=blue` still shows how many are red). Other option
filters (`?material=linen`) have no facet of their own; they narrow every facet's counts.

One aggregation: a `$match` on what every facet shares (active, the search words), then a
`$facet` with one sub-pipeline per facet that adds the other filters. The embedded engine
runs the same pipeline and gives the same answer (tests/catalog/test_facets.py).

Counting is O(matching products), so answers are cached per worker, keyed by the catalog
version (app/catalog/cache.py: every change a list page can show bumps it, a variant
moving in or out of stock included) and the normalized filter set (never the page, the
sort or per_page): a cached answer costs one primary-key read of the version, whatever the
catalog's size.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from app.catalog import search
from app.catalog.cache import current_version
from app.catalog.categories import category_refs
from app.catalog.listing import (
    OPTION_FILTERS,
    filter_parts,
    option_filters,
    variant_filter,
    variant_match,
)
from app.catalog.models import Product, option_key
from app.catalog.schemas import FacetCount, Facets, PriceRange, ProductQuery

# The filters that make up a facet answer's key, with every option filter (the rest: page,
# per_page, sort).
FILTER_FIELDS = ("q", "category", "brand", "min_price", "max_price", "in_stock")
CACHED_ANSWERS = 512


class _FacetCache:
    """One worker's facet answers for one catalog version (LRU by count)."""

    def __init__(self) -> None:
        self.version: tuple | None = None
        self.entries: OrderedDict[tuple, Facets] = OrderedDict()
        self.computed = 0  # aggregations run (tests count them)

    def get(self, version: tuple, key: tuple) -> Facets | None:
        if version != self.version:
            if self.version is None or version[0] != self.version[0] or version > self.version:
                self.version, self.entries = version, OrderedDict()
            return None
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, version: tuple, key: tuple, facets: Facets) -> None:
        if version != self.version:
            return
        self.entries[key] = facets
        while len(self.entries) > CACHED_ANSWERS:
            self.entries.popitem(last=False)


_cache = _FacetCache()


def normalized(query: ProductQuery) -> tuple:
    """The filter set as a key: case-folded text filters, absent and empty alike; the option
    filters (`color`, `size` and any other option name) as sorted (name, value) pairs."""
    key: list[Any] = []
    for field in FILTER_FIELDS:
        value = getattr(query, field)
        if isinstance(value, str):
            value = value.casefold().strip() or None
        if field == "in_stock":
            value = bool(value)
        key.append(value)
    options = (option_key(name, value) for name, value in option_filters(query).items())
    key.append(tuple(sorted(options)))
    return tuple(key)


async def facets_of(query: ProductQuery) -> Facets:
    """The facets of the active catalog for `query`'s filters (cached; see the module)."""
    version = await current_version()
    key = normalized(query)
    found = _cache.get(version, key)
    if found is None:
        found = await _compute(query)
        _cache.put(version, key, found)
    return found


def _empty() -> Facets:
    return Facets(brand=[], color=[], size=[], category=[], price=PriceRange(min=None, max=None))


def _merged(parts: dict[str, dict[str, Any]], *, without: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name, part in parts.items():
        if name != without:
            merged.update(part)
    return merged


def _option_pipeline(
    query: ProductQuery, parts: dict[str, dict[str, Any]], name: str
) -> list[dict[str, Any]]:
    """Products per value of option `name`: the products matching every filter but this
    option's, counted once per value one of their variants has (that variant also matching
    the other option filters, and in stock with `in_stock=true`)."""
    others = variant_filter(query, without=name)
    product_level = {**_merged(parts, without="options"), **variant_match(others)}
    variant_level: dict[str, Any] = {}
    keys = [option_key(n, v) for n, v in option_filters(query).items() if n != name]
    if keys:
        variant_level["variants.keys"] = {"$all": keys}
    if query.in_stock:
        variant_level["variants.stock"] = {"$gt": 0}
    value = {"$ifNull": [f"$variants.options.{name}", f"$attributes.{name}"]}
    return [
        {"$match": product_level},
        {"$unwind": "$variants"},
        {"$match": variant_level},
        {"$project": {"value": value}},
        {"$match": {"value": {"$type": "string"}}},
        # Once per product and value, then products per value (the display value: the first
        # product's spelling).
        {
            "$group": {
                "_id": {"p": "$_id", "k": {"$toLower": "$value"}},
                "value": {"$first": "$value"},
            }
        },
        {"$group": {"_id": "$_id.k", "value": {"$first": "$value"}, "count": {"$sum": 1}}},
    ]


async def _compute(query: ProductQuery) -> Facets:
    _cache.computed += 1
    parts = await filter_parts(query)
    if parts is None:
        return _empty()
    terms = search.terms_of(query.q) if query.q else None
    if query.q and not terms:
        return _empty()
    shared = search.plan(
        filters={"status": "active"},
        terms=terms,
        sort=[("_id", 1)],  # unused: facets are counts
        text_index=bool(terms) and search.uses_text_index(),
    ).filter
    pipeline = [
        {"$match": shared},
        {
            "$facet": {
                "brand": [
                    {
                        "$match": {
                            **_merged(parts, without="brand"),
                            "facets.brand": {"$type": "string"},
                        }
                    },
                    {
                        "$group": {
                            "_id": "$facets.brand",
                            "value": {"$first": "$brand"},
                            "count": {"$sum": 1},
                        }
                    },
                ],
                "category": [
                    {"$match": _merged(parts, without="category")},
                    {"$group": {"_id": "$category_id", "count": {"$sum": 1}}},
                ],
                "price": [
                    {"$match": _merged(parts, without="price")},
                    {"$group": {"_id": None, "min": {"$min": "$price"}, "max": {"$max": "$price"}}},
                ],
                **{name: _option_pipeline(query, parts, name) for name in OPTION_FILTERS},
            }
        },
    ]
    cursor = await Product.get_pymongo_collection().aggregate(pipeline)
    (row,) = await cursor.to_list()
    refs = await category_refs(entry["_id"] for entry in row["category"])
    categories = [
        FacetCount(value=refs[entry["_id"]].slug, count=entry["count"])
        for entry in row["category"]
        if entry["_id"] in refs
    ]
    price = row["price"][0] if row["price"] else {}
    return Facets(
        brand=_sorted(row["brand"]),
        color=_sorted(row["color"]),
        size=_sorted(row["size"]),
        category=sorted(categories, key=lambda c: (-c.count, c.value)),
        price=PriceRange(min=price.get("min"), max=price.get("max")),
    )


def _sorted(entries: list[dict[str, Any]]) -> list[FacetCount]:
    """Most products first, then by value: the same order on every engine."""
    counts = [FacetCount(value=entry["value"], count=entry["count"]) for entry in entries]
    return sorted(counts, key=lambda c: (-c.count, c.value.casefold(), c.value))
