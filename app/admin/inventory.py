"""Inventory administration: stock adjustments, the stock ledger, low-stock products."""

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.core.openapi import problems
from app.core.pagination import Page
from app.core.security import admin_required, current_user
from app.inventory import reads, stock
from app.inventory.schemas import (
    LowStockItemOut,
    LowStockQuery,
    MovementOut,
    MovementQuery,
    StockAdjustmentIn,
    StockLevelOut,
)


def _level_out(change: stock.StockChange) -> StockLevelOut:
    product = change.product
    if change.movement is None:  # only a `set` told to skip an unchanged stock has none
        raise ValueError("an adjustment always records a movement")
    return StockLevelOut(
        product_id=str(product.id),
        name=product.name,
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        stock_status=product.stock_status,
        movement=reads.movement_out(change.movement, {product.id: product.name}),
        variant_id=change.variant.id,
        sku=change.variant.sku,
        options=product.options_of(change.variant),
        variant_stock=change.variant.stock,
    )


@bp.post("/products/<product:product_id>/stock")
@admin_required
@validate_request(StockAdjustmentIn)
@validate_response(StockLevelOut)
@problems(409)
async def adjust_stock(product_id: PydanticObjectId, data: StockAdjustmentIn) -> StockLevelOut:
    """Add, remove or set a product's stock (recorded in the stock ledger)."""
    change = await stock.adjust_stock(
        product_id=product_id,
        delta=data.delta,
        set_to=data.set_to,
        variant_id=data.variant_id,
        reason=data.reason,
        actor=f"admin:{current_user().id}",
    )
    return _level_out(change)


@bp.get("/inventory/movements")
@admin_required
@validate_querystring(MovementQuery)
@validate_response(Page[MovementOut])
async def list_movements(query_args: MovementQuery) -> Page[MovementOut]:
    """The stock ledger, newest first; filter by product, reason and date range."""
    return await reads.list_movements(
        query=query_args,
        product_id=query_args.product_id,
        reason=query_args.reason,
        at_from=query_args.at_from,
        at_to=query_args.at_to,
    )


@bp.get("/inventory/low-stock")
@admin_required
@validate_querystring(LowStockQuery)
@validate_response(Page[LowStockItemOut])
async def list_low_stock(query_args: LowStockQuery) -> Page[LowStockItemOut]:
    """Active products at or under their low-stock threshold, lowest stock first."""
    return await reads.list_low_stock(query=query_args)
