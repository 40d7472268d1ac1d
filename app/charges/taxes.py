"""Tax rates: admin CRUD, and a destination's rates for the pricing function."""

from __future__ import annotations

import math
from typing import Any

from beanie import PydanticObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.charges.models import TaxRate
from app.charges.schemas import TaxRateIn, TaxRateOut
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Conflict, ErrorCode, NotFound
from app.pricing.engine import RateRow, TaxRateInput, rates_for

PPM_PER_BP = 100


def bp_to_ppm(rate_bp: float) -> int:
    """Basis points to parts per million, rounded half up (887.5 -> 88,750)."""
    return math.floor(rate_bp * PPM_PER_BP + 0.5)


def out(rate: TaxRate) -> TaxRateOut:
    return TaxRateOut(
        id=str(rate.id),
        country=rate.country,
        region=rate.region,
        tax_class=rate.tax_class,
        rate_bp=rate.rate_ppm / PPM_PER_BP,
        name=rate.name,
        applies_to_shipping=rate.applies_to_shipping,
        created_at=rate.created_at,
        updated_at=rate.updated_at,
    )


def _taken() -> Conflict:
    return Conflict(
        "A rate for this country, region and tax class exists already: change that one.",
        code=ErrorCode.TAX_RATE_EXISTS,
    )


async def create_rate(*, data: TaxRateIn) -> TaxRate:
    """Create a rate. Raises Conflict `tax_rate_exists` (same country, region and class)."""
    rate = TaxRate(
        country=data.country.upper(),
        region=data.region.upper() if data.region else None,
        tax_class=data.tax_class or "standard",
        rate_ppm=bp_to_ppm(data.rate_bp),
        name=data.name,
        applies_to_shipping=bool(data.applies_to_shipping),
    )
    try:
        await rate.insert()
    except DuplicateKeyError:
        raise _taken() from None
    return rate


async def get_rate(*, rate_id: PydanticObjectId) -> TaxRate:
    rate = await TaxRate.get(rate_id)
    if rate is None:
        raise NotFound("No such tax rate.")
    return rate


async def update_rate(*, rate_id: PydanticObjectId, changes: dict[str, Any]) -> TaxRate:
    """Change a rate (placed orders keep the rate they were charged). Raises NotFound,
    Conflict `tax_rate_exists`."""
    await get_rate(rate_id=rate_id)
    update: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "rate_bp":
            update["rate_ppm"] = bp_to_ppm(value)
        elif name in ("country", "region"):
            update[name] = value.upper() if value else None
        else:
            update[name] = value
    update["updated_at"] = utcnow()
    try:
        await TaxRate.get_pymongo_collection().update_one({"_id": rate_id}, {"$set": update})
    except DuplicateKeyError:
        raise _taken() from None
    return await get_rate(rate_id=rate_id)


async def delete_rate(*, rate_id: PydanticObjectId) -> None:
    deleted = await TaxRate.get_pymongo_collection().delete_one({"_id": rate_id})
    if not deleted.deleted_count:
        raise NotFound("No such tax rate.")


async def list_rates(*, query: PageQuery, country: str | None) -> Page[TaxRateOut]:
    """Rates by country, region and class."""
    where = {"country": country.upper()} if country else {}
    total = await TaxRate.find(where).count()
    rates = (
        await TaxRate.find(where)
        .sort([("country", ASCENDING), ("region", ASCENDING), ("tax_class", ASCENDING)])  # type: ignore[list-item]
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build([out(r) for r in rates], query=query, total=total)


async def rates_at(
    *, country: str | None, region: str | None, session: Any = None
) -> dict[str, TaxRateInput]:
    """The destination's rate per tax class (a region's rate wins over its country's): one
    query reading at most the country's and the region's rates."""
    if not country:
        return {}
    regions = [None, region.upper()] if region else [None]
    rows = await TaxRate.find(
        {"country": country.upper(), "region": {"$in": regions}}, session=session
    ).to_list()
    return rates_for(
        [
            RateRow(
                country=row.country,
                region=row.region,
                tax_class=row.tax_class,
                rate=TaxRateInput(
                    rate_ppm=row.rate_ppm,
                    name=row.name,
                    id=str(row.id),
                    applies_to_shipping=row.applies_to_shipping,
                ),
            )
            for row in rows
        ],
        country=country,
        region=region,
    )
