"""The one refusal for stock that is not there, as the cart, checkout and the admin's
adjustments answer it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId

from app.errors import Conflict, ErrorCode


@dataclass(frozen=True)
class Shortage:
    """One product asked for beyond what can be had: `requested` units, `available` now."""

    product_id: PydanticObjectId
    name: str | None
    requested: int
    available: int
    variant_id: str | None = None
    sku: str | None = None

    @property
    def names_variant(self) -> bool:
        """A variant of a product with options is named (`variant_id`, `sku`); a product's
        own one variant (id the product's) is the product."""
        return self.variant_id is not None and self.variant_id != str(self.product_id)

    def line(self) -> dict[str, Any]:
        """The entry of the problem's `lines` (the Problem schema in app/core/openapi.py)."""
        line: dict[str, Any] = {
            "product_id": str(self.product_id),
            "name": self.name,
            "requested": self.requested,
            "available": self.available,
        }
        if self.names_variant:
            line["variant_id"] = self.variant_id
            line["sku"] = self.sku
        return line


class InsufficientStock(Conflict):
    """409 `insufficient_stock`. The payload is the one the API documents: `lines`, one
    entry per short product (`product_id`, `name`, `requested`, `available`). A refusal
    about one product (a cart line, an admin's adjustment, a one-line checkout) also carries
    that product's `product_id`, `requested` and `available` at the top, as the cart's and
    the admin's answers always have; `extra` adds the caller's own (the cart's `in_cart`)."""

    code = ErrorCode.INSUFFICIENT_STOCK

    def __init__(self, detail: str, *, shortages: Sequence[Shortage], **extra: Any) -> None:
        if not shortages:
            raise ValueError("a refusal names at least one shortage")
        top: dict[str, Any] = {}
        if len(shortages) == 1:
            (only,) = shortages
            top = {
                "product_id": str(only.product_id),
                "requested": only.requested,
                "available": only.available,
            }
            if only.names_variant:
                top["variant_id"] = only.variant_id
        super().__init__(detail, **top, **extra, lines=[s.line() for s in shortages])
        self.shortages = tuple(shortages)
