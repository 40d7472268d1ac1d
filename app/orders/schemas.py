"""Request and response bodies of `/api/v1/orders` and `/api/v1/admin/orders`."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from app.auth.common import normalize_email
from app.auth.schemas import (
    City,
    Country,
    Line,
    Name,
    NewEmail,
    OptionalLine,
    Phone,
    PostalCode,
    Region,
)
from app.core.pagination import PageQuery
from app.core.schemas import (
    DateTimeQuery,
    InModel,
    Money,
    ObjectIdStr,
    OutModel,
    QueryModel,
    UTCDateTime,
)
from app.orders.models import Order, OrderStatus, PaymentStatus, RefundStatus

Note = Annotated[str, StringConstraints(min_length=1, max_length=500)]
TrackingNumber = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]*$")
]
# Stripe's PaymentMethod ids (`pm_…`), including its test ids such as `pm_card_visa`.
PaymentMethodId = Annotated[
    str, StringConstraints(min_length=4, max_length=255, pattern=r"^pm_[A-Za-z0-9_]+$")
]
OrderNumberQuery = Annotated[str, StringConstraints(min_length=1, max_length=32)]
# The admin's customer filter: one whole address, in the form orders store it (the account's).
CustomerEmailQuery = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"),
    AfterValidator(normalize_email),
]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    # Optional request fields: leaving one out is not the same as sending a default.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", "absent") is None:
            del prop["default"]


class ShippingAddressIn(InModel):
    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    name: Name | None = None
    line1: Line
    line2: OptionalLine | None = None
    city: City
    postal_code: PostalCode
    country: Country
    region: Region | None = None
    phone: Phone | None = None


def _exactly_one_address(schema: dict[str, Any]) -> None:
    # What `_one_address` checks, in the schema: exactly one of the two is given.
    _no_null_defaults(schema)
    schema["oneOf"] = [{"required": ["shipping_address"]}, {"required": ["address_id"]}]


class CheckoutIn(InModel):
    """Exactly one of `shipping_address` or `address_id` (a saved address of yours). A guest
    (no login, `Cart-Token`) gives `email` and `shipping_address`."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_address)

    # Left out when unused; an explicit `null` is refused (defaults are not validated, so it
    # fails with the field's own type error).
    shipping_address: ShippingAddressIn = None
    address_id: ObjectIdStr = None
    shipping_method_id: ObjectIdStr = Field(
        default=None,
        description="The shipping method (`GET /shipping-methods` for the address): required "
        "when one ships there (422 `shipping_method_required`)",
    )
    email: NewEmail = Field(
        default=None,
        description="A guest's email address (the order's emails go there); required without "
        "a login, ignored with one",
    )

    @model_validator(mode="after")
    def _one_address(self) -> CheckoutIn:
        if (self.shipping_address is None) == (self.address_id is None):
            raise ValueError("give exactly one of shipping_address or address_id")
        return self


class PayIn(InModel):
    payment_method: PaymentMethodId


def _shipping_needs_tracking(schema: dict[str, Any]) -> None:
    _no_null_defaults(schema)
    # What the service enforces, said in the schema: `shipped` comes with a tracking number.
    schema["if"] = {"properties": {"status": {"const": "shipped"}}, "required": ["status"]}
    schema["then"] = {"required": ["tracking_number"]}


class StatusChangeIn(InModel):
    """`tracking_number` is required when `status` is `shipped`."""

    model_config = ConfigDict(json_schema_extra=_shipping_needs_tracking)

    status: OrderStatus
    tracking_number: TrackingNumber | None = None
    note: Note | None = None


class RefundIn(InModel):
    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    amount: Annotated[Money, Field(ge=1)] | None = None
    reason: Note | None = None


class OrderQuery(PageQuery, QueryModel):
    """Admin filters; every combination is served by an index (see Order.Settings)."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    status: OrderStatus | None = None
    user_id: ObjectIdStr | None = None
    q: OrderNumberQuery | None = Field(default=None, description="Order number (or its start)")
    email: CustomerEmailQuery | None = Field(
        default=None,
        description="The customer's email address (whole, any case): their orders",
    )
    created_from: DateTimeQuery | None = None
    created_to: DateTimeQuery | None = None

    @model_validator(mode="after")
    def _range(self) -> OrderQuery:
        if self.created_from and self.created_to and self.created_to < self.created_from:
            raise ValueError("created_to must not be before created_from")
        return self


class OrderItemOut(OutModel):
    product_id: ObjectIdStr
    variant_id: str | None = Field(description="null on orders from before variants")
    sku: str | None
    options: dict[str, str]
    name: str
    slug: str
    image: str | None
    unit_price: int
    quantity: int
    line_total: int
    discount: int = Field(description="The line's share of the discount")
    tax: int = Field(description="The line's tax (included in or added to its price)")
    tax_class: str
    tax_rate_bp: float = Field(description="The rate charged, basis points (2000 is 20 %)")
    tax_rate_name: str | None


class OrderShippingMethodOut(OutModel):
    id: ObjectIdStr
    name: str
    price: int = Field(description="The method's price, before a threshold or free-shipping code")
    min_days: int
    max_days: int


class OrderDiscountOut(OutModel):
    code: str
    type: str
    value: int


class ShippingAddressOut(OutModel):
    name: str | None
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str
    region: str | None
    phone: str | None


class RefundOut(OutModel):
    id: ObjectIdStr
    amount: int
    reason: str | None
    status: RefundStatus
    created_at: UTCDateTime
    failure_reason: str | None = Field(description="Why the provider refused it, when it did.")


class PaymentOut(OutModel):
    provider: str
    intent_id: str | None
    client_secret: str | None
    status: PaymentStatus
    failure_reason: str | None
    amount_received: int | None = Field(
        description="What the provider took when it is not the total (`amount_mismatch`: "
        "an under- or overpayment): what a cancel gives back. Null when it took the total."
    )
    amount_refunded: int
    refunds: list[RefundOut]
    refund_retry_at: UTCDateTime | None = Field(
        description="When the money a cancelled order still owes (`refund_failed`) is asked "
        "of the provider again; null when nothing is owed or the retries are used up."
    )


class DisputeOut(OutModel):
    id: str = Field(description="The provider's dispute id (`dp_…`)")
    amount: int = Field(description="Disputed amount, minor units")
    currency: str
    reason: str | None = Field(description="The provider's reason, e.g. `fraudulent`")
    status: str = Field(
        description="The provider's status: `warning_needs_response`, `warning_under_review`, "
        "`needs_response`, `under_review` (open); `won`, `lost`, `warning_closed`, `prevented` "
        "(closed)"
    )
    charge_id: str | None
    created_at: UTCDateTime = Field(description="When it was opened")
    closed_at: UTCDateTime | None
    updated_at: UTCDateTime = Field(description="When the provider last reported on it")


class AdminPaymentOut(PaymentOut):
    """The payment as admins see it: with its disputes (chargebacks), oldest first."""

    disputes: list[DisputeOut]


class HistoryOut(OutModel):
    status: OrderStatus
    at: UTCDateTime
    note: str | None


class OrderOut(OutModel):
    id: ObjectIdStr
    number: str
    status: OrderStatus
    items: list[OrderItemOut]
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int = Field(description="Line taxes plus `shipping_tax`")
    shipping_tax: int
    shipping_discount: int = Field(description="What a free-shipping code took off")
    prices_include_tax: bool = Field(
        description="true: `total` = subtotal − discount_total + shipping_total, tax inside; "
        "false: tax_total is added on top"
    )
    total: int
    currency: str
    shipping_method: OrderShippingMethodOut | None
    discount: OrderDiscountOut | None
    shipping_address: ShippingAddressOut
    payment: PaymentOut
    tracking_number: str | None
    history: list[HistoryOut]
    created_at: UTCDateTime
    updated_at: UTCDateTime
    order_token: str | None = Field(
        default=None,
        description="A guest's checkout only: the order's token, shown this once (send it as "
        "`Order-Token` to read, pay or cancel the order; the confirmation email's link has "
        "it). Null on every other answer, an Idempotency-Key replay included",
    )

    # Never kept in an Idempotency-Key record (app/core/idempotency.py).
    NOT_REPLAYED: ClassVar[tuple[str, ...]] = ("order_token",)

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        data = order.model_dump()
        data["id"] = str(order.id)
        for item in data["items"]:
            item["product_id"] = str(item["product_id"])
            item["tax_rate_bp"] = item.pop("tax_rate_ppm") / 100
        if data["shipping_method"] is not None:
            data["shipping_method"]["id"] = str(data["shipping_method"]["id"])
        for refund in data["payment"]["refunds"]:
            refund["id"] = str(refund["id"])
        return cls.model_validate(data)


class AdminHistoryOut(HistoryOut):
    actor: str | None


class AdminOrderOut(OrderOut):
    """An order as admins see it: whose it is and who changed it."""

    user_id: ObjectIdStr | None = Field(description="null: a guest's order")
    email: str
    payment: AdminPaymentOut
    history: list[AdminHistoryOut]

    @classmethod
    def of(cls, order: Order) -> AdminOrderOut:
        base = OrderOut.of(order).model_dump()
        base["user_id"] = str(order.user_id) if order.user_id is not None else None
        base["email"] = order.email
        base["payment"]["disputes"] = [dispute.model_dump() for dispute in order.payment.disputes]
        base["history"] = [entry.model_dump() for entry in order.history]
        return cls.model_validate(base)


class OrderSummaryOut(OutModel):
    """An order in a list: enough for a history page."""

    id: ObjectIdStr
    number: str
    status: OrderStatus
    item_count: int
    total: int
    currency: str
    payment_status: PaymentStatus
    created_at: UTCDateTime

    @classmethod
    def of(cls, order: Order) -> OrderSummaryOut:
        return cls(
            id=str(order.id),
            number=order.number,
            status=order.status,
            item_count=sum(item.quantity for item in order.items),
            total=order.total,
            currency=order.currency,
            payment_status=order.payment.status,
            created_at=order.created_at,
        )


class AdminOrderSummaryOut(OrderSummaryOut):
    user_id: ObjectIdStr | None = Field(description="null: a guest's order")
    email: str

    @classmethod
    def of(cls, order: Order) -> AdminOrderSummaryOut:
        return cls(
            **OrderSummaryOut.of(order).model_dump(),
            user_id=str(order.user_id) if order.user_id is not None else None,
            email=order.email,
        )
