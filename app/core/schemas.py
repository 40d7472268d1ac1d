"""Base models and field types shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, Strict

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
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
