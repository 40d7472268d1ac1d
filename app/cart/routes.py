"""`/api/v1/cart`: the signed-in shopper's cart; every answer is the whole cart."""

from __future__ import annotations

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.cart import bp, quote, service
from app.cart.schemas import (
    CartItemIn,
    CartItemUpdate,
    CartOut,
    DiscountCodeIn,
    QuoteOut,
    QuoteQuery,
)
from app.core.ids import parse_object_id
from app.core.openapi import links, problems
from app.core.security import current_user, login_required


@bp.get("")
@links(
    200,
    SetQuantity=("patch_set_quantity", "product_id=$response.body#/items/0/product_id"),
    RemoveItem=("delete_remove_item", "product_id=$response.body#/items/0/product_id"),
)
@login_required
@validate_response(CartOut)
async def get_cart() -> CartOut:
    """My cart, priced at current prices."""
    return await service.view(user_id=current_user().id)


@bp.delete("")
@login_required
@validate_response(CartOut)
async def empty_cart() -> CartOut:
    """Empty my cart."""
    return await service.clear(user_id=current_user().id)


@bp.post("/items")
@links(
    200,
    SetQuantity=("patch_set_quantity", "product_id=$response.body#/items/0/product_id"),
    RemoveItem=("delete_remove_item", "product_id=$response.body#/items/0/product_id"),
)
@problems(404, 409, 422)
@login_required
@validate_request(CartItemIn)
@validate_response(CartOut)
async def add_item(data: CartItemIn) -> CartOut:
    """Add a product (merged into its line when already in the cart)."""
    return await service.add_item(
        user_id=current_user().id,
        product_id=data.product_id,
        variant_id=data.variant_id,
        quantity=data.quantity,
    )


@bp.patch("/items/<cartline:product_id>")
@problems(409)
@login_required
@validate_request(CartItemUpdate)
@validate_response(CartOut)
async def set_quantity(product_id: PydanticObjectId, data: CartItemUpdate) -> CartOut:
    """Set a line's quantity (0 removes it)."""
    return await service.set_quantity(
        user_id=current_user().id, product_id=product_id, quantity=data.quantity
    )


@bp.delete("/items/<cartline:product_id>")
@problems(409)
@login_required
@validate_response(CartOut)
async def remove_item(product_id: PydanticObjectId) -> CartOut:
    """Remove a product's line."""
    return await service.remove_item(user_id=current_user().id, product_id=product_id)


# -- the priced cart (issue 19) --------------------------------------------------------------


@bp.get("/quote")
@problems(422)
@login_required
@validate_querystring(QuoteQuery)
@validate_response(QuoteOut)
async def get_quote(query_args: QuoteQuery) -> QuoteOut:
    """My cart priced for a destination and shipping method: discount, shipping and tax."""
    return await quote.quote(
        user_id=current_user().id,
        country=query_args.country,
        region=query_args.region,
        shipping_method_id=parse_object_id(query_args.shipping_method_id),
    )


@bp.post("/discount")
@problems(422)
@login_required
@validate_request(DiscountCodeIn)
@validate_response(QuoteOut)
async def apply_discount(data: DiscountCodeIn) -> QuoteOut:
    """Put a discount code on my cart (422 `discount_invalid` with a `reason` when it
    cannot be used); the cart's quote without a destination."""
    return await quote.apply_code(user_id=current_user().id, code=data.code)


@bp.delete("/discount")
@login_required
@validate_response(QuoteOut)
async def remove_discount() -> QuoteOut:
    """Take the discount code off my cart."""
    return await quote.remove_code(user_id=current_user().id)
