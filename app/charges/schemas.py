"""Request and response models of shipping methods, tax rates and discount codes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
)

from app.charges.models import DiscountType, TaxClass
from app.core.pagination import PageQuery
from app.core.schemas import (
    InModel,
    Money,
    ObjectIdStr,
    OutModel,
    QueryModel,
    StrictInt,
    UTCDateTime,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 (upper or lower case)"),
]
RegionCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]{1,3}$"),
    Field(description="ISO 3166-2 subdivision without the country prefix: `CA` for California"),
]
Days = Annotated[StrictInt, Field(ge=0, le=365)]
Grams = Annotated[StrictInt, Field(ge=1, le=10_000_000)]


# Basis points (887.5 is 8.875 %), kept to the hundredth of a basis point: stored as parts
# per million, rounded half up.
RateBp = Annotated[
    float,
    Strict(),
    Field(
        ge=0,
        le=10_000,
        description="The rate in basis points (2000 is 20 %), a JSON number: 887.5 is "
        "8.875 %; kept to the hundredth of a basis point (rounded half up)",
    ),
]


def _date_time_text(value: Any) -> Any:
    # Lax pydantic reads a number as a Unix timestamp: a date-time in a body is text.
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2026-03-01T12:00:00Z")
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


DateTimeIn = Annotated[
    datetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_as_utc),
    Field(description="RFC 3339 date-time; without an offset it is UTC"),
]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    Field(description="Letters, digits, `-` and `_`; case-insensitive"),
]
Percent = Annotated[StrictInt, Field(ge=1, le=100)]


def _absent_is_not_null(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


# -- shipping methods -------------------------------------------------------------------------


class WeightTierIn(InModel):
    up_to_grams: Grams = Field(description="The tier holds carts weighing up to this much")
    price: Money


class WeightTierOut(OutModel):
    up_to_grams: int
    price: int


Countries = Annotated[
    list[CountryCode] | Literal["all"],
    Field(description='ISO 3166 alpha-2 codes the method ships to, or `"all"`'),
]


class ShippingMethodIn(InModel):
    name: Name
    price: Money = Field(description="The flat price (the weight tiers' when they are given)")
    countries: Countries
    free_over: Money | None = Field(
        default=None, description="Free when the subtotal after discounts reaches this"
    )
    min_days: Days
    max_days: Days
    weight_tiers: Annotated[list[WeightTierIn], Field(max_length=20)] | None = Field(
        default=None,
        description="Price by the cart's weight (products' `weight_grams` × quantity): the "
        "first tier holding the weight; beyond the last tier, its price",
    )
    active: StrictBool | None = Field(default=None, description="Left out: `true`.")


class ShippingMethodUpdate(InModel):
    model_config = ConfigDict(json_schema_extra=_absent_is_not_null)

    name: Name = None
    price: Money = None
    countries: Countries = None
    free_over: Money | None = None
    min_days: Days = None
    max_days: Days = None
    weight_tiers: Annotated[list[WeightTierIn], Field(max_length=20)] = None
    active: StrictBool = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class ShippingMethodOut(OutModel):
    id: str
    name: str
    price: int
    currency: str
    min_days: int
    max_days: int
    free_over: int | None


class AdminShippingMethodOut(ShippingMethodOut):
    countries: list[str] | Literal["all"]
    weight_tiers: list[WeightTierOut]
    active: bool
    created_at: UTCDateTime
    updated_at: UTCDateTime


class DestinationQuery(QueryModel):
    country: CountryCode | None = Field(
        default=None, description="Left out: every active method, wherever it ships"
    )
    region: RegionCode | None = None


# -- tax rates --------------------------------------------------------------------------------


class TaxRateIn(InModel):
    country: CountryCode
    region: RegionCode | None = None
    tax_class: TaxClass | None = Field(default=None, description="Left out: `standard`.")
    rate_bp: RateBp
    name: Name
    applies_to_shipping: StrictBool | None = Field(default=None, description="Left out: `false`.")


class TaxRateUpdate(InModel):
    model_config = ConfigDict(json_schema_extra=_absent_is_not_null)

    country: CountryCode = None
    region: RegionCode | None = None
    tax_class: TaxClass = None
    rate_bp: RateBp = None
    name: Name = None
    applies_to_shipping: StrictBool = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class TaxRateOut(OutModel):
    id: str
    country: str
    region: str | None
    tax_class: TaxClass
    rate_bp: float = Field(description="Basis points (2000 is 20 %)")
    name: str
    applies_to_shipping: bool
    created_at: UTCDateTime
    updated_at: UTCDateTime


class TaxRateQuery(PageQuery, QueryModel):
    country: CountryCode | None = None


# -- discount codes ---------------------------------------------------------------------------


class DiscountIn(InModel):
    code: Code
    type: DiscountType
    value: StrictInt | None = Field(
        default=None,
        ge=1,
        le=100_000_000_00,
        description="Whole percent for `percent` (10 is 10 %, at most 100); minor units for "
        "`fixed`; absent for `free_shipping`",
    )
    min_subtotal: Money | None = None
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    usage_limit: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)] | None = None
    usage_limit_per_customer: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    product_ids: Annotated[list[ObjectIdStr], Field(max_length=100)] | None = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = Field(
        default=None, description="Category id or slug (its sub-categories included)"
    )
    active: StrictBool | None = Field(default=None, description="Left out: `true`.")


def check_value(kind: str | None, value: int | None) -> None:
    if kind == "free_shipping" and value is not None:
        raise ValueError("a free_shipping code has no value")
    if kind in ("percent", "fixed") and value is None:
        raise ValueError(f"a {kind} code needs a value")
    if kind == "percent" and value is not None and value > 100:
        raise ValueError("a percent code takes at most 100")


class DiscountUpdate(InModel):
    model_config = ConfigDict(json_schema_extra=_absent_is_not_null)

    code: Code = None
    type: DiscountType = None
    value: Annotated[StrictInt, Field(ge=1, le=100_000_000_00)] | None = None
    min_subtotal: Money | None = None
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    usage_limit: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)] | None = None
    usage_limit_per_customer: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    product_ids: Annotated[list[ObjectIdStr], Field(max_length=100)] | None = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    active: StrictBool = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class DiscountOut(OutModel):
    id: str
    code: str
    type: DiscountType
    value: int | None
    min_subtotal: int | None
    starts_at: UTCDateTime | None
    ends_at: UTCDateTime | None
    usage_limit: int | None
    usage_limit_per_customer: int | None
    product_ids: list[str]
    category: str | None = Field(description="The category's id")
    active: bool
    times_used: int = Field(
        description="Read-only: orders placed with the code, less those cancelled or fully refunded"
    )
    created_at: UTCDateTime
    updated_at: UTCDateTime


class DiscountQuery(PageQuery, QueryModel):
    pass
