"""Base models and field types shared by every domain's schemas."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError

# Every integer the API accepts is bounded: by what the store allows where that is known, and
# always by int64 (MongoDB stores nothing larger; an unbounded int would end as a 500).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_MONEY = 100_000_000_00  # minor units: a hundred million in the major unit
MAX_QUANTITY = 1_000_000_000  # stock levels, cart and order quantities
MAX_PAGE = 1_000_000


# JSON has real integers: refuse `true`, `"5"`, `5.5` and `5.0` where an int is meant (lax
# mode would take `false` as 0). JSON Schema's "integer" cannot tell 5.0 from 5, so the
# descriptions say it. Query strings are text, so the `...Query` types are not strict.
JSON_INTEGER = "a JSON integer, written without a fraction (5, not 5.0)"
StrictInt = Annotated[
    int, Strict(), Field(ge=INT64_MIN, le=INT64_MAX, description=JSON_INTEGER.capitalize())
]
Int64 = StrictInt
Money = Annotated[
    int, Strict(), Field(ge=0, le=MAX_MONEY, description=f"Minor units, {JSON_INTEGER}")
]
Quantity = Annotated[
    int, Strict(), Field(ge=0, le=MAX_QUANTITY, description=JSON_INTEGER.capitalize())
]
PositiveQuantity = Annotated[
    int, Strict(), Field(ge=1, le=MAX_QUANTITY, description=JSON_INTEGER.capitalize())
]
MoneyQuery = Annotated[int, Field(ge=0, le=MAX_MONEY, description="minor units")]
QuantityQuery = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Int64Query = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
ObjectIdStr = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="ObjectId hex")]
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$"
)


def _date_time_text(value: Any) -> Any:
    # Lax pydantic would read `?at_to=0.5` as a Unix timestamp; a query date is text.
    if isinstance(value, str) and not _DATE_TIME.match(value.strip()):
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-03-01T12:00:00Z")
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


DateTimeQuery = Annotated[
    datetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_as_utc),
    Field(description="RFC 3339 date-time; without an offset it is UTC"),
]
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


# Characters text validators refuse, as JSON Schema (ECMA-262 and Python) character ranges:
# C0 and C1 controls (Unicode category Cc), and those that steer layout: the line and
# paragraph separators (Zl, Zp) and the bidirectional overrides and isolates.
CONTROL_CHARS = r"\u0000-\u001f\u007f-\u009f"
CONTROL_CHARS_BUT_TAB_NEWLINE = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
LAYOUT_CHARS = r"\u2028\u2029\u202a-\u202e\u2066-\u2069"


def _plain(value: Any) -> Any:
    """Every request value (bodies and query strings): no NUL in any string, no integer
    beyond int64, at any depth."""
    if _has_nul(value):
        raise ValueError("must not contain NUL characters")
    return _within_int64(value)


def _has_nul(value: Any) -> bool:
    """A NUL in a string, at any depth of lists and dicts (keys too); models check their own."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


# What trimming takes off (pydantic trims Unicode White_Space), spelled out: `\s` differs
# between regex engines (Python's takes U+001C-U+001F, ECMA's U+FEFF).
WHITESPACE = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def trimmed_text_pattern(
    min_length: int, max_length: int | None, *, refused: str = r"\u0000", no_tags: bool = False
) -> str:
    """Text of `min_length` to `max_length` characters once trimmed (`InModel` trims strings
    before it checks their length), whatever whitespace surrounds it, with none of the
    `refused` character ranges (NUL at least) and, with `no_tags`, no `<` opening an HTML tag,
    comment or declaration."""
    char, solid, space = f"[^{refused}]", f"[^{WHITESPACE}{refused}]", f"[{WHITESPACE}]"
    upper = "" if max_length is None else str(max(max_length - 2, 0))
    lower = max(min_length - 2, 0)
    if max_length == 1:
        core = solid
    elif min_length <= 1:
        core = f"{solid}(?:{char}{{0,{upper}}}{solid})?"
    else:
        core = f"{solid}{char}{{{lower},{upper}}}{solid}"
    if min_length == 0:
        core = f"(?:{core})?"
    tags = r"(?![\s\S]*<[A-Za-z/!?])" if no_tags else ""
    return rf"^{tags}{space}*{core}{space}*$"


def say_text_rules(
    schema: dict[str, Any], *, refused: str = r"\u0000", no_tags: bool = False
) -> None:
    """Say in a string's schema what is done to it: trimmed, then its length checked, the
    `refused` characters (NUL at least) refused. The bounds move into the pattern (a raw
    `maxLength` would be wrong by the trimmed whitespace) and into the description."""
    low, high = schema.pop("minLength", 0), schema.pop("maxLength", None)
    schema["pattern"] = trimmed_text_pattern(low, high, refused=refused, no_tags=no_tags)
    if low or high is not None:
        bounds = f"{low} to {high}" if high is not None else f"at least {low}"
        said = schema.get("description", "").rstrip(".")
        schema["description"] = f"{said}; {bounds} characters once trimmed.".lstrip("; ")


def text_rules(refused: str, *, no_tags: bool = False) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a text field with character rules of its own (see above)."""

    def say(schema: dict[str, Any]) -> None:
        say_text_rules(schema, refused=refused, no_tags=no_tags)

    return say


def _say_text_rules(schema: dict[str, Any]) -> None:
    """`say_text_rules` for every plain string in `schema` (a property of an InModel). Strings
    with a pattern, format or enum of their own keep it (it excludes NUL or says what is
    taken)."""
    if schema.get("type") == "string":
        if not {"pattern", "format", "enum", "const"} & schema.keys():
            say_text_rules(schema)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            _say_text_rules(option)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _say_text_rules(schema[key])
    for option in schema.get("patternProperties", {}).values():
        _say_text_rules(option)


# -- plain text: what people write that others read (review text, names) ---------------------
#
# Plain text is refused, not cleaned, when it carries markup (a 422 naming the field):
# - Stripping silently changes what was written, and tag strippers are a known source of
#   bypasses (`<scr<script>ipt>`, unterminated tags, comments) that a later change can reopen.
# - A 422 tells the writer what to fix, and what we store and show is what they wrote.
# - Only what an HTML parser would start a tag, comment or declaration with is refused: `<`
#   directly followed by a letter, `/`, `!` or `?`. So "5 < 6", "<3" and "a <= b" stay
#   allowed, and a frontend that (wrongly) put the text through `innerHTML` would still get
#   text nodes only. Character references (`&lt;`) render as text and are allowed.
# - Control characters are refused (multi-line text keeps newlines and tabs; CRLF becomes LF),
#   as are lone surrogates (not encodable) and bidirectional overrides, which can make rendered
#   text read differently from its stored form. One-line text has no line breaks. Text is
#   NFC-normalised, and the length limits count the normalised characters.
# Markdown is not interpreted by us either; a frontend must show such fields as text.

_TAG_START = re.compile(r"<[A-Za-z/!?]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\u2028\u2029\x85")


def normalise_text(value: Any) -> Any:
    """CRLF and CR become LF, then NFC (before the length is checked)."""
    if not isinstance(value, str):
        return value  # the str validator reports the wrong type
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", value)


def check_plain_text(value: str, *, multiline: bool) -> str:
    """The plain-text rule (above); raises ValueError saying what is wrong."""
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


def _one_line(value: str) -> str:
    return check_plain_text(value, multiline=False)


def _lines(value: str) -> str:
    return check_plain_text(value, multiline=True)


def plain_text(
    *, max_length: int, min_length: int = 0, multiline: bool = False, description: str
) -> Any:
    """A request field of plain text (the rule above), trimmed, `min_length` to `max_length`
    characters once normalised; its schema says all of it (a pattern both regex engines read)."""
    refused = CONTROL_CHARS_BUT_TAB_NEWLINE if multiline else CONTROL_CHARS
    return Annotated[
        str,
        BeforeValidator(normalise_text),
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_lines if multiline else _one_line),
        Field(
            description=description,
            json_schema_extra=text_rules(refused + LAYOUT_CHARS, no_tags=True),
        ),
    ]


class _RequestModel(BaseModel):
    """What bodies and query strings share: unknown fields are an error, strings are trimmed,
    NUL is refused, integers stay within int64, and the schema says so (`_say_text_rules`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_values(cls, value: Any) -> Any:
        return _plain(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema = handler(core_schema)
        resolved = handler.resolve_ref_schema(schema)
        for prop in resolved.get("properties", {}).values():
            _say_text_rules(prop)
            cls._document(prop)
        if isinstance(resolved.get("additionalProperties"), dict):  # typed extra fields
            _say_text_rules(resolved["additionalProperties"])
            cls._document(resolved["additionalProperties"])
        return schema

    @classmethod
    def _document(cls, prop: dict[str, Any]) -> None:
        """Say more in one property's schema (subclasses)."""


class InModel(_RequestModel):
    """Request bodies: unknown fields are an error, strings are trimmed, NUL is refused,
    integers stay within int64."""

    @classmethod
    def _document(cls, prop: dict[str, Any]) -> None:
        # An optional field's default is what the server assumes when the field is left out,
        # not a value the client must send: generated clients (openapi-typescript) make every
        # property with a `default` required. Say it in the description instead.
        if "default" not in prop:
            return
        default = prop.pop("default")
        if default is not None:
            said = prop.get("description", "")
            prop["description"] = f"{said} Left out: `{json.dumps(default)}`.".strip()


BLANK = re.compile(f"[{WHITESPACE}]*")
BLANK_SCHEMA = {
    "type": "string",
    "pattern": f"^{BLANK.pattern}$",
    "description": "Blank: as if absent",
}


class QueryModel(_RequestModel):
    """Query strings: unknown parameters are an error, strings are trimmed, NUL is refused,
    integers stay within int64. With `blank_is_absent`, `?brand=` (or only spaces) counts as
    absent, as forms send empty fields; the schema then takes a blank value for every
    parameter."""

    blank_is_absent: ClassVar[bool] = False
    # Parameters beyond the model's own (a subclass with `extra="allow"` and a typed
    # `__pydantic_extra__`, whose key type checks the names): in the OpenAPI document one
    # free-form query object named `extra_parameters` (style form, exploded: each of its
    # properties is a parameter of its own), names matching `extra_names`, at most
    # `max_extra` of them (checked here), called `extra_kind` in the error.
    extra_parameters: ClassVar[str | None] = None
    extra_names: ClassVar[str] = "^.+$"
    max_extra: ClassVar[int | None] = None
    extra_kind: ClassVar[str] = "extra parameters"

    @model_validator(mode="before")
    @classmethod
    def _drop_blanks(cls, data: Any) -> Any:
        if cls.blank_is_absent and isinstance(data, dict):
            return {
                k: v for k, v in data.items() if not (isinstance(v, str) and BLANK.fullmatch(v))
            }
        return data

    @model_validator(mode="after")
    def _few_extras(self) -> Self:
        limit = self.max_extra
        if limit is not None and len(self.model_extra or {}) > limit:
            raise PydanticCustomError(
                "too_many_parameters",
                "At most {limit} {kind}",
                {"limit": limit, "kind": self.extra_kind},
            )
        return self

    @classmethod
    def extra_parameter(cls) -> dict[str, Any] | None:
        """The OpenAPI parameter object of the extra parameters (None: the model has none)."""
        if cls.extra_parameters is None:
            return None
        schema = cls.model_json_schema()
        values = dict(schema["additionalProperties"])
        described = values.pop("description", "")
        names = {"pattern": cls.extra_names, "not": {"enum": sorted(schema["properties"])}}
        obj: dict[str, Any] = {
            "type": "object",
            "propertyNames": names,
            "additionalProperties": values,
        }
        if cls.max_extra is not None:
            obj["maxProperties"] = cls.max_extra
        return {
            "name": cls.extra_parameters,
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": described,
            "schema": obj,
        }

    @classmethod
    def _document(cls, prop: dict[str, Any]) -> None:
        if cls.blank_is_absent:
            kept = ("title", "description", "default")
            options = prop.pop("anyOf", None) or [
                {k: prop.pop(k) for k in list(prop) if k not in kept}
            ]
            prop["anyOf"] = [*options, BLANK_SCHEMA]


class OutModel(BaseModel):
    # A field with a default is still always in the response: list it as required.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )
