"""The list envelope every paginated endpoint returns."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import MAX_PAGE

T = TypeVar("T")

MAX_PER_PAGE = 100


class PageQuery(BaseModel):
    """`?page=1&per_page=20`; per_page is capped at 100 (more is a 422, not a silent cap)."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.per_page


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int
    pages: int

    def map(self, convert: Callable[[T], Any]) -> Page[Any]:
        """The same page with every item converted (e.g. documents to `XOut` models)."""
        return self.model_copy(update={"items": [convert(item) for item in self.items]})

    @classmethod
    def build(cls, items: list[Any], *, query: PageQuery, total: int) -> Page[Any]:
        return cls(
            items=items,
            page=query.page,
            per_page=query.per_page,
            total=total,
            pages=math.ceil(total / query.per_page) if total else 0,
        )
