"""Shipping methods, tax rates and discount codes."""

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.charges import discounts, shipping, taxes
from app.charges.schemas import (
    AdminShippingMethodOut,
    DiscountIn,
    DiscountOut,
    DiscountQuery,
    DiscountUpdate,
    ShippingMethodIn,
    ShippingMethodUpdate,
    TaxRateIn,
    TaxRateOut,
    TaxRateQuery,
    TaxRateUpdate,
)
from app.core.openapi import no_content, problems
from app.core.pagination import Page, PageQuery
from app.core.security import admin_required

# -- shipping methods -------------------------------------------------------------------------


@bp.get("/shipping-methods")
@admin_required
@validate_querystring(PageQuery)
@validate_response(Page[AdminShippingMethodOut])
async def list_shipping_methods(query_args: PageQuery) -> Page[AdminShippingMethodOut]:
    """Every shipping method, active or not, by name."""
    return await shipping.list_methods(query=query_args)


@bp.post("/shipping-methods")
@admin_required
@validate_request(ShippingMethodIn)
@validate_response(AdminShippingMethodOut, 201)
async def create_shipping_method(data: ShippingMethodIn) -> tuple[AdminShippingMethodOut, int]:
    """Create a shipping method (flat price, or weight tiers)."""
    return shipping.admin_out(await shipping.create_method(data=data)), 201


@bp.get("/shipping-methods/<shippingmethod:method_id>")
@admin_required
@validate_response(AdminShippingMethodOut)
async def get_shipping_method(method_id: PydanticObjectId) -> AdminShippingMethodOut:
    """One shipping method."""
    return shipping.admin_out(await shipping.get_method(method_id=method_id))


@bp.patch("/shipping-methods/<shippingmethod:method_id>")
@admin_required
@validate_request(ShippingMethodUpdate)
@validate_response(AdminShippingMethodOut)
async def update_shipping_method(
    method_id: PydanticObjectId, data: ShippingMethodUpdate
) -> AdminShippingMethodOut:
    """Change some fields of a shipping method."""
    method = await shipping.update_method(method_id=method_id, changes=data.changes())
    return shipping.admin_out(method)


@bp.delete("/shipping-methods/<shippingmethod:method_id>")
@no_content
@admin_required
async def delete_shipping_method(method_id: PydanticObjectId) -> tuple[str, int]:
    """Delete a shipping method (placed orders keep their copy)."""
    await shipping.delete_method(method_id=method_id)
    return "", 204


# -- tax rates --------------------------------------------------------------------------------


@bp.get("/tax-rates")
@admin_required
@validate_querystring(TaxRateQuery)
@validate_response(Page[TaxRateOut])
async def list_tax_rates(query_args: TaxRateQuery) -> Page[TaxRateOut]:
    """Tax rates by country, region and tax class."""
    return await taxes.list_rates(query=query_args, country=query_args.country)


@bp.post("/tax-rates")
@admin_required
@validate_request(TaxRateIn)
@validate_response(TaxRateOut, 201)
@problems(409)
async def create_tax_rate(data: TaxRateIn) -> tuple[TaxRateOut, int]:
    """Create a tax rate for a country (and region) and tax class."""
    return taxes.out(await taxes.create_rate(data=data)), 201


@bp.get("/tax-rates/<taxrate:rate_id>")
@admin_required
@validate_response(TaxRateOut)
async def get_tax_rate(rate_id: PydanticObjectId) -> TaxRateOut:
    """One tax rate."""
    return taxes.out(await taxes.get_rate(rate_id=rate_id))


@bp.patch("/tax-rates/<taxrate:rate_id>")
@admin_required
@validate_request(TaxRateUpdate)
@validate_response(TaxRateOut)
@problems(409)
async def update_tax_rate(rate_id: PydanticObjectId, data: TaxRateUpdate) -> TaxRateOut:
    """Change a tax rate (placed orders keep the rate they were charged)."""
    return taxes.out(await taxes.update_rate(rate_id=rate_id, changes=data.changes()))


@bp.delete("/tax-rates/<taxrate:rate_id>")
@no_content
@admin_required
async def delete_tax_rate(rate_id: PydanticObjectId) -> tuple[str, int]:
    """Delete a tax rate."""
    await taxes.delete_rate(rate_id=rate_id)
    return "", 204


# -- discount codes ---------------------------------------------------------------------------


@bp.get("/discounts")
@admin_required
@validate_querystring(DiscountQuery)
@validate_response(Page[DiscountOut])
async def list_discounts(query_args: DiscountQuery) -> Page[DiscountOut]:
    """Discount codes, oldest first, with their `times_used`."""
    return await discounts.list_discounts(query=query_args)


@bp.post("/discounts")
@admin_required
@validate_request(DiscountIn)
@validate_response(DiscountOut, 201)
@problems(409)
async def create_discount(data: DiscountIn) -> tuple[DiscountOut, int]:
    """Create a discount code (percent, fixed or free shipping)."""
    return discounts.out(await discounts.create_discount(data=data)), 201


@bp.get("/discounts/<discount:discount_id>")
@admin_required
@validate_response(DiscountOut)
async def get_discount(discount_id: PydanticObjectId) -> DiscountOut:
    """One discount code."""
    return discounts.out(await discounts.get_discount(discount_id=discount_id))


@bp.patch("/discounts/<discount:discount_id>")
@admin_required
@validate_request(DiscountUpdate)
@validate_response(DiscountOut)
@problems(409)
async def update_discount(discount_id: PydanticObjectId, data: DiscountUpdate) -> DiscountOut:
    """Change a discount code (`times_used` is kept)."""
    changed = await discounts.update_discount(discount_id=discount_id, changes=data.changes())
    return discounts.out(changed)


@bp.delete("/discounts/<discount:discount_id>")
@no_content
@admin_required
async def delete_discount(discount_id: PydanticObjectId) -> tuple[str, int]:
    """Delete a discount code (placed orders keep their copy)."""
    await discounts.delete_discount(discount_id=discount_id)
    return "", 204
