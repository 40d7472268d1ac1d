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
    quantity: int
    added_at: datetime = Field(default_factory=utcnow)


class Cart(Document):
    user_id: Annotated[PydanticObjectId, Indexed(unique=True)]
    lines: list[CartLine] = Field(default_factory=list)
    # Bumped on every write: the guard of optimistic concurrency on the lines.
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "carts"
