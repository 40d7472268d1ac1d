"""`/api/v1/orders`: checkout, my orders, pay, cancel; a guest's with its tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from beanie import PydanticObjectId
from quart import g, request
from quart_rate_limiter import rate_limit
from quart_schema import validate_querystring, validate_request, validate_response

from app.auth.common import normalize_email
from app.cart import service as carts
from app.core.guest import (
    CART_TOKEN_HEADER,
    CART_TOKEN_PARAMETER,
    ORDER_TOKEN_HEADER,
    ORDER_TOKEN_PARAMETER,
    check_header,
    header_token,
    login_or_guest,
)
from app.core.idempotency import HEADER, idempotent
from app.core.ids import parse_object_id
from app.core.openapi import header_parameters, links, problems
from app.core.pagination import Page, PageQuery
from app.core.security import authenticate, bearer_token, current_user, login_required
from app.errors import Invalid, Unauthenticated
from app.orders import bp, cancellation, checkout, limits, payments, service, store
from app.orders.models import Order
from app.orders.schemas import CheckoutIn, OrderOut, OrderSummaryOut, PayIn

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _checkout_as_user_or_guest(func: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Checkout signed in (a bearer token wins) or as a guest (`Cart-Token`): settled before
    the body is validated, as `login_required` does. A guest's Idempotency-Key belongs to
    the guest cart (`g.idempotency_owner`); an unknown cart token is 404 `cart_not_found`."""

    @wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        g.guest_cart = None
        check_header(CART_TOKEN_HEADER)
        if bearer_token() is not None:
            await authenticate()
        elif (token := header_token(CART_TOKEN_HEADER)) is not None:
            g.guest_cart = carts.Owner.of_guest(token)
            g.idempotency_owner = await carts.guest_cart_id(g.guest_cart)
        else:
            raise Unauthenticated(f"Sign in, or check out as a guest with {CART_TOKEN_HEADER}.")
        return await func(*args, **kwargs)

    wrapper = login_or_guest(wrapper)
    return header_parameters(CART_TOKEN_PARAMETER)(wrapper)


def _order_of_user_or_guest(func: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """An order route for its customer (login) or its guest (`Order-Token`, which wins: it
    names one order). A guest's order is found before anything else runs (the body's
    validation, an Idempotency-Key's replay, keyed by the order): any mismatch is the same
    404 as an unknown order, never 403."""

    @wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        g.guest_order = None
        check_header(ORDER_TOKEN_HEADER)
        token = header_token(ORDER_TOKEN_HEADER)
        if token is not None:
            order_id = kwargs["order_id"]
            assert isinstance(order_id, PydanticObjectId)  # the route's `order` converter
            g.guest_order = await store.get_guest(order_id=order_id, token=token)
            g.idempotency_owner = g.guest_order.id
        else:
            await authenticate()
        return await func(*args, **kwargs)

    wrapper = login_or_guest(wrapper)
    return header_parameters(ORDER_TOKEN_PARAMETER)(wrapper)


def _guest_order() -> Order | None:
    order: Order | None = g.get("guest_order")
    return order


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
@problems(401, 404, 409, 429)
@_checkout_as_user_or_guest
@validate_request(CheckoutIn)
@validate_response(OrderOut, 201)
@idempotent
async def place_order(data: CheckoutIn) -> tuple[OrderOut, int]:
    """Check out the cart: reserve stock, create the order (pending payment).

    Signed in, or as a guest: no login, the guest cart's `Cart-Token`, and `email` and
    `shipping_address` in the body. A guest's answer has `order_token` (shown this once; the
    confirmation email's link carries it too): send it as `Order-Token` to read, pay or
    cancel the order. 404 `cart_not_found` for an unknown or expired cart token.

    Refusals that change nothing (stock, cart and orders stay as they were): 409
    `insufficient_stock` (`lines` names every short line); 409 `unpaid_limit_reached` (the
    customer already holds as many unpaid orders, or units in them, as allowed: `limits`,
    `held` and `requested_units` say how many; pay or cancel one first; a guest's count per
    client address and per email); 422 `cart_empty`; 422 `amount_out_of_range` when the total
    is one the payment provider does not charge (Stripe: under 50 cents or over $999,999.99
    in USD), with `total`, `minimum`, `maximum` and `currency`; 422 `validation_error` for an
    `address_id` that is not one of yours, or a guest's missing `email` or
    `shipping_address`. 429 `rate_limited` when checkouts come too fast (per account and per
    address).
    """
    guest = None
    if g.guest_cart is not None:
        missing = [
            {"loc": ["body", field], "msg": "required for a guest checkout (without a login)"}
            for field in ("email", "shipping_address")
            if getattr(data, field) is None
        ]
        if missing:
            raise Invalid("A guest checkout needs an email and a shipping address.", errors=missing)
        guest = checkout.Guest(
            cart=g.guest_cart,
            email=normalize_email(data.email),
            client_address=request.remote_addr,
        )
    placed = await checkout.place_order(
        user=current_user() if guest is None else None,
        guest=guest,
        shipping_address=data.shipping_address.model_dump() if data.shipping_address else None,
        address_id=data.address_id,
        idempotency_key=request.headers.get(HEADER),
        shipping_method_id=parse_object_id(data.shipping_method_id),
    )
    return OrderOut.of(placed.order).model_copy(update={"order_token": placed.order_token}), 201


@bp.get("")
@links(200, GetOrder=("get_get_order", "order_id=$response.body#/items/0/id"))
@login_required
@validate_querystring(PageQuery)
@validate_response(Page[OrderSummaryOut])
async def list_orders(query_args: PageQuery) -> Page[OrderSummaryOut]:
    """My orders, newest first (guest orders placed with my email address too, once I have
    verified it)."""
    page = await service.list_my_orders(user_id=current_user().id, query=query_args)
    return page.map(OrderSummaryOut.of)


@bp.get("/<order:order_id>")
@problems(401)
@_order_of_user_or_guest
@validate_response(OrderOut)
async def get_order(order_id: PydanticObjectId) -> OrderOut:
    """One of my orders, with its history; a guest's with its `Order-Token`."""
    guest_order = _guest_order()
    if guest_order is not None:
        return OrderOut.of(guest_order)
    return OrderOut.of(await service.get_order(order_id=order_id, user_id=current_user().id))


@bp.post("/<order:order_id>/pay")
@problems(401, 402, 409)
@_order_of_user_or_guest
@validate_request(PayIn)
@validate_response(OrderOut, 200)
@idempotent
async def pay_order(order_id: PydanticObjectId, data: PayIn) -> tuple[OrderOut, int]:
    """Pay the order with a payment method (server-side confirmation); a guest's with its
    `Order-Token`."""
    guest_order = _guest_order()
    if guest_order is not None:
        order = await payments.pay(
            order=guest_order, payment_method=data.payment_method, actor="customer"
        )
    else:
        order = await payments.pay_mine(
            user=current_user(), order_id=order_id, payment_method=data.payment_method
        )
    return OrderOut.of(order), 200


@bp.post("/<order:order_id>/cancel")
@rate_limit(limits=limits.CANCEL)
@problems(401, 409, 429)
@_order_of_user_or_guest
@validate_response(OrderOut)
async def cancel_order(order_id: PydanticObjectId) -> OrderOut:
    """Cancel my order (restocked; refunded when paid); a guest's with its `Order-Token`.

    409 `invalid_transition` once it has shipped (or is cancelled or refunded already). 429
    `rate_limited` when cancellations come too fast (per account and per address).
    """
    guest_order = _guest_order()
    if guest_order is not None:
        return OrderOut.of(await cancellation.cancel(order=guest_order, actor="customer"))
    return OrderOut.of(await cancellation.cancel_mine(user=current_user(), order_id=order_id))
