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

# JSON has real integers: refuse `true`, `"5"` and `5.5` where an int is meant (lax mode
# would take `false` as 0). Query strings are text, so query models use plain `int`.
StrictInt = Annotated[int, Strict()]
Money = Annotated[int, Strict(), Field(ge=0, le=100_000_000_00, description="minor units")]
ObjectIdStr = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="ObjectId hex")]
UTCDateTime = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z"), return_type=str),
    # The serializer returns str, which would drop the format clients type dates by.
    WithJsonSchema({"type": "string", "format": "date-time"}),
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
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutModel(BaseModel):
    # A field with a default is still always in the response: list it as required.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )
