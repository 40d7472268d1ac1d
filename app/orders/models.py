"""Orders: what was bought, at what price, where it goes, how it was paid, what happened."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

OrderStatus = Literal[
    "pending_payment", "paid", "processing", "shipped", "delivered", "cancelled", "refunded"
]
# What the payment provider last told us (or what we are waiting for).
PaymentStatus = Literal[
    "intent_failed",  # the provider could not be reached at checkout: `/pay` creates it
    "requires_payment",  # an intent exists, nothing confirmed yet
    "processing",  # a confirmation is in flight
    "declined",
    "succeeded",
    "partially_refunded",
    "refund_pending",  # a refund is owed and not yet confirmed by the provider
    # A cancelled (or refunded) order's money is owed: the provider refused to give it back,
    # or a refund failed after it succeeded (the job asks again until `refund_retry_at` is
    # None; an admin can refund it).
    "refund_failed",
    "refunded",
    "cancelled",  # the intent was cancelled (order cancelled before payment)
    "amount_mismatch",  # the provider reported a payment that does not match: for an admin
]
RefundStatus = Literal["pending", "succeeded", "failed"]
# Every order list's order, `_id` breaking ties so pages never overlap; the indexes end in it.
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]


class OrderItem(BaseModel):
    """A snapshot of the product as it was sold: later catalog edits do not change it."""

    product_id: PydanticObjectId
    # The variant sold (orders from before variants: None, the product's one variant).
    variant_id: str | None = None
    sku: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    name: str
    slug: str
    unit_price: int
    quantity: int
    line_total: int
    image: str | None = None
    # Priced checkout (issue 19): the line's share of the discount and its tax, with the rate
    # charged (parts per million), so a later rate change never changes a placed order.
    discount: int = 0
    tax: int = 0
    tax_class: str = "standard"
    tax_rate_ppm: int = 0
    tax_rate_name: str | None = None


class OrderShippingMethod(BaseModel):
    """A copy of the shipping method as it was chosen."""

    id: PydanticObjectId
    name: str
    price: int  # what the method cost before a threshold or a free-shipping code
    min_days: int
    max_days: int


class OrderDiscount(BaseModel):
    """The code the order used; `released` once a cancel or full refund gave its use back."""

    id: PydanticObjectId
    code: str
    type: str
    value: int
    customer: str | None = None  # the per-customer counter it was counted on
    released: bool = False


class ShippingAddress(BaseModel):
    name: str | None = None
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    region: str | None = None
    phone: str | None = None


class Refund(BaseModel):
    id: PydanticObjectId = Field(default_factory=PydanticObjectId)
    amount: int
    reason: str | None = None
    status: RefundStatus = "pending"
    provider_refund_id: str | None = None
    restock: bool = False
    actor: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Why the provider refused it (its decline or error code, or its message), and when.
    failure_reason: str | None = None
    failed_at: datetime | None = None


class PaymentDispute(BaseModel):
    """A dispute (chargeback or inquiry) of the order's payment, as the provider last told us."""

    id: str  # the provider's, e.g. "dp_…"
    amount: int
    currency: str
    reason: str | None = None
    status: str  # the provider's: needs_response, under_review, won, lost, ...
    charge_id: str | None = None
    created_at: datetime  # when it was opened
    closed_at: datetime | None = None
    # When the provider made the event last applied: an older event arriving late is ignored.
    updated_at: datetime


class Payment(BaseModel):
    provider: str
    intent_id: str | None = None
    client_secret: str | None = None
    status: PaymentStatus = "requires_payment"
    failure_reason: str | None = None
    # When the current confirmation started: the expiry job leaves such orders alone a while.
    attempt_started_at: datetime | None = None
    # What the provider reported it took when that is not the total (`amount_mismatch`: an
    # under- or overpayment); None when it took the total. All a cancel gives back.
    amount_received: int | None = None
    # Booked refunds (pending ones included): never more than what was taken (`taken`).
    amount_refunded: int = 0
    refunds: list[Refund] = Field(default_factory=list)
    # Bumped on every change to `refunds`: the guard of their read-modify-write.
    refunds_version: int = 0
    # When the background job next asks the provider for money a cancelled order still owes
    # (`refund_failed`); None when nothing is owed or its attempts are used up.
    refund_retry_at: datetime | None = None
    disputes: list[PaymentDispute] = Field(default_factory=list)
    # Bumped on every change to `disputes`: the guard of their read-modify-write.
    disputes_version: int = 0


class HistoryEntry(BaseModel):
    status: OrderStatus
    at: datetime = Field(default_factory=utcnow)
    actor: str | None = None  # "customer", "admin:<id>", "system", "provider"
    note: str | None = None


class Order(Document):
    if TYPE_CHECKING:
        # For the type checker only: an order the services hold has been inserted, so its id
        # is set (Beanie types `id` Optional for documents not yet saved).
        id: PydanticObjectId

    number: str
    # None for a guest's order until its email address is verified by an account's owner
    # (then the order joins that account: auth's verification sets it, index `email_newest`).
    user_id: PydanticObjectId | None = None
    email: str
    status: OrderStatus = "pending_payment"
    items: list[OrderItem]
    subtotal: int
    shipping_total: int = 0
    # Priced checkout (issue 19): the quote as charged (app/pricing/engine.py).
    discount_total: int = 0
    tax_total: int = 0
    shipping_tax: int = 0
    shipping_discount: int = 0
    prices_include_tax: bool = False
    shipping_method: OrderShippingMethod | None = None
    discount: OrderDiscount | None = None
    total: int
    currency: str
    shipping_address: ShippingAddress
    payment: Payment
    tracking_number: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    # The Idempotency-Key of the checkout that created it: a second order for one key is
    # refused by the unique index below, whatever happened to the idempotency record.
    idempotency_key: str | None = None
    # The unpaid holds (app/orders/holds.py) this order took at checkout and gives back when
    # it leaves `pending_payment`; empty for orders placed before holds existed.
    hold_keys: list[str] = Field(default_factory=list)
    # A guest's order: the SHA-256 of its `Order-Token` (the token is shown once, at checkout,
    # and in the confirmation email's link); None for an order placed signed in.
    guest_token_hash: str | None = None
    # The random nonce the token was derived from (orders/guest_tokens.py): with SECRET_KEY
    # it gives the token back for the order's later emails; useless without the key.
    guest_token_nonce: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_guest(self) -> bool:
        return self.guest_token_hash is not None

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def taken(self) -> int:
        """What the provider took for the order: its total, or what it reported when that
        did not match (`amount_mismatch`: `payment.amount_received`)."""
        received = self.payment.amount_received
        return self.total if received is None else received

    @property
    def refundable(self) -> int:
        """What is left to give back of what was taken (booked refunds, pending ones
        included, are already out of it; negative when the provider refunded more than we
        thought was left)."""
        return self.taken - self.payment.amount_refunded

    class Settings:
        name = "orders"
        indexes = [
            IndexModel([("number", ASCENDING)], unique=True, name="number"),
            # My orders, newest first; the admin `?user_id=` filter.
            IndexModel([("user_id", ASCENDING), *NEWEST_FIRST], name="user_newest"),
            # The admin `?email=` filter: a customer's orders, newest first; the guest orders
            # of an address joining the account that verifies it.
            IndexModel([("email", ASCENDING), *NEWEST_FIRST], name="email_newest"),
            # Admin list by status, newest first; the expiry sweep (status + created_at).
            IndexModel([("status", ASCENDING), *NEWEST_FIRST], name="status_newest"),
            # Admin list unfiltered, and date ranges.
            IndexModel(NEWEST_FIRST, name="newest"),
            # "Has this user a delivered order with this product?" (verified reviews).
            IndexModel(
                [("user_id", ASCENDING), ("items.product_id", ASCENDING), ("status", ASCENDING)],
                name="user_product_status",
            ),
            # Webhooks and reconciliation find the order of a payment intent.
            IndexModel([("payment.intent_id", ASCENDING)], name="payment_intent"),
            # The background job that asks the provider again about refunds left pending.
            IndexModel([("payment.refunds.status", ASCENDING)], name="refund_status"),
            # The job that asks again for the money of cancelled orders whose refund failed.
            IndexModel(
                [("payment.status", ASCENDING), ("payment.refund_retry_at", ASCENDING)],
                name="refund_retry",
            ),
            IndexModel(
                [("user_id", ASCENDING), ("idempotency_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="user_idempotency_key",
            ),
        ]


class HeldOrder(BaseModel):
    order_id: PydanticObjectId
    units: int


class UnpaidHold(Document):
    """What one holder (`user:<id>`; guests `ip:<hash>` and `email:<hash>`) keeps reserved in orders
    awaiting payment: the orders, and their count and units kept with them in every update
    (the guards of app/orders/holds.py read the counts)."""

    key: Annotated[str, Indexed(unique=True)]
    orders: int = 0
    units: int = 0
    held: list[HeldOrder] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "unpaid_holds"
