"""Base models and field types shared by every domain's schemas."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    Strict,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import CoreSchema

# Every integer the API accepts is bounded: by what the store allows where that is known, and
# always by int64 (MongoDB stores nothing larger; an unbounded int would end as a 500).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_MONEY = 100_000_000_00  # minor units: a hundred million in the major unit
MAX_QUANTITY = 1_000_000_000  # stock levels, cart and order quantities
MAX_PAGE = 1_000_000

# JSON has real integers: refuse `true`, `"5"` and `5.5` where an int is meant (lax mode
# would take `false` as 0). Query strings are text, so the `...Query` types are not strict.
StrictInt = Annotated[int, Strict(), Field(ge=INT64_MIN, le=INT64_MAX)]
Int64 = StrictInt
Money = Annotated[int, Strict(), Field(ge=0, le=MAX_MONEY, description="minor units")]
Quantity = Annotated[int, Strict(), Field(ge=0, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[int, Strict(), Field(ge=1, le=MAX_QUANTITY)]
MoneyQuery = Annotated[int, Field(ge=0, le=MAX_MONEY, description="minor units")]
QuantityQuery = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Int64Query = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
ObjectIdStr = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="ObjectId hex")]
UTCDateTime = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z"), return_type=str),
    # The serializer returns str, which would drop the format clients type dates by.
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _within_int64(value: Any) -> Any:
    """The safety net under the declared bounds: no integer beyond int64, at any depth."""
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("must be a 64-bit integer")
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _within_int64(item)
    elif isinstance(value, dict):
        for item in value.values():
            _within_int64(item)
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _within_int64(item)
    return value


class InModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed, NUL is refused,
    integers stay within int64."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return _within_int64(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        # An optional field's default is what the server assumes when the field is left out,
        # not a value the client must send: generated clients (openapi-typescript) make every
        # property with a `default` required. Say it in the description instead.
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for prop in target.get("properties", {}).values():
            if "default" not in prop:
                continue
            default = prop.pop("default")
            if default is not None:
                said = prop.get("description", "")
                prop["description"] = f"{said} Left out: `{json.dumps(default)}`.".strip()
        return schema


class QueryModel(BaseModel):
    """Query strings: unknown parameters are an error, integers stay within int64."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        return _within_int64(value)


class OutModel(BaseModel):
    # A field with a default is still always in the response: list it as required.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )
