"""Base models and field types shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, Strict, field_validator

# JSON has real integers: refuse `true`, `"5"` and `5.5` where an int is meant (lax mode
# would take `false` as 0). Query strings are text, so query models use plain `int`.
StrictInt = Annotated[int, Strict()]
Money = Annotated[int, Strict(), Field(ge=0, le=100_000_000_00, description="minor units")]
ObjectIdStr = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="ObjectId hex")]
UTCDateTime = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z"), return_type=str),
]


class InModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed, NUL is refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
