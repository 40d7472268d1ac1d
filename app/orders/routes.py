"""`/api/v1/orders`: checkout, my orders, pay, cancel."""

from __future__ import annotations

from beanie import PydanticObjectId
from quart import request
from quart_rate_limiter import rate_limit
from quart_schema import validate_querystring, validate_request, validate_response

from app.core.idempotency import HEADER, idempotent
from app.core.ids import parse_object_id
from app.core.openapi import links, problems
from app.core.pagination import Page, PageQuery
from app.core.security import current_user, login_required
from app.orders import bp, cancellation, checkout, limits, payments, service
from app.orders.schemas import CheckoutIn, OrderOut, OrderSummaryOut, PayIn


@bp.post("")
@rate_limit(limits=limits.CHECKOUT)
@links(
    201,
    GetOrder=("get_get_order", "order_id=$response.body#/id"),
    PayOrder=("post_pay_order", "order_id=$response.body#/id"),
    CancelOrder=("post_cancel_order", "order_id=$response.body#/id"),
    AdminGetOrder=("get_admin_get_order", "order_id=$response.body#/id"),
    AdminChangeStatus=("post_admin_change_status", "order_id=$response.body#/id"),
    AdminRefundOrder=("post_admin_refund_order", "order_id=$response.body#/id"),
)
@problems(409, 429)
@login_required
@validate_request(CheckoutIn)
@validate_response(OrderOut, 201)
@idempotent
async def place_order(data: CheckoutIn) -> tuple[OrderOut, int]:
    """Check out the cart: reserve stock, create the order (pending payment).

    Refusals that change nothing (stock, cart and orders stay as they were): 409
    `insufficient_stock` (`lines` names every short line); 409 `unpaid_limit_reached` (the
    customer already holds as many unpaid orders, or units in them, as allowed: `limits`,
    `held` and `requested_units` say how many; pay or cancel one first); 422 `cart_empty`; 422
    `amount_out_of_range` when the total is one the payment provider does not charge (Stripe:
    under 50 cents or over $999,999.99 in USD), with `total`, `minimum`, `maximum` and
    `currency`; 422 `validation_error` for an `address_id` that is not one of yours. 429
    `rate_limited` when checkouts come too fast (per account and per address).
    """
    order = await checkout.place_order(
        user=current_user(),
        shipping_address=data.shipping_address.model_dump() if data.shipping_address else None,
        address_id=data.address_id,
        idempotency_key=request.headers.get(HEADER),
        shipping_method_id=parse_object_id(data.shipping_method_id),
    )
    return OrderOut.of(order), 201


@bp.get("")
@links(200, GetOrder=("get_get_order", "order_id=$response.body#/items/0/id"))
@login_required
@validate_querystring(PageQuery)
@validate_response(Page[OrderSummaryOut])
async def list_orders(query_args: PageQuery) -> Page[OrderSummaryOut]:
    """My orders, newest first."""
    page = await service.list_my_orders(user_id=current_user().id, query=query_args)
    return page.map(OrderSummaryOut.of)


@bp.get("/<order:order_id>")
@login_required
@validate_response(OrderOut)
async def get_order(order_id: PydanticObjectId) -> OrderOut:
    """One of my orders, with its history."""
    return OrderOut.of(await service.get_order(order_id=order_id, user_id=current_user().id))


@bp.post("/<order:order_id>/pay")
@problems(402, 409)
@login_required
@validate_request(PayIn)
@validate_response(OrderOut, 200)
@idempotent
async def pay_order(order_id: PydanticObjectId, data: PayIn) -> tuple[OrderOut, int]:
    """Pay the order with a payment method (server-side confirmation)."""
    order = await payments.pay_mine(
        user=current_user(), order_id=order_id, payment_method=data.payment_method
    )
    return OrderOut.of(order), 200


@bp.post("/<order:order_id>/cancel")
@rate_limit(limits=limits.CANCEL)
@problems(409, 429)
@login_required
@validate_response(OrderOut)
async def cancel_order(order_id: PydanticObjectId) -> OrderOut:
    """Cancel my order (restocked; refunded when paid).

    409 `invalid_transition` once it has shipped (or is cancelled or refunded already). 429
    `rate_limited` when cancellations come too fast (per account and per address).
    """
    return OrderOut.of(await cancellation.cancel_mine(user=current_user(), order_id=order_id))
