"""Shipping methods, tax rates and discount codes, and each customer's uses of a code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.core.clock import utcnow

TaxClass = Literal["standard", "reduced", "zero"]
DiscountType = Literal["percent", "fixed", "free_shipping"]


class WeightTier(BaseModel):
    up_to_grams: int
    price: int


class ShippingMethod(Document):
    if TYPE_CHECKING:
        id: PydanticObjectId

    name: str
    price: int
    # ISO 3166 alpha-2, upper case; `all_countries` ships anywhere.
    countries: list[str] = Field(default_factory=list)
    all_countries: bool = False
    free_over: int | None = None
    min_days: int = 0
    max_days: int = 0
    weight_tiers: list[WeightTier] = Field(default_factory=list)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "shipping_methods"
        indexes = [
            # The public list for a destination: active methods naming the country, and those
            # shipping anywhere; the admin list (name order).
            IndexModel([("active", ASCENDING), ("countries", ASCENDING)], name="active_country"),
            IndexModel([("active", ASCENDING), ("all_countries", ASCENDING)], name="active_all"),
            IndexModel([("name", ASCENDING), ("_id", ASCENDING)], name="name"),
        ]


class TaxRate(Document):
    if TYPE_CHECKING:
        id: PydanticObjectId

    country: str  # ISO 3166 alpha-2, upper case
    region: str | None = None  # ISO 3166-2 subdivision without the country prefix
    tax_class: TaxClass = "standard"
    # Parts per million (basis points × 100): 8.875 % is 88,750, exactly.
    rate_ppm: int
    name: str
    applies_to_shipping: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "tax_rates"
        indexes = [
            # One rate per destination and class; the lookup of a destination's rates and the
            # admin list by country.
            IndexModel(
                [("country", ASCENDING), ("region", ASCENDING), ("tax_class", ASCENDING)],
                unique=True,
                name="destination_class",
            ),
        ]


class Discount(Document):
    if TYPE_CHECKING:
        id: PydanticObjectId

    code: str  # as the admin wrote it
    code_key: str  # case-folded: the unique key codes are found by
    type: DiscountType
    value: int = 0
    min_subtotal: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    usage_limit_per_customer: int | None = None
    product_ids: list[PydanticObjectId] = Field(default_factory=list)
    category_id: PydanticObjectId | None = None
    active: bool = True
    times_used: int = 0
    # usage_limit − times_used, kept with every use (None: no limit): the guard of the
    # conditional decrement, so a code is never used more than its limit under any race.
    uses_left: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "discounts"
        indexes = [
            IndexModel([("code_key", ASCENDING)], unique=True, name="code_key"),
            IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="created"),
        ]


class DiscountUse(Document):
    """One customer's uses of one code (`customer`: `user:<id>` or `email:<address>`), with
    the orders that used it: the guard of the per-customer limit."""

    discount_id: PydanticObjectId
    customer: str
    uses: int = 0
    orders: list[PydanticObjectId] = Field(default_factory=list)

    class Settings:
        name = "discount_uses"
        indexes = [
            IndexModel(
                [("discount_id", ASCENDING), ("customer", ASCENDING)],
                unique=True,
                name="discount_customer",
            ),
        ]
