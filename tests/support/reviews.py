"""Reviews helpers: a product's rating as stored."""

from __future__ import annotations

from app.catalog.models import Product


async def rating_of(product) -> dict:
    """The product's rating as stored (what the catalog serves), without the version."""
    stored = await Product.get(product.id)
    return {"average": stored.rating.average, "count": stored.rating.count}
