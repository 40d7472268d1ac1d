"""Reviews: `/products/{id}/reviews` (public list; write when signed in), `/reviews/{id}`."""

from __future__ import annotations

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.core.openapi import links, no_content, problems
from app.core.pagination import Page
from app.core.security import current_user, login_required
from app.reviews import bp, service
from app.reviews.schemas import ReviewIn, ReviewOut, ReviewQuery, ReviewUpdate


@bp.get("/products/<product:product_id>/reviews")
@validate_querystring(ReviewQuery)
@validate_response(Page[ReviewOut])
async def list_reviews(product_id: PydanticObjectId, query_args: ReviewQuery) -> Page[ReviewOut]:
    """A product's reviews, newest first (or by rating)."""
    return await service.list_reviews(product_id=product_id, query=query_args)


@bp.post("/products/<product:product_id>/reviews")
@links(
    201,
    UpdateReview=("patch_update_review", "review_id=$response.body#/id"),
    DeleteReview=("delete_delete_review", "review_id=$response.body#/id"),
)
@problems(409)
@login_required
@validate_request(ReviewIn)
@validate_response(ReviewOut, 201)
async def create_review(product_id: PydanticObjectId, data: ReviewIn) -> tuple[ReviewOut, int]:
    """Review a product (one review per customer per product)."""
    review = await service.create_review(user=current_user(), product_id=product_id, data=data)
    return review, 201


@bp.patch("/reviews/<review:review_id>")
@login_required
@validate_request(ReviewUpdate)
@validate_response(ReviewOut)
async def update_review(review_id: PydanticObjectId, data: ReviewUpdate) -> ReviewOut:
    """Edit a review (its author or an admin)."""
    return await service.update_review(
        user=current_user(), review_id=review_id, changes=data.changes()
    )


@bp.delete("/reviews/<review:review_id>")
@no_content
@login_required
async def delete_review(review_id: PydanticObjectId) -> tuple[str, int]:
    """Delete a review (its author or an admin)."""
    await service.delete_review(user=current_user(), review_id=review_id)
    return "", 204
