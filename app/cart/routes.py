"""`/api/v1/cart`: the shopper's cart, signed in (bearer token) or a guest's (`Cart-Token`);
every answer is the whole cart."""

from __future__ import annotations

from functools import wraps

from beanie import PydanticObjectId
from quart import g
from quart_rate_limiter import rate_limit
from quart_schema import validate_querystring, validate_request, validate_response

from app.cart import bp, limits, quote, service
from app.cart.schemas import (
    CartItemIn,
    CartItemUpdate,
    CartOut,
    DiscountCodeIn,
    QuoteOut,
    QuoteQuery,
)
from app.cart.service import Owner
from app.core.guest import (
    CART_TOKEN_HEADER,
    CART_TOKEN_PARAMETER,
    CartMergeIn,
    check_header,
    header_token,
    login_or_guest,
)
from app.core.ids import parse_object_id
from app.core.openapi import header_parameters, links, problems
from app.core.security import authenticate, bearer_token, current_user, login_required
from app.errors import Unauthenticated


async def _owner(*, may_create: bool = False) -> Owner:
    """The signed-in user's cart (a bearer token wins), else the guest cart of `Cart-Token`;
    with neither, a new guest cart where the route may create one, else 401."""
    if bearer_token() is not None:
        return Owner.of_user((await authenticate()).id)
    token = header_token(CART_TOKEN_HEADER)
    if token is not None:
        return Owner.of_guest(token)
    if may_create:
        return Owner.new_guest()
    raise Unauthenticated(f"Sign in, or send the guest cart's {CART_TOKEN_HEADER} header.")


def guest_cart(*, anonymous: bool = False):
    """A cart route: a login or a guest's Cart-Token (documented as both). Whose cart is
    settled before the body is validated (as `login_required` does): `g.cart_owner`."""

    def decorator(func):
        @wraps(func)
        async def wrapper(*args, **kwargs):
            check_header(CART_TOKEN_HEADER)
            g.cart_owner = await _owner(may_create=anonymous)
            return await func(*args, **kwargs)

        wrapper = login_or_guest(wrapper)
        return header_parameters(CART_TOKEN_PARAMETER)(wrapper)

    return decorator


@bp.get("")
@links(
    200,
    SetQuantity=("patch_set_quantity", "product_id=$response.body#/items/0/product_id"),
    RemoveItem=("delete_remove_item", "product_id=$response.body#/items/0/product_id"),
)
@problems(401, 404)
@guest_cart()
@validate_response(CartOut)
async def get_cart() -> CartOut:
    """My cart (or a guest's, with `Cart-Token`), priced at current prices. 404
    `cart_not_found` for an unknown or expired cart token."""
    return await service.view(owner=g.cart_owner)


@bp.delete("")
@problems(401, 404)
@guest_cart()
@validate_response(CartOut)
async def empty_cart() -> CartOut:
    """Empty my cart (or a guest's)."""
    return await service.clear(owner=g.cart_owner)


@bp.post("/items")
@links(
    200,
    SetQuantity=("patch_set_quantity", "product_id=$response.body#/items/0/product_id"),
    RemoveItem=("delete_remove_item", "product_id=$response.body#/items/0/product_id"),
)
@rate_limit(limits=limits.NEW_GUEST_CART)
@problems(401, 404, 409, 422, 429)
@guest_cart(anonymous=True)
@validate_request(CartItemIn)
@validate_response(CartOut)
async def add_item(data: CartItemIn) -> CartOut:
    """Add a product (merged into its line when already in the cart).

    Without a login and without `Cart-Token` this creates a guest cart: the answer's
    `cart_token` is its token (send it as `Cart-Token` from then on; it is shown on every
    answer about that cart). Creating guest carts is rate-limited per client address (429).
    """
    return await service.add_item(
        owner=g.cart_owner,
        product_id=data.product_id,
        variant_id=data.variant_id,
        quantity=data.quantity,
    )


@bp.patch("/items/<cartline:product_id>")
@problems(401, 409)
@guest_cart()
@validate_request(CartItemUpdate)
@validate_response(CartOut)
async def set_quantity(product_id: PydanticObjectId, data: CartItemUpdate) -> CartOut:
    """Set a line's quantity (0 removes it)."""
    return await service.set_quantity(
        owner=g.cart_owner, product_id=product_id, quantity=data.quantity
    )


@bp.delete("/items/<cartline:product_id>")
@problems(401, 409)
@guest_cart()
@validate_response(CartOut)
async def remove_item(product_id: PydanticObjectId) -> CartOut:
    """Remove a product's line."""
    return await service.remove_item(owner=g.cart_owner, product_id=product_id)


@bp.post("/merge")
@problems(404, 409)
@login_required
@validate_request(CartMergeIn)
@validate_response(CartOut)
async def merge_cart(data: CartMergeIn) -> CartOut:
    """Merge a guest cart into mine: its quantities are added to my lines, capped by stock
    and the cart's limits (`cart_merge.capped` lists the lines added only in part), and the
    guest cart is deleted. 404 `cart_not_found` for an unknown, expired or already merged
    cart token (a second merge of one token changes nothing)."""
    cart, report = await service.merge(user_id=current_user().id, token=data.cart_token)
    return cart.model_copy(update={"cart_merge": report})


# -- the priced cart (issue 19) --------------------------------------------------------------


@bp.get("/quote")
@problems(401, 404, 422)
@guest_cart()
@validate_querystring(QuoteQuery)
@validate_response(QuoteOut)
async def get_quote(query_args: QuoteQuery) -> QuoteOut:
    """My cart (or a guest's) priced for a destination and shipping method: discount,
    shipping and tax per line, and the totals checkout will charge."""
    return await quote.quote(
        owner=g.cart_owner,
        country=query_args.country,
        region=query_args.region,
        shipping_method_id=parse_object_id(query_args.shipping_method_id),
    )


@bp.post("/discount")
@problems(401, 404, 422)
@guest_cart()
@validate_request(DiscountCodeIn)
@validate_response(QuoteOut)
async def apply_discount(data: DiscountCodeIn) -> QuoteOut:
    """Put a discount code on my cart (422 `discount_invalid` with a `reason` when it
    cannot be used); answers the cart's quote without a destination."""
    return await quote.apply_code(owner=g.cart_owner, code=data.code)


@bp.delete("/discount")
@problems(401, 404)
@guest_cart()
@validate_response(QuoteOut)
async def remove_discount() -> QuoteOut:
    """Take the discount code off my cart."""
    return await quote.remove_code(owner=g.cart_owner)
