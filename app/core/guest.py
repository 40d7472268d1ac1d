"""Guests: the headers that stand in for a login on the cart and order routes.

A guest cart is reached with `Cart-Token`, a guest order with `Order-Token`: opaque 256-bit
secrets (`secrets.token_urlsafe(32)`) the server shows once and stores only as SHA-256. A
route that takes one also takes a login; `login_or_guest` marks the login optional in
OpenAPI, and the header is documented as a parameter, so a generated client types and sends
it. Tokens never go into a log line, a URL of the API or an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from beanie import PydanticObjectId
from pydantic import Field, StringConstraints
from quart import Quart, current_app, request
from quart_schema.extension import QUART_SCHEMA_SECURITY_ATTRIBUTE

from app.core.schemas import InModel, ObjectIdStr, OutModel
from app.errors import Invalid

CART_TOKEN_HEADER = "Cart-Token"
ORDER_TOKEN_HEADER = "Order-Token"
_TOKEN_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 256}  # check_header
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

_F = TypeVar("_F", bound=Callable[..., Any])


TOKEN_MAX_LENGTH = 256


def check_header(name: str) -> None:
    """A token header that is there must be what the document says (1 to 256 characters),
    whether or not a login makes the route ignore it: 422 otherwise."""
    value = request.headers.get(name)
    if value is not None and not 1 <= len(value) <= TOKEN_MAX_LENGTH:
        raise Invalid(
            f"{name} must be 1 to {TOKEN_MAX_LENGTH} characters.",
            errors=[{"loc": ["header", name], "msg": "invalid token"}],
        )


def header_token(name: str) -> str | None:
    """The header's token, or None when it is absent or blank."""
    value = request.headers.get(name, "").strip()
    return value or None


def login_or_guest(func: _F) -> _F:
    """Document a route as taking a login or not (`security: [bearer, none]`): a guest sends
    its token in a header parameter instead (`header_parameters`). The tokens are not
    declared as security schemes: a wrong token is a 404 (no existence oracle), not the 401
    a client expects of a credential. The route authenticates itself."""
    setattr(func, QUART_SCHEMA_SECURITY_ATTRIBUTE, [{"bearerAuth": []}, {}])
    return func


# -- merging a guest cart at sign-in: the report (auth answers it, the cart makes it) ------

# A `Cart-Token` as clients send it: what the server issues is 43 URL-safe characters.
CartToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class CartMergeIn(InModel):
    cart_token: CartToken = Field(description="The guest cart's token, from its `cart_token`")


CapReason = Literal["stock", "line_limit", "cart_full", "unavailable"]


class CappedLineOut(OutModel):
    product_id: ObjectIdStr
    variant_id: str = Field(description="The line's variant (a product's only one: its id)")
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


# -- the sign-in's merge: auth asks, the cart answers (auth never imports the cart) -----------

GuestCartMerger = Callable[[PydanticObjectId, str], Awaitable[CartMergeOut]]
_MERGER = "guest_cart_merger"


def on_guest_cart_merge(app: Quart, merger: GuestCartMerger) -> None:
    """Register what merges a guest cart into an account's at sign-in (create_app does: the
    cart's `merge_at_sign_in`), so auth depends on no other domain."""
    app.extensions[_MERGER] = merger


async def merge_guest_cart(
    user_id: PydanticObjectId, cart_token: str | None
) -> CartMergeOut | None:
    """The sign-in's merge of the guest cart it was sent with: None without a token."""
    if cart_token is None:
        return None
    merger: GuestCartMerger = current_app.extensions[_MERGER]
    return await merger(user_id, cart_token)
