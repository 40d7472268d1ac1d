"""Product lists: the public catalog (filters, search, sorts) and the admin's product list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from beanie import PydanticObjectId

from app.catalog import search
from app.catalog.categories import category_refs
from app.catalog.models import DEFAULT_SORT, SORTS, Category, Product, option_key
from app.catalog.schemas import (
    AdminProductItem,
    AdminProductQuery,
    CategoryRef,
    ProductListItem,
    ProductQuery,
)
from app.catalog.stock_fields import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    StockStatus,
    best_stock_status,
    stock_status,
)
from app.core.pagination import Page

# What a list item needs from the database, and nothing more.
LIST_PROJECTION = {
    "status": 1,
    "name": 1,
    "slug": 1,
    "price": 1,
    "currency": 1,
    "brand": 1,
    "category_id": 1,
    "images": 1,
    "rating": 1,
    "stock": 1,
    "low_stock_threshold": 1,
    "variants.stock": 1,
    "variants.low_stock_threshold": 1,
}
# The option filters that are facets too: `?size=M&color=blue` match a product with one
# variant of both values; any other option name filters the same way (`?material=linen`,
# ProductQuery.option_filters) but has no facet.
OPTION_FILTERS = ("color", "size")

Categories = dict[PydanticObjectId, CategoryRef]
Item = TypeVar("Item", bound=ProductListItem)


def _threshold(row: dict[str, Any]) -> int:
    return row.get("low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD)


def _stock_status(row: dict[str, Any]) -> StockStatus:
    """The best of the variants' statuses (a product stored before variants: its own)."""
    variants = row.get("variants")
    if not variants:
        return stock_status(row.get("stock", 0), _threshold(row))
    return best_stock_status(
        stock_status(v.get("stock", 0), v.get("low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD))
        for v in variants
    )


def _list_item(row: dict[str, Any], categories: Categories) -> ProductListItem:
    return ProductListItem(
        id=str(row["_id"]),
        slug=row["slug"],
        name=row["name"],
        price=row["price"],
        currency=row["currency"],
        brand=row.get("brand"),
        category=categories.get(row.get("category_id")),  # type: ignore[arg-type]  # None: no category
        images=row.get("images", []),
        rating=row.get("rating") or {"average": 0.0, "count": 0},
        stock_status=_stock_status(row),
    )


def option_filters(query: ProductQuery) -> dict[str, str]:
    """The option filters the query sets, name -> value (`color`, `size` and any other
    option name)."""
    return query.option_filters


def variant_filter(query: ProductQuery, *, without: str | None = None) -> dict[str, Any]:
    """What one variant must match: every option filter's key (served by the multikey
    `variant_options` index), and in stock with `in_stock=true`; empty without option
    filters (then `in_stock` is the product's stock, the sum). `without` leaves one option
    out (a facet's own filter)."""
    keys = [
        option_key(name, value) for name, value in option_filters(query).items() if name != without
    ]
    if not keys:
        return {}
    element: dict[str, Any] = {"keys": keys[0] if len(keys) == 1 else {"$all": keys}}
    if query.in_stock:
        element["stock"] = {"$gt": 0}
    return element


def variant_match(element: dict[str, Any]) -> dict[str, Any]:
    """The product filter for what one variant must match: one option key alone is a plain
    equality on the multikey `variants.keys` (the same thing, and every planner serves it);
    several keys, or a key and stock, must hold for the *same* variant: `$elemMatch`."""
    if not element:
        return {}
    if set(element) == {"keys"} and isinstance(element["keys"], str):
        return {"variants.keys": element["keys"]}
    return {"variants": {"$elemMatch": element}}


async def filter_parts(query: ProductQuery) -> dict[str, dict[str, Any]] | None:
    """The query's filters, one part per filter (`category`, `brand`, `price`, `stock`,
    `options`): a list page matches all of them, a facet all but its own. None when nothing
    can match (an unknown category slug)."""
    parts: dict[str, dict[str, Any]] = {}
    if query.category:
        category = await Category.find_one({"slug": query.category})
        if category is None:
            return None
        parts["category"] = {"category_path": category.id}
    if query.brand:
        parts["brand"] = {"facets.brand": query.brand.casefold()}
    price: dict[str, int] = {}
    if query.min_price is not None:
        price["$gte"] = query.min_price
    if query.max_price is not None:
        price["$lte"] = query.max_price
    if price:
        parts["price"] = {"price": price}
    # Like a storefront checkbox: `true` narrows to what can be bought, `false` is no filter.
    if query.in_stock:
        parts["stock"] = {"stock": {"$gt": 0}}
    options = variant_match(variant_filter(query))
    if options:
        parts["options"] = options
    return parts


async def list_products(*, query: ProductQuery) -> Page[ProductListItem]:
    """One page of the catalog (active products) matching the filters, in the requested
    order. Unknown category slug or a query without searchable words: an empty page."""
    return await _page(query=query, status="active", item=_list_item)


async def _page(
    *,
    query: ProductQuery,
    status: str,
    item: Callable[[dict[str, Any], Categories], Item],
) -> Page[Item]:
    """One page of products in `status` matching the filters, in the requested order, each
    row made into an `item`. Every index leads with `status`, so archived ones list the same
    way."""
    empty: Page[Item] = Page.build([], query=query, total=0)
    parts = await filter_parts(query)
    if parts is None:
        return empty
    filters: dict[str, Any] = {"status": status}
    for part in parts.values():
        filters.update(part)

    terms = search.terms_of(query.q) if query.q else None
    if query.q and not terms:
        return empty
    collection = Product.get_pymongo_collection()
    sort_key = query.sort or (None if terms else DEFAULT_SORT)
    plan = search.plan(
        filters=filters,
        terms=terms,
        sort=SORTS[sort_key] if sort_key else None,
        text_index=bool(terms) and search.uses_text_index(),
    )
    rows, total = await search.find_page(
        collection, plan, projection=LIST_PROJECTION, skip=query.skip, limit=query.per_page
    )
    categories = await category_refs(row.get("category_id") for row in rows)
    return Page.build([item(row, categories) for row in rows], query=query, total=total)


def _admin_list_item(row: dict[str, Any], categories: Categories) -> AdminProductItem:
    return AdminProductItem(
        **_list_item(row, categories).model_dump(),
        stock=row.get("stock", 0),
        low_stock_threshold=_threshold(row),
        status=row["status"],
    )


async def admin_list_products(*, query: AdminProductQuery) -> Page[AdminProductItem]:
    """The admin's product list: the catalog's filters and sorts on either status, each item
    with its stock numbers and status (the same indexes: every one leads with `status`)."""
    return await _page(query=query, status=query.status, item=_admin_list_item)
