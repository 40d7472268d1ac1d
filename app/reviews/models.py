"""The review document and the orders each review list is read in."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

# Each list sort, newest first among equal ratings and `_id` as the last tie-breaker, so pages
# never overlap; each is exactly the key order of one index below (after `product_id`).
# `rating` orders equals by `_id` alone (an ObjectId begins with its creation time): Beanie
# identifies an index by its field names without directions, so a second index on
# (product_id, rating, created_at, _id) with `rating` ascending would silently not be created.
SORTS: dict[str, list[tuple[str, int]]] = {
    "-created_at": [("created_at", DESCENDING), ("_id", DESCENDING)],
    "-rating": [("rating", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
    "rating": [("rating", ASCENDING), ("_id", DESCENDING)],
}
DEFAULT_SORT = "-created_at"

_PRODUCT = ("product_id", ASCENDING)


class Review(Document):
    product_id: PydanticObjectId
    user_id: PydanticObjectId
    rating: int  # 1..5
    title: str
    body: str = ""
    # The author had a delivered order with the product when the review was last written.
    verified_purchase: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "reviews"
        indexes = [
            # One review per customer per product; a second one is a 409.
            IndexModel(
                [("user_id", ASCENDING), ("product_id", ASCENDING)],
                unique=True,
                name="user_product",
            ),
            # A product's reviews, one index per sort; `product_newest` also serves the rating
            # aggregation (`$match` on product_id) and the page count.
            IndexModel([_PRODUCT, *SORTS["-created_at"]], name="product_newest"),
            IndexModel([_PRODUCT, *SORTS["-rating"]], name="product_rating_desc"),
            IndexModel([_PRODUCT, *SORTS["rating"]], name="product_rating_asc"),
        ]
