"""The admin's inventory reads: the stock ledger and the low-stock list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from app.catalog.models import Product
from app.catalog.stock_fields import stock_status
from app.core.pagination import Page, PageQuery
from app.inventory.models import StockMovement
from app.inventory.schemas import LowStockItemOut, MovementOut


def _utc(moment: datetime) -> datetime:
    """A query bound: naive means UTC, anything else is converted to UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def product_names(ids: Iterable[PydanticObjectId]) -> dict[PydanticObjectId, str]:
    """Names of many products (any status) in one query."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        await Product.get_pymongo_collection().find({"_id": {"$in": wanted}}, {"name": 1}).to_list()
    )
    return {row["_id"]: row["name"] for row in rows}


def movement_out(movement: StockMovement, names: dict[PydanticObjectId, str]) -> MovementOut:
    return MovementOut(
        id=str(movement.id),
        product_id=str(movement.product_id),
        product_name=names.get(movement.product_id),
        variant_id=movement.variant_id,
        sku=movement.sku,
        delta=movement.delta,
        stock_after=movement.stock_after,
        reason=movement.reason,
        actor=movement.actor,
        order_id=str(movement.order_id) if movement.order_id else None,
        at=_utc(movement.at),
    )


async def list_movements(
    *,
    query: PageQuery,
    product_id: str | None = None,
    reason: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
) -> Page[MovementOut]:
    """The stock ledger, newest first. Served by `product_newest`, `reason_newest` or
    `newest` (see StockMovement), each with the date range on `at`."""
    filters: dict[str, Any] = {}
    if product_id:
        filters["product_id"] = PydanticObjectId(product_id)
    if reason:
        filters["reason"] = reason
    if at_from or at_to:
        filters["at"] = {
            **({"$gte": _utc(at_from)} if at_from else {}),
            **({"$lte": _utc(at_to)} if at_to else {}),
        }
    find = StockMovement.find(filters)
    total = await find.count()
    newest = find.sort([("at", -1), ("_id", -1)])  # type: ignore[list-item]  # Beanie's SortDirection
    rows = await newest.skip(query.skip).limit(query.per_page).to_list()
    names = await product_names(row.product_id for row in rows)
    return Page.build([movement_out(row, names) for row in rows], query=query, total=total)


_LOW_STOCK_PROJECTION = {
    "slug": 1,
    "name": 1,
    "stock": 1,
    "low_stock_threshold": 1,
    "updated_at": 1,
}


async def list_low_stock(*, query: PageQuery) -> Page[LowStockItemOut]:
    """Active products at or under their threshold, lowest stock first.

    `stock <= low_stock_threshold` compares two fields of one document: `$expr` can say it,
    but no index can serve it (every active product would be read). The stored `low_stock`
    flag, kept exact by every stock and threshold write, is an equality the
    `active_low_stock` index (status, low_stock, stock, _id) serves, order included.
    """
    filters = {"status": "active", "low_stock": True}
    collection = Product.get_pymongo_collection()
    total = await collection.count_documents(filters)
    rows = await collection.find(
        filters,
        _LOW_STOCK_PROJECTION,
        sort=[("stock", 1), ("_id", 1)],
        skip=query.skip,
        limit=query.per_page,
    ).to_list()
    items = [
        LowStockItemOut(
            id=str(row["_id"]),
            slug=row["slug"],
            name=row["name"],
            stock=row["stock"],
            low_stock_threshold=row["low_stock_threshold"],
            stock_status=stock_status(row["stock"], row["low_stock_threshold"]),
            updated_at=_utc(row["updated_at"]),
        )
        for row in rows
    ]
    return Page.build(items, query=query, total=total)
