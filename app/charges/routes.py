"""`/api/v1/shipping-methods`: the methods that ship to a destination (public)."""

from __future__ import annotations

from quart_schema import validate_querystring, validate_response

from app.charges import bp, shipping
from app.charges.schemas import DestinationQuery, ShippingMethodOut


@bp.get("/shipping-methods")
@validate_querystring(DestinationQuery)
@validate_response(list[ShippingMethodOut])
async def list_shipping_methods(query_args: DestinationQuery) -> list[ShippingMethodOut]:
    """The shipping methods for a destination (every active one without `country`),
    cheapest first."""
    methods = await shipping.methods_for(country=query_args.country)
    return [shipping.public_out(method) for method in methods]
