"""Typed ids at the edge: an id a client gives is turned into a `PydanticObjectId` once, here.

- In a URL: converters on the app's url_map, one per resource (`<order:order_id>`,
  `<product:product_id>`, ...). A segment that is not 24 lower-case hex digits (how every id
  the API hands out is spelled) is the same 404 problem an unknown id gets, with that
  resource's message; the view and the services below it only ever see a `PydanticObjectId`.
  The OpenAPI document shows those parameters as `type: string, pattern: ^[0-9a-f]{24}$`.
- Anywhere else (a JSON body, a token's claim, a stored reference): `parse_object_id`, which
  answers None for anything that is not an ObjectId, so each caller says what a bad one means.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from beanie import PydanticObjectId
from quart import Quart, Response
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import BaseConverter, Map

from app.errors import ErrorCode, problem

OBJECT_ID_PATTERN = r"^[0-9a-f]{24}$"
_OBJECT_ID = re.compile(OBJECT_ID_PATTERN)


def parse_object_id(value: object) -> PydanticObjectId | None:
    """The ObjectId `value` names (an ObjectId, or its 24 hex digits), else None."""
    if isinstance(value, PydanticObjectId):
        return value
    if isinstance(value, str | bytes) and PydanticObjectId.is_valid(value):
        return PydanticObjectId(value)
    return None


class UnknownId(HTTPNotFound):
    """A path segment that cannot be the id of what the route serves: the route's own 404."""

    def __init__(self, detail: str) -> None:
        super().__init__(description=detail)
        self.detail = detail


class ObjectIdConverter(BaseConverter):
    """A path segment holding an ObjectId, as a `PydanticObjectId`.

    The rule matches any segment (so a malformed id reaches the same route, method checks
    included) and a malformed one raises that route's 404 rather than falling through to
    "no such URL": the answer stays the one an unknown id gets.
    """

    regex = "[^/]+"
    part_isolating = True
    missing: ClassVar[str] = "The resource was not found."

    def to_python(self, value: str) -> PydanticObjectId:
        if not _OBJECT_ID.match(value):
            raise UnknownId(self.missing)
        return PydanticObjectId(value)

    def to_url(self, value: Any) -> str:
        return str(value)


def _converter(name: str, message: str) -> type[ObjectIdConverter]:
    return type(f"{name.title()}IdConverter", (ObjectIdConverter,), {"missing": message})


# The name used in route rules -> the 404 message the route answers for an unknown id.
CONVERTERS: dict[str, type[ObjectIdConverter]] = {
    "objectid": ObjectIdConverter,
    "order": _converter("order", "No such order."),
    "product": _converter("product", "No such product."),
    "category": _converter("category", "No such category."),
    "user": _converter("user", "No such user."),
    "review": _converter("review", "No such review."),
    "email": _converter("email", "No such email."),
    "address": _converter("address", "No such address."),
    "cartline": _converter("cartline", "This product is not in the cart."),
    "webhook": _converter("webhook", "No such webhook endpoint."),
    "delivery": _converter("delivery", "No such webhook delivery."),
    # Priced checkout (issue 19)
    "shippingmethod": _converter("shippingmethod", "No such shipping method."),
    "taxrate": _converter("taxrate", "No such tax rate."),
    "discount": _converter("discount", "No such discount."),
}


def register_id_converters(app: Quart) -> None:
    """Before any blueprint: the converters its rules name, and the problem they answer."""
    url_map: Map = app.url_map
    url_map.converters.update(CONVERTERS)

    @app.errorhandler(UnknownId)
    async def _unknown_id(error: UnknownId) -> Response:
        return problem(404, ErrorCode.NOT_FOUND, error.detail)
