"""Reviews: list, write, edit, delete, and the product rating they make up.

Every write runs in one transaction with the recomputation of the product's `rating`: the
review change, an aggregation over all of the product's reviews (the exact sum and count, not
an increment of the previous value) and the rating write through `catalog.ratings.set_rating`.
Two concurrent writers for one product both write the product document, so on a replica set
one of them conflicts and is re-run by `db.run_in_transaction` against the committed state;
the rating's version guard does the same job where the server has no transactions.

The average is `sum / count` rounded half up to 2 decimals (4.125 -> 4.13); no reviews is
`{"average": 0.0, "count": 0}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.catalog import products, ratings
from app.core import db
from app.core.clock import utcnow
from app.core.pagination import Page
from app.errors import Conflict, ErrorCode, NotFound
from app.orders.queries import has_delivered_product
from app.reviews.models import DEFAULT_SORT, SORTS, Review
from app.reviews.schemas import ReviewIn, ReviewOut, ReviewQuery
from app.users import service as users

T = TypeVar("T")
# Shown for a review whose author no longer exists.
FORMER_CUSTOMER = "Former customer"
_RATING_ATTEMPTS = 20


def average_of(total: int, count: int) -> float:
    """The mean rating rounded half up to 2 decimals; 0.0 when there are no reviews."""
    if not count:
        return 0.0
    return float((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP))


async def _in_transaction(work: Callable[[Any], Awaitable[T]], session) -> T:
    """Inside the caller's transaction when given one, else in a transaction of our own."""
    if session is not None:
        return await work(session)
    return await db.run_in_transaction(work)


async def recompute_rating(*, product_id: PydanticObjectId, session=None) -> tuple[float, int]:
    """Aggregate the product's reviews and store the result as its rating.

    The version is read before the aggregation: a writer that changed the reviews after our
    aggregation also moves the version (or, in a transaction, conflicts), so a stale result is
    never stored. Raises NotFound when the product is gone.
    """
    for attempt in range(_RATING_ATTEMPTS):
        version = await ratings.rating_version(product_id=product_id, session=session)
        cursor = await Review.get_pymongo_collection().aggregate(
            [
                {"$match": {"product_id": product_id}},
                {"$group": {"_id": None, "count": {"$sum": 1}, "total": {"$sum": "$rating"}}},
            ],
            session=session,
        )
        rows = await cursor.to_list()
        count, total = (rows[0]["count"], rows[0]["total"]) if rows else (0, 0)
        average = average_of(total, count)
        if await ratings.set_rating(
            product_id=product_id,
            average=average,
            count=count,
            expected_version=version,
            session=session,
        ):
            return average, count
        await asyncio.sleep(0.005 * (attempt + 1))
    raise Conflict("The product's rating is busy; try again.")


async def _author_name(user_id: PydanticObjectId, *, session=None) -> str:
    names = await users.display_names(user_ids=[user_id], session=session)
    return names.get(user_id) or FORMER_CUSTOMER


# -- reads -----------------------------------------------------------------------------------


async def list_reviews(*, product_id: PydanticObjectId, query: ReviewQuery) -> Page[ReviewOut]:
    """One page of an active product's reviews, newest first unless `query.sort` says else;
    each with its author's display name (one `$in` query for the page). Raises NotFound."""
    product = await products.get_active_product(product_id=product_id)
    find = Review.find({"product_id": product.id})
    total = await find.count()
    reviews = (
        await find.sort(SORTS[query.sort or DEFAULT_SORT])  # type: ignore[arg-type]  # Beanie types sort keys as SortDirection; ints are what it sends
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    names = await users.display_names(user_ids=[review.user_id for review in reviews])
    items = [
        ReviewOut.of(review, author_name=names.get(review.user_id) or FORMER_CUSTOMER)
        for review in reviews
    ]
    return Page.build(items, query=query, total=total)


# -- writes ----------------------------------------------------------------------------------


async def create_review(
    *, user, product_id: PydanticObjectId, data: ReviewIn, session=None
) -> ReviewOut:
    """Write the user's review of an active product and update the product's rating.

    Raises NotFound (unknown or archived product), Conflict `review_exists` (with the id of
    the existing review) when the user has already reviewed it.
    """

    async def work(session) -> Review:
        product = await products.get_active_product(product_id=product_id, session=session)
        now = utcnow()
        review = Review(
            product_id=product.id,
            user_id=user.id,
            rating=data.rating,
            title=data.title,
            body=data.body or "",
            verified_purchase=await has_delivered_product(
                user_id=user.id, product_id=product.id, session=session
            ),
            created_at=now,
            updated_at=now,
        )
        await review.insert(session=session)
        await recompute_rating(product_id=product.id, session=session)
        return review

    try:
        review = await _in_transaction(work, session)
    except DuplicateKeyError:
        raise await _review_exists(user.id, product_id) from None
    return ReviewOut.of(review, author_name=await _author_name(user.id, session=session))


async def _review_exists(user_id: PydanticObjectId, product_id: PydanticObjectId) -> Conflict:
    existing = await Review.get_pymongo_collection().find_one(
        {"user_id": user_id, "product_id": product_id}, {"_id": 1}
    )
    extra: dict[str, Any] = {"review_id": str(existing["_id"])} if existing else {}
    return Conflict(
        "You have already reviewed this product; edit that review instead.",
        code=ErrorCode.REVIEW_EXISTS,
        **extra,
    )


async def _own_review(user, review_id: PydanticObjectId, *, session=None) -> Review:
    """The review when `user` wrote it or is an admin; anyone else gets the same 404."""
    review = await Review.get(review_id, session=session)
    if review is None or (review.user_id != user.id and getattr(user, "role", None) != "admin"):
        raise NotFound("No such review.")
    return review


async def update_review(
    *, user, review_id: PydanticObjectId, changes: dict[str, Any], session=None
) -> ReviewOut:
    """Edit a review (its author or an admin) and recompute the product's rating.

    `verified_purchase` is re-evaluated for the author on every edit. Raises NotFound.
    """

    async def work(session) -> Review:
        review = await _own_review(user, review_id, session=session)
        if not changes:
            return review
        updates: dict[str, Any] = {
            key: changes[key] for key in ("rating", "title", "body") if key in changes
        }
        updates["verified_purchase"] = await has_delivered_product(
            user_id=review.user_id, product_id=review.product_id, session=session
        )
        updates["updated_at"] = utcnow()
        result = await Review.get_pymongo_collection().update_one(
            {"_id": review.id}, {"$set": updates}, session=session
        )
        if not result.matched_count:  # deleted since we read it (no transactions)
            raise NotFound("No such review.")
        rating_changed = updates.get("rating", review.rating) != review.rating
        for key, value in updates.items():
            setattr(review, key, value)
        if rating_changed:
            await recompute_rating(product_id=review.product_id, session=session)
        return review

    review = await _in_transaction(work, session)
    return ReviewOut.of(review, author_name=await _author_name(review.user_id, session=session))


async def delete_review(*, user, review_id: PydanticObjectId, session=None) -> None:
    """Delete a review (its author or an admin) and recompute the product's rating.

    Raises NotFound.
    """

    async def work(session) -> None:
        review = await _own_review(user, review_id, session=session)
        result = await Review.get_pymongo_collection().delete_one(
            {"_id": review.id}, session=session
        )
        if not result.deleted_count:
            raise NotFound("No such review.")
        await recompute_rating(product_id=review.product_id, session=session)

    await _in_transaction(work, session)
