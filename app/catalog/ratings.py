"""A product's rating: the one writer of `rating` (reviews compute it and call these)."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.catalog.cache import bump_catalog_version
from app.catalog.models import Product
from app.errors import NotFound


async def rating_version(*, product_id: PydanticObjectId, session: Any = None) -> int:
    """The product's rating version (any status), to pass to `set_rating`. Raises NotFound."""
    row = await Product.get_pymongo_collection().find_one(
        {"_id": product_id}, {"rating.version": 1}, session=session
    )
    if row is None:
        raise NotFound("No such product.")
    version: int = (row.get("rating") or {}).get("version") or 0
    return version


async def set_rating(
    *,
    product_id: PydanticObjectId,
    average: float,
    count: int,
    expected_version: int,
    session: Any = None,
) -> bool:
    """Store a product's rating unless it was rewritten since `expected_version` was read
    (then False: recompute and try again). The one writer of `rating` (reviews call it).

    Not a revision-checked edit: the rating is derived data, written with its own guard, and
    an admin's concurrent edit of other fields must neither fail nor be failed by it.
    """
    result = await Product.get_pymongo_collection().update_one(
        # Products stored before the version existed have none: that is version 0.
        {"_id": product_id, "rating.version": expected_version or {"$in": [0, None]}},
        {"$set": {"rating.average": average, "rating.count": count}, "$inc": {"rating.version": 1}},
        session=session,
    )
    if result.matched_count != 1:
        return False
    await bump_catalog_version(session=session)  # list pages show (and sort by) ratings
    return True
