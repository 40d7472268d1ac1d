"""Checkout: the cart becomes an order in one transaction, all or nothing.

Inside `db.run_in_transaction`: re-read the cart, take the customer's place among the unpaid
orders (holds.py: a capped, guarded counter), take every line's stock with a guarded
decrement (`stock >= qty`, so even a server without transactions cannot oversell), insert the
order with price snapshots, empty the cart and queue the confirmation email. A short line
aborts the whole transaction (and, where there are no transactions, the lines and the place
already taken are given back). The payment provider is called only after the commit.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.cart import service as cart
from app.core import db
from app.core.money import format_amount
from app.errors import ErrorCode, Invalid
from app.inventory import stock as inventory
from app.inventory.errors import InsufficientStock
from app.orders import events, holds, payments, provider
from app.orders.models import (
    HistoryEntry,
    Order,
    OrderItem,
    Payment,
    ShippingAddress,
)
from app.orders.notifications import order_status_email
from app.orders.store import Session, by_idempotency_key, insert_order
from app.users.service import get_profile

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger("app.orders")

# Crockford's base32 without look-alikes: numbers read out on the phone survive.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NUMBER_ATTEMPTS = 5


def new_order_number(order_id: PydanticObjectId) -> str:
    """`SO-261123-7KQ2MX`: the day it was placed, then 6 random characters."""
    day = order_id.generation_time.strftime("%y%m%d")
    tail = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))
    return f"SO-{day}-{tail}"


class AmountOutOfRange(Invalid):
    code = ErrorCode.AMOUNT_OUT_OF_RANGE


def _refuse_unchargeable(total: int, currency: str) -> None:
    """A total the payment provider would not charge (Stripe: under 50 cents, over
    $999,999.99) would leave an order that can never be paid: refuse the checkout instead."""
    limits = provider.amount_limits(currency)
    if not limits.allows(total):
        raise AmountOutOfRange(
            f"The order total ({format_amount(total, currency)}) is outside what can be paid "
            f"online: from {format_amount(limits.minimum, currency)} to "
            f"{format_amount(limits.maximum, currency)}. Change the cart; nothing was ordered.",
            total=total,
            minimum=limits.minimum,
            maximum=limits.maximum,
            currency=currency,
        )


async def _shipping_address(
    *,
    user_id: PydanticObjectId,
    given: dict[str, Any] | None,
    address_id: str | None,
    session: Session,
) -> ShippingAddress:
    if given is not None:
        return ShippingAddress(**given)
    user = await get_profile(user_id=user_id, session=session)
    for address in user.addresses:
        if str(address.id) == address_id:
            return ShippingAddress(
                name=user.name, **address.model_dump(exclude={"id", "is_default"})
            )
    raise Invalid(
        "No such saved address.",
        errors=[{"loc": ["address_id"], "msg": "no such address in your address book"}],
    )


async def place_order(
    *,
    user: User,
    shipping_address: dict[str, Any] | None = None,
    address_id: str | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Turn the user's cart into an order and ask the payment provider for an intent.

    Raises Invalid `cart_empty`, Invalid for an unknown `address_id`, UnpaidLimitReached
    (409 `unpaid_limit_reached`: the customer holds as many unpaid orders or units as allowed;
    nothing changed), InsufficientStock (409, `lines` names every short line; nothing changed),
    AmountOutOfRange (422: the total is one the payment provider does not charge, with the
    allowed `minimum` and `maximum`; nothing changed).
    """
    settings = current_app.config["SETTINGS"]
    actor = f"user:{user.id}"
    # What the customer may hold unpaid is capped (holds.py); guests will add their address.
    hold_keys = [holds.user_key(user.id)]

    async def work(session: Session) -> Order:
        lines = await cart.checkout_lines(user_id=user.id, session=session)
        if not lines:
            if idempotency_key is not None:
                # This key's order was made by an attempt whose process died before it could
                # answer, and emptied the cart: the answer is that order. (A cart filled
                # again meets the unique key below, which answers the same.)
                made = await by_idempotency_key(user.id, idempotency_key, session=session)
                if made is not None:
                    return made
            raise Invalid("Your cart is empty.", code=ErrorCode.CART_EMPTY)
        address = await _shipping_address(
            user_id=user.id, given=shipping_address, address_id=address_id, session=session
        )
        order_id = PydanticObjectId()
        units = sum(line.quantity for line in lines)
        await holds.take(hold_keys, order_id=order_id, units=units, session=session)
        items: list[OrderItem] = []
        short = []
        inserted = False
        try:
            for line in lines:
                taken = await inventory.take_stock(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    reason="sale",
                    order_id=order_id,
                    actor=actor,
                    session=session,
                )
                if taken is None:
                    short.append((line.product_id, line.quantity))
                    continue
                product = taken.product
                items.append(
                    OrderItem(
                        product_id=product.id,
                        name=product.name,
                        slug=product.slug,
                        unit_price=product.price,
                        quantity=line.quantity,
                        line_total=product.price * line.quantity,
                        image=product.images[0].url if product.images else None,
                    )
                )
            if short:
                raise InsufficientStock(
                    "Not enough stock for some items in your cart; nothing was ordered.",
                    shortages=await inventory.shortages(short, session=session),
                )
            subtotal = sum(item.line_total for item in items)
            # Before the insert: a refusal aborts the transaction (or gives the stock back).
            _refuse_unchargeable(subtotal, settings.STORE_CURRENCY)
            order = Order(
                id=order_id,
                number=new_order_number(order_id),
                user_id=user.id,
                email=user.email,
                items=items,
                subtotal=subtotal,
                total=subtotal,
                currency=settings.STORE_CURRENCY,
                shipping_address=address,
                payment=Payment(provider=payments.provider_name()),
                history=[HistoryEntry(status="pending_payment", actor=actor)],
                idempotency_key=idempotency_key,
                hold_keys=hold_keys,
            )
            await insert_order(order, session=session)
            inserted = True
            await cart.empty(user_id=user.id, session=session)
            await order_status_email(order, session=session)
            await events.order_created(order, session=session)
            return order
        except BaseException:
            if session is None and not inserted:
                # No transaction to abort: give back what this attempt took.
                await _give_back(items, order_id=order_id, actor=actor)
                await holds.release(hold_keys, order_id=order_id, units=units)
            raise

    await holds.ensure(hold_keys)
    for attempt in range(1, _NUMBER_ATTEMPTS + 1):
        try:
            order = await db.run_in_transaction(work)
            break
        except DuplicateKeyError:
            if idempotency_key is not None:
                # Another request with this Idempotency-Key placed the order first.
                existing = await by_idempotency_key(user.id, idempotency_key)
                if existing is not None:
                    return existing
            if attempt == _NUMBER_ATTEMPTS:
                raise
            # Two orders drew the same number (about 1 in 10^9 a day): draw again.
    log.info("order %s placed (%s)", order.number, order.id)
    return await payments.ensure_intent(order)


async def _give_back(items: list[OrderItem], *, order_id: PydanticObjectId, actor: str) -> None:
    for item in items:
        await inventory.return_stock(
            product_id=item.product_id,
            quantity=item.quantity,
            reason="checkout_compensation",
            order_id=order_id,
            actor=actor,
        )
