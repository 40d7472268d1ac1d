"""The cart: one per user, lines of product and quantity (prices are read live)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field

from app.core.clock import utcnow

MAX_LINE_QUANTITY = 99
MAX_LINES = 100


class CartLine(BaseModel):
    product_id: PydanticObjectId
    # The variant (lines from before variants: None, the product's one variant).
    variant_id: str | None = None
    quantity: int

    @property
    def variant_key(self) -> str:
        return self.variant_id or str(self.product_id)

    added_at: datetime = Field(default_factory=utcnow)


class Cart(Document):
    user_id: Annotated[PydanticObjectId, Indexed(unique=True)]
    lines: list[CartLine] = Field(default_factory=list)
    # Bumped on every write: the guard of optimistic concurrency on the lines.
    version: int = 0
    # The discount code the shopper put on the cart (POST /cart/discount), as the admin wrote
    # it; checked again by every quote and by checkout.
    discount_code: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "carts"
