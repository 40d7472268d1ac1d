"""Request and response models of the reviews routes.

Review text is plain text: markup, control characters and bidirectional overrides are refused
with a 422 rather than stripped (the rule, and why, is `plain_text` in app/core/schemas.py;
people's names follow the same one). Titles are one line; bodies keep newlines and tabs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from app.core.clock import as_utc
from app.core.pagination import PageQuery
from app.core.schemas import (
    JSON_INTEGER,
    InModel,
    ObjectIdStr,
    OutModel,
    QueryModel,
    UTCDateTime,
    plain_text,
)
from app.reviews.models import Review

TITLE_MAX = 120
BODY_MAX = 5000
SortKey = Literal["-created_at", "-rating", "rating"]

# JSON integers only: `true`, `"5"`, `5.5` (and `5.0`) are refused rather than coerced.
Rating = Annotated[
    int,
    Field(strict=True, ge=1, le=5, description=f"1 (worst) to 5 (best), {JSON_INTEGER}"),
]
Title = plain_text(min_length=1, max_length=TITLE_MAX, description="One line of plain text")
Body = plain_text(max_length=BODY_MAX, multiline=True, description="Plain text, newlines kept")


def _no_null_defaults(schema: dict) -> None:
    # Optional request fields: leaving one out is not the same as sending a default.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", "absent") is None:
            del prop["default"]


class ReviewIn(InModel):
    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    rating: Rating
    title: Title
    body: Body | None = Field(default=None, description="Optional; absent is an empty body")


class ReviewUpdate(InModel):
    """Partial update: only the fields sent change; an explicit `null` is refused (defaults
    are not validated, so it fails with the field's own type error)."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    rating: Rating = None
    title: Title = None
    body: Body = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class ReviewQuery(PageQuery, QueryModel):
    sort: SortKey | None = Field(
        default=None, description="`-created_at` (newest first, the default), `-rating`, `rating`"
    )

    blank_is_absent = True


class ReviewOut(OutModel):
    id: ObjectIdStr
    product_id: ObjectIdStr
    rating: int
    title: str
    body: str
    verified_purchase: bool = Field(
        description="The author had a delivered order with this product when last writing it"
    )
    author_name: str = Field(description="The author's display name (nothing else about them)")
    created_at: UTCDateTime
    updated_at: UTCDateTime

    @classmethod
    def of(cls, review: Review, *, author_name: str) -> ReviewOut:
        return cls(
            id=str(review.id),
            product_id=str(review.product_id),
            rating=review.rating,
            title=review.title,
            body=review.body,
            verified_purchase=review.verified_purchase,
            author_name=author_name,
            created_at=as_utc(review.created_at),
            updated_at=as_utc(review.updated_at),
        )
