"""The cart: one per user, or a guest's found by its token; lines of product and quantity
(prices are read live)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.core.clock import utcnow

MAX_LINE_QUANTITY = 99
MAX_LINES = 100
# A guest cart is deleted by its TTL index this long after it was last used.
GUEST_CART_TTL = timedelta(days=30)
# `last_used` is refreshed by a read at most this often (writes always set it): a cart
# opened on every page view costs one write an hour, not one per view.
GUEST_CART_TOUCH_EVERY = timedelta(hours=1)


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


class GuestCart(Document):
    """A cart without an account, found by its `Cart-Token`: only the token's SHA-256 is
    stored (a 256-bit random token needs no slow hash), looked up by the unique index."""

    token_hash: Annotated[str, Indexed(unique=True)]
    lines: list[CartLine] = Field(default_factory=list)
    version: int = 0
    discount_code: str | None = None  # as on Cart (issue 19)
    updated_at: datetime = Field(default_factory=utcnow)
    last_used: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "guest_carts"
        indexes = [
            IndexModel(
                [("last_used", ASCENDING)],
                expireAfterSeconds=int(GUEST_CART_TTL.total_seconds()),
                name="last_used_ttl",
            )
        ]
