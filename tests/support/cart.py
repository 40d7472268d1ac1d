"""Cart helpers: the cart's URL and a cart body's quantities."""

from __future__ import annotations

URL = "/api/v1/cart"


def quantities(body: dict) -> dict[str, int]:
    """product id -> quantity of a cart body."""
    return {item["product_id"]: item["quantity"] for item in body["items"]}
