"""Product lists: the public catalog (filters, search, sorts) and the admin's product list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from beanie import PydanticObjectId

from app.catalog import search
from app.catalog.categories import category_refs
from app.catalog.models import DEFAULT_SORT, SORTS, Category, Product
from app.catalog.schemas import (
    AdminProductItem,
    AdminProductQuery,
    CategoryRef,
    ProductListItem,
    ProductQuery,
)
from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD, stock_status
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
}

Categories = dict[PydanticObjectId, CategoryRef]
Item = TypeVar("Item", bound=ProductListItem)


def _threshold(row: dict[str, Any]) -> int:
    return row.get("low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD)


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
        stock_status=stock_status(row.get("stock", 0), _threshold(row)),
    )


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
    filters: dict[str, Any] = {"status": status}
    empty: Page[Item] = Page.build([], query=query, total=0)
    if query.category:
        category = await Category.find_one({"slug": query.category})
        if category is None:
            return empty
        filters["category_path"] = category.id
    for name in ("brand", "color", "size"):
        value = getattr(query, name)
        if value:
            filters[f"facets.{name}"] = value.casefold()
    price: dict[str, int] = {}
    if query.min_price is not None:
        price["$gte"] = query.min_price
    if query.max_price is not None:
        price["$lte"] = query.max_price
    if price:
        filters["price"] = price
    # Like a storefront checkbox: `true` narrows to what can be bought, `false` is no filter.
    if query.in_stock:
        filters["stock"] = {"$gt": 0}

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
