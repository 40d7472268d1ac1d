"""Request and response bodies of the admin inventory routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.catalog.stock_fields import MAX_STOCK
from app.core.clock import as_utc
from app.core.pagination import PageQuery
from app.core.schemas import (
    DateTimeQuery,
    InModel,
    ObjectIdStr,
    OutModel,
    QueryModel,
    StrictInt,
    UTCDateTime,
)

MAX_REASON_LENGTH = 200
Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON_LENGTH)]
# Within the store's maximum stock either way, so `stock + delta` stays far inside int64.
Delta = Annotated[
    StrictInt,
    Field(ge=-MAX_STOCK, le=MAX_STOCK, description="Units to add (negative: remove); not 0"),
]
StockLevel = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    # Optional request fields: leaving one out is not the same as sending a default.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", "absent") is None:
            del prop["default"]


def _exactly_one_change(schema: dict[str, Any]) -> None:
    # What `_one_change` checks, in the schema: one of the two, and a delta is never 0.
    _no_null_defaults(schema)
    schema["oneOf"] = [{"required": ["delta"]}, {"required": ["set"]}]
    schema["properties"]["delta"]["not"] = {"const": 0}


class StockAdjustmentIn(InModel):
    """Exactly one of `delta` (add or remove units) or `set` (the counted stock), and why."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_change)

    # Left out when unused; an explicit `null` is refused (defaults are not validated, so it
    # fails with the field's own type error).
    delta: Delta = None
    set_to: StockLevel = Field(default=None, alias="set", description="The new stock")
    variant_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        default=None, description="The variant; optional for a product with one"
    )
    reason: Reason = Field(description="Why the stock changes (kept in the stock ledger)")

    @model_validator(mode="after")
    def _one_change(self) -> StockAdjustmentIn:
        if (self.delta is None) == (self.set_to is None):
            raise ValueError("give exactly one of delta or set")
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class MovementQuery(PageQuery, QueryModel):
    """Ledger filters; each is served by an index of the movements (see StockMovement)."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    product_id: ObjectIdStr | None = None
    reason: Reason | None = Field(default=None, description="Exact reason, e.g. `sale`")
    at_from: DateTimeQuery | None = Field(default=None, description="Movements at or after (UTC)")
    at_to: DateTimeQuery | None = Field(default=None, description="Movements at or before (UTC)")

    @model_validator(mode="after")
    def _range(self) -> MovementQuery:
        if self.at_from and self.at_to and as_utc(self.at_to) < as_utc(self.at_from):
            raise ValueError("at_to must not be before at_from")
        return self


class LowStockQuery(PageQuery, QueryModel):
    """`?page=&per_page=`."""


class MovementOut(OutModel):
    id: ObjectIdStr
    product_id: ObjectIdStr
    product_name: str | None = Field(description="null when the product no longer exists")
    variant_id: str | None = Field(default=None, description="null on rows from before variants")
    sku: str | None = None
    delta: int
    stock_after: int
    reason: str
    actor: str | None
    order_id: ObjectIdStr | None
    at: UTCDateTime


class StockLevelOut(OutModel):
    """A product's stock after an adjustment, and the ledger row that records it."""

    product_id: ObjectIdStr
    name: str
    stock: int
    low_stock_threshold: int
    stock_status: Literal["in_stock", "low_stock", "out_of_stock"]
    movement: MovementOut
    variant_id: str
    sku: str
    options: dict[str, str]
    variant_stock: int = Field(description="The adjusted variant's stock (`stock`: the product's)")


class LowStockItemOut(OutModel):
    id: ObjectIdStr
    slug: str
    name: str
    stock: int
    low_stock_threshold: int
    stock_status: Literal["in_stock", "low_stock", "out_of_stock"]
    updated_at: UTCDateTime
