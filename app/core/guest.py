"""Guests: the headers that stand in for a login on the cart and order routes.

A guest cart is reached with `Cart-Token`, a guest order with `Order-Token`: opaque 256-bit
secrets (`secrets.token_urlsafe(32)`) the server shows once and stores only as SHA-256. A
route that takes one also takes a login; `login_or_guest` marks it so in OpenAPI (the bearer
scheme or the token's scheme) and the header is documented as a parameter as well, so a
generated client can send it. Tokens never go into a log line, a URL of the API or an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from quart import request
from quart_schema.extension import QUART_SCHEMA_SECURITY_ATTRIBUTE

from app.core.schemas import InModel, ObjectIdStr, OutModel

CART_TOKEN_HEADER = "Cart-Token"
ORDER_TOKEN_HEADER = "Order-Token"
# What the schemes are called in the document's `components.securitySchemes`.
CART_TOKEN_SCHEME = "cartToken"
ORDER_TOKEN_SCHEME = "orderToken"
SECURITY_SCHEMES = {
    CART_TOKEN_SCHEME: {
        "type": "apiKey",
        "in_": "header",  # quart-schema's field name for OpenAPI's `in`
        "name": CART_TOKEN_HEADER,
    },
    ORDER_TOKEN_SCHEME: {
        "type": "apiKey",
        "in_": "header",  # quart-schema's field name for OpenAPI's `in`
        "name": ORDER_TOKEN_HEADER,
    },
}
_TOKEN_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 256}
CART_TOKEN_PARAMETER: dict[str, Any] = {
    "name": CART_TOKEN_HEADER,
    "in": "header",
    "required": False,
    "description": "A guest's cart (without a login): the `cart_token` the cart answered",
    "schema": _TOKEN_SCHEMA,
}
ORDER_TOKEN_PARAMETER: dict[str, Any] = {
    "name": ORDER_TOKEN_HEADER,
    "in": "header",
    "required": False,
    "description": "A guest's order (without a login): the `order_token` checkout answered",
    "schema": _TOKEN_SCHEMA,
}


def header_token(name: str) -> str | None:
    """The header's token, or None when it is absent or blank."""
    value = request.headers.get(name, "").strip()
    return value or None


def login_or_guest(scheme: str, *, anonymous: bool = False):
    """Document a route as taking a login or the guest token of `scheme` (or, `anonymous`,
    neither: the route then issues the token). The route authenticates itself."""
    security: list[dict[str, list[str]]] = [{"bearerAuth": []}, {scheme: []}]
    if anonymous:
        security.append({})

    def decorator(func):
        setattr(func, QUART_SCHEMA_SECURITY_ATTRIBUTE, security)
        return func

    return decorator


# -- merging a guest cart at sign-in: the report (auth answers it, the cart makes it) ------

# A `Cart-Token` as clients send it: what the server issues is 43 URL-safe characters.
CartToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class CartMergeIn(InModel):
    cart_token: CartToken = Field(description="The guest cart's token, from its `cart_token`")


CapReason = Literal["stock", "line_limit", "cart_full", "unavailable"]


class CappedLineOut(OutModel):
    product_id: ObjectIdStr
    name: str
    requested: int = Field(description="The quantity in the guest cart")
    added: int = Field(description="What was added to the account's cart (0: nothing)")
    quantity: int = Field(description="The line's quantity in the account's cart now")
    reason: CapReason = Field(
        description="`stock`: not that many in stock; `line_limit`: a line holds at most 99; "
        "`cart_full`: the cart holds no more lines; `unavailable`: the product is archived or "
        "gone"
    )


class CartMergeOut(OutModel):
    """What merging a guest cart into the account's did: the guest cart is gone."""

    merged: bool = Field(
        description="false when the cart token was unknown or expired (nothing was merged)"
    )
    lines_added: int = Field(description="Guest lines added in full")
    capped: list[CappedLineOut] = Field(description="Guest lines added only in part, or not")
