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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.cart import service as cart
from app.catalog.models import Product
from app.charges import discounts
from app.charges.models import Discount
from app.core import db
from app.core.money import format_amount
from app.core.security import token_digest
from app.errors import ErrorCode, Invalid
from app.inventory import stock as inventory
from app.inventory.errors import InsufficientStock
from app.orders import events, guest_tokens, holds, payments, provider
from app.orders import pricing as order_pricing
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
    user_id: PydanticObjectId | None,
    given: dict[str, Any] | None,
    address_id: str | None,
    session: Session,
) -> ShippingAddress:
    if given is not None:
        return ShippingAddress(**given)
    if user_id is None:
        raise Invalid(
            "A guest gives the shipping address itself.",
            errors=[{"loc": ["shipping_address"], "msg": "required without a login"}],
        )
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


@dataclass(frozen=True)
class Guest:
    """A checkout without an account: the guest cart (`cart.Owner.of_guest`), the email the
    order's mail goes to (normalised), and the client address its unpaid hold counts on."""

    cart: cart.Owner
    email: str
    client_address: str | None


@dataclass(frozen=True)
class Placed:
    order: Order
    # A guest's order: its Order-Token, shown this once (stored only as its SHA-256).
    order_token: str | None = None


async def place_order(
    *,
    user: User | None = None,
    guest: Guest | None = None,
    shipping_address: dict[str, Any] | None = None,
    address_id: str | None = None,
    idempotency_key: str | None = None,
    shipping_method_id: PydanticObjectId | None = None,
) -> Placed:
    """Turn the user's (or the guest's) cart into an order and ask the payment provider for
    an intent.

    A guest's order has no `user_id`, the guest's `email`, and a fresh Order-Token (its hash
    on the order, the token in the confirmation email queued in the same transaction and in
    the answer); its unpaid hold counts per client address and per email; its
    Idempotency-Key is scoped to the guest cart. Raises CartNotFound for an unknown Cart-Token.

    Raises Invalid `cart_empty`, Invalid for an unknown `address_id`, UnpaidLimitReached
    (409 `unpaid_limit_reached`: the customer holds as many unpaid orders or units as allowed;
    nothing changed), InsufficientStock (409, `lines` names every short line; nothing changed),
    AmountOutOfRange (422: the total is one the payment provider does not charge, with the
    allowed `minimum` and `maximum`; nothing changed); from the pricing step (nothing
    changed): Invalid `shipping_method_required` or `shipping_method_unavailable`,
    DiscountInvalid (422 `discount_invalid`: the code on the cart cannot be used now, e.g.
    its last use went to another order).
    """
    settings = current_app.config["SETTINGS"]
    order_token: str | None = None
    token_nonce: str | None = None
    # Drawn before the transaction: a guest's Order-Token is derived from the order's id.
    order_id = PydanticObjectId()
    if guest is not None:
        owner = guest.cart
        user_id = None
        email = guest.email
        # The guest's key is scoped to the cart (two guests may both send "1").
        cart_id = await cart.guest_cart_id(owner)
        order_key = f"guest-cart:{cart_id}:{idempotency_key}" if idempotency_key else None
        actor = "guest"
        # What a guest may hold unpaid is capped per client address and per email address.
        hold_keys = [holds.ip_key(guest.client_address), holds.email_key(guest.email)]
        order_token, token_nonce = guest_tokens.issue(order_id)
    else:
        if user is None:
            raise ValueError("place_order needs a user or a guest")
        owner = cart.Owner.of_user(user.id)
        user_id = user.id
        email = user.email
        order_key = idempotency_key
        actor = f"user:{user.id}"
        # What the customer may hold unpaid is capped (holds.py).
        hold_keys = [holds.user_key(user.id)]
    customer = order_pricing.customer_key(user_id=user_id, email=email)

    async def work(session: Session) -> Order:
        contents = await cart.checkout_contents(owner=owner, session=session)
        lines = contents.lines
        if not lines:
            if order_key is not None:
                # This key's order was made by an attempt whose process died before it could
                # answer, and emptied the cart: the answer is that order. (A cart filled
                # again meets the unique key below, which answers the same.)
                made = await by_idempotency_key(user_id, order_key, session=session)
                if made is not None:
                    return made
            raise Invalid("Your cart is empty.", code=ErrorCode.CART_EMPTY)
        if user_id is None and shipping_address is not None:
            address = ShippingAddress(**shipping_address)
        else:
            address = await _shipping_address(
                user_id=user_id, given=shipping_address, address_id=address_id, session=session
            )
        units = sum(line.quantity for line in lines)
        await holds.take(hold_keys, order_id=order_id, units=units, session=session)
        items: list[OrderItem] = []
        bought: list[Product] = []
        short = []
        inserted = False
        redeemed: Discount | None = None
        try:
            for line in lines:
                taken = await inventory.take_stock(
                    product_id=line.product_id,
                    variant_id=line.variant_key,
                    quantity=line.quantity,
                    reason="sale",
                    order_id=order_id,
                    actor=actor,
                    session=session,
                )
                if taken is None:
                    short.append((line.product_id, line.variant_key, line.quantity))
                    continue
                product, variant = taken.product, taken.variant
                unit_price = product.price_of(variant)
                items.append(
                    OrderItem(
                        product_id=product.id,
                        variant_id=variant.id,
                        sku=variant.sku,
                        options=product.options_of(variant),
                        name=product.name,
                        slug=product.slug,
                        unit_price=unit_price,
                        quantity=line.quantity,
                        line_total=unit_price * line.quantity,
                        image=product.images[0].url if product.images else None,
                    )
                )
                bought.append(product)
            if short:
                raise InsufficientStock(
                    "Not enough stock for some items in your cart; nothing was ordered.",
                    shortages=await inventory.shortages(short, session=session),
                )
            # The quote's own pricing (app/cart/quote.py), strictly: what was shown is charged.
            priced = await order_pricing.price_items(
                items,
                bought,
                address=address,
                shipping_method_id=shipping_method_id,
                code=contents.discount_code,
                customer=customer,
                session=session,
            )
            money = order_pricing.priced_fields(items, priced, customer=customer)
            # Before the insert: a refusal aborts the transaction (or gives the stock back).
            _refuse_unchargeable(money["total"], settings.STORE_CURRENCY)
            if priced.discount is not None:
                # The guarded count of the code's uses: of racing checkouts for its last use,
                # one counts it and the others are refused here (DiscountInvalid `used_up`).
                await discounts.redeem(
                    priced.discount, order_id=order_id, customer=customer, session=session
                )
                redeemed = priced.discount
            order = Order(
                id=order_id,
                number=new_order_number(order_id),
                user_id=user_id,
                email=email,
                items=items,
                **money,
                currency=settings.STORE_CURRENCY,
                shipping_address=address,
                payment=Payment(provider=payments.provider_name()),
                history=[HistoryEntry(status="pending_payment", actor=actor)],
                idempotency_key=order_key,
                hold_keys=hold_keys,
                guest_token_hash=token_digest(order_token) if order_token else None,
                guest_token_nonce=token_nonce,
            )
            await insert_order(order, session=session)
            inserted = True
            await cart.empty(owner=owner, session=session)
            # A guest's link carries the token: it is known only now, in this transaction.
            await order_status_email(order, order_token=order_token, session=session)
            await events.order_created(order, session=session)
            return order
        except BaseException:
            if session is None and not inserted:
                # No transaction to abort: give back what this attempt took.
                await _give_back(items, order_id=order_id, actor=actor)
                await holds.release(hold_keys, order_id=order_id, units=units)
                if redeemed is not None:
                    await discounts.release(
                        discount_id=redeemed.id, customer=customer, order_id=order_id
                    )
            raise

    await holds.ensure(hold_keys)
    for attempt in range(1, _NUMBER_ATTEMPTS + 1):
        try:
            order = await db.run_in_transaction(work)
            break
        except DuplicateKeyError:
            if order_key is not None:
                # Another request with this Idempotency-Key placed the order first.
                existing = await by_idempotency_key(user_id, order_key)
                if existing is not None:
                    return Placed(existing)
            if attempt == _NUMBER_ATTEMPTS:
                raise
            # Two orders drew the same number (about 1 in 10^9 a day): draw again.
    log.info("order %s placed (%s)", order.number, order.id)
    if order_token is not None and order.guest_token_hash != token_digest(order_token):
        order_token = None  # an earlier attempt's order (Idempotency-Key): its token was shown
    return Placed(await payments.ensure_intent(order), order_token)


async def _give_back(items: list[OrderItem], *, order_id: PydanticObjectId, actor: str) -> None:
    for item in items:
        await inventory.return_stock(
            product_id=item.product_id,
            variant_id=item.variant_id,
            quantity=item.quantity,
            reason="checkout_compensation",
            order_id=order_id,
            actor=actor,
        )
