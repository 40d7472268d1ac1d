"""Shipping methods: admin CRUD and the public list for a destination."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ASCENDING
from quart import current_app

from app.charges.models import ShippingMethod, WeightTier
from app.charges.schemas import (
    AdminShippingMethodOut,
    ShippingMethodIn,
    ShippingMethodOut,
    WeightTierOut,
)
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Invalid, NotFound

# A store has a handful of methods; a destination's list is bounded by this.
MAX_METHODS_PER_DESTINATION = 50


def _currency() -> str:
    return str(current_app.config["SETTINGS"].STORE_CURRENCY)


def public_out(method: ShippingMethod) -> ShippingMethodOut:
    return ShippingMethodOut(
        id=str(method.id),
        name=method.name,
        price=method.price,
        currency=_currency(),
        min_days=method.min_days,
        max_days=method.max_days,
        free_over=method.free_over,
    )


def admin_out(method: ShippingMethod) -> AdminShippingMethodOut:
    return AdminShippingMethodOut(
        **public_out(method).model_dump(),
        countries="all" if method.all_countries else list(method.countries),
        weight_tiers=[WeightTierOut(**tier.model_dump()) for tier in method.weight_tiers],
        active=method.active,
        created_at=method.created_at,
        updated_at=method.updated_at,
    )


def _destination_fields(countries: list[str] | str) -> dict[str, Any]:
    if countries == "all":
        return {"countries": [], "all_countries": True}
    return {"countries": sorted({c.upper() for c in countries}), "all_countries": False}


def _tiers(tiers: list[dict[str, Any]] | None) -> list[WeightTier]:
    tiers = sorted(tiers or [], key=lambda tier: tier["up_to_grams"])
    if len({tier["up_to_grams"] for tier in tiers}) != len(tiers):
        raise Invalid(
            "Two weight tiers end at the same weight.",
            errors=[{"loc": ["weight_tiers"], "msg": "each tier needs its own up_to_grams"}],
        )
    return [WeightTier(**tier) for tier in tiers]


def _check_days(min_days: int, max_days: int) -> None:
    if max_days < min_days:
        raise Invalid(
            "max_days must not be less than min_days.",
            errors=[{"loc": ["max_days"], "msg": "must not be less than min_days"}],
        )


async def create_method(*, data: ShippingMethodIn) -> ShippingMethod:
    """Create a shipping method. Raises Invalid (days out of order, weight tiers ending at the
    same weight)."""
    _check_days(data.min_days, data.max_days)
    fields = data.model_dump(exclude={"countries", "weight_tiers", "active"})
    method = ShippingMethod(
        **fields,
        **_destination_fields(data.countries),
        weight_tiers=_tiers(data.model_dump()["weight_tiers"]),
        active=True if data.active is None else data.active,
    )
    await method.insert()
    return method


async def get_method(*, method_id: PydanticObjectId, session: Any = None) -> ShippingMethod:
    """A shipping method, active or not. Raises NotFound."""
    method = await ShippingMethod.get(method_id, session=session)
    if method is None:
        raise NotFound("No such shipping method.")
    return method


async def update_method(*, method_id: PydanticObjectId, changes: dict[str, Any]) -> ShippingMethod:
    """Change some fields. Raises NotFound, Invalid (days out of order, tiers)."""
    method = await get_method(method_id=method_id)
    update: dict[str, Any] = {
        k: v for k, v in changes.items() if k not in ("countries", "weight_tiers")
    }
    if "countries" in changes:
        update.update(_destination_fields(changes["countries"]))
    if "weight_tiers" in changes:
        update["weight_tiers"] = [t.model_dump() for t in _tiers(changes["weight_tiers"])]
    _check_days(update.get("min_days", method.min_days), update.get("max_days", method.max_days))
    update["updated_at"] = utcnow()
    await ShippingMethod.get_pymongo_collection().update_one({"_id": method.id}, {"$set": update})
    return await get_method(method_id=method_id)


async def delete_method(*, method_id: PydanticObjectId) -> None:
    """Delete a method (placed orders keep their copy of it). Raises NotFound."""
    deleted = await ShippingMethod.get_pymongo_collection().delete_one({"_id": method_id})
    if not deleted.deleted_count:
        raise NotFound("No such shipping method.")


async def list_methods(*, query: PageQuery) -> Page[AdminShippingMethodOut]:
    """Every method, by name."""
    found = ShippingMethod.find({})
    total = await ShippingMethod.find({}).count()
    methods = (
        await found.sort([("name", ASCENDING), ("_id", ASCENDING)])  # type: ignore[list-item]
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build([admin_out(m) for m in methods], query=query, total=total)


def _destination_filter(country: str | None) -> dict[str, Any]:
    if country is None:
        return {"active": True}
    return {
        "active": True,
        "$or": [{"countries": country.upper()}, {"all_countries": True}],
    }


async def methods_for(*, country: str | None, session: Any = None) -> list[ShippingMethod]:
    """The active methods shipping to `country` (None: all of them), cheapest first."""
    found = (
        await ShippingMethod.find(_destination_filter(country), session=session)
        .limit(MAX_METHODS_PER_DESTINATION)
        .to_list()
    )
    return sorted(found, key=lambda m: (m.price, m.name, str(m.id)))
