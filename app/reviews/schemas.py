"""Request and response models of the reviews routes, and what counts as plain review text.

Review text is plain text, and we refuse markup rather than strip it (422 naming the field):

- Stripping silently changes what the reviewer wrote, and tag strippers are a known source of
  bypasses (`<scr<script>ipt>`, unterminated tags, comments) that a later change can reopen.
- A 422 tells the author what to fix, and what we store and show is what they wrote.
- Only what an HTML parser would start a tag, comment or declaration with is refused: `<`
  directly followed by a letter, `/`, `!` or `?`. So "5 < 6", "<3" and "a <= b"
  stay allowed, and a frontend that (wrongly) put our text through `innerHTML` would still get
  text nodes only. Character references (`&lt;`) render as text and are allowed.
- Control characters are refused (the body keeps newlines and tabs; CRLF becomes LF), as are
  lone surrogates (not encodable) and bidirectional overrides, which can make a rendered review
  read differently from its stored text. Titles are one line. Text is NFC-normalised, and the
  length limits count the normalised characters.

Markdown is not interpreted by us either; a frontend must show these fields as text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from app.core.clock import as_utc
from app.core.pagination import PageQuery
from app.core.schemas import (
    CONTROL_CHARS,
    CONTROL_CHARS_BUT_TAB_NEWLINE,
    JSON_INTEGER,
    LAYOUT_CHARS,
    InModel,
    ObjectIdStr,
    OutModel,
    QueryModel,
    UTCDateTime,
    text_rules,
)
from app.reviews.models import Review

TITLE_MAX = 120
BODY_MAX = 5000
SortKey = Literal["-created_at", "-rating", "rating"]

_TAG_START = re.compile(r"<[A-Za-z/!?]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\u2028\u2029\x85")


def _normalise(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the str validator reports the wrong type
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", value)


def _check_plain(value: str, *, multiline: bool) -> str:
    for char in value:
        if multiline and char in "\n\t":
            continue
        category = unicodedata.category(char)
        if category == "Cc" or char in _LINE_BREAKS:
            raise ValueError(
                "must not contain control characters"
                + ("" if multiline else " or line breaks (one line)")
            )
        if category == "Cs":
            raise ValueError("must be valid Unicode text (no lone surrogates)")
        if char in _BIDI_CONTROLS:
            raise ValueError("must not contain bidirectional override characters")
    if _TAG_START.search(value):
        raise ValueError("must be plain text: HTML tags, comments and declarations are refused")
    return value


def _title(value: str) -> str:
    return _check_plain(value, multiline=False)


def _body(value: str) -> str:
    return _check_plain(value, multiline=True)


# JSON integers only: `true`, `"5"`, `5.5` (and `5.0`) are refused rather than coerced.
Rating = Annotated[
    int,
    Field(strict=True, ge=1, le=5, description=f"1 (worst) to 5 (best), {JSON_INTEGER}"),
]
Title = Annotated[
    str,
    BeforeValidator(_normalise),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    AfterValidator(_title),
    Field(
        description="One line of plain text",
        json_schema_extra=text_rules(CONTROL_CHARS + LAYOUT_CHARS, no_tags=True),
    ),
]
Body = Annotated[
    str,
    BeforeValidator(_normalise),
    StringConstraints(strip_whitespace=True, max_length=BODY_MAX),
    AfterValidator(_body),
    Field(
        description="Plain text, newlines kept",
        json_schema_extra=text_rules(CONTROL_CHARS_BUT_TAB_NEWLINE + LAYOUT_CHARS, no_tags=True),
    ),
]


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
