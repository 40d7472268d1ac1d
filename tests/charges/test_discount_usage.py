"""The discount usage counter: never more uses than the limit under any race, with or without
transactions; per-customer limits; a use given back once."""

from __future__ import annotations

import asyncio

import pytest
from beanie import PydanticObjectId

from app.charges import discounts
from app.charges.discounts import DiscountInvalid
from app.charges.models import Discount, DiscountUse
from app.core import db


async def make_code(**fields) -> Discount:
    limit = fields.get("usage_limit")
    code = Discount(
        code=fields.pop("code", "RACE"),
        code_key=fields.pop("code_key", "race"),
        type=fields.pop("type", "percent"),
        value=fields.pop("value", 10),
        uses_left=limit,
        **fields,
    )
    await code.insert()
    return code


async def _race(code: Discount, shoppers: int) -> list[bool]:
    """Every shopper checks the code and counts a use, in a transaction where there is one;
    each waits for all to have checked before counting (the window an oversell needs)."""
    checked = asyncio.Barrier(shoppers)

    async def shopper(n: int) -> bool:
        try:
            found = await discounts.usable("race", customer=f"user:{n}")
            await checked.wait()
            await db.run_in_transaction(
                lambda session: discounts.redeem(
                    found, order_id=PydanticObjectId(), customer=f"user:{n}", session=session
                )
            )
            return True
        except DiscountInvalid as refused:
            assert refused.extra["reason"] == "used_up"
            return False

    return await asyncio.gather(*(shopper(n) for n in range(shoppers)))


@pytest.mark.parametrize("transactions", [True, False], ids=["transactions", "no_transactions"])
async def test_fifty_shoppers_race_for_five_uses_left(app, request, transactions):
    if not transactions:
        request.getfixturevalue("no_transactions")
    code = await make_code(usage_limit=12)
    await Discount.get_pymongo_collection().update_one(
        {"_id": code.id}, {"$set": {"times_used": 7, "uses_left": 5}}
    )
    won = await _race(code, 50)
    assert sum(won) == 5
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (12, 0)


@pytest.mark.parametrize("transactions", [True, False], ids=["transactions", "no_transactions"])
async def test_per_customer_limit_holds_when_one_customer_races_themself(
    app, request, transactions
):
    if not transactions:
        request.getfixturevalue("no_transactions")
    code = await make_code(usage_limit=100, usage_limit_per_customer=2)
    orders = [PydanticObjectId() for _ in range(10)]

    async def attempt(order_id):
        try:
            await db.run_in_transaction(
                lambda session: discounts.redeem(
                    code, order_id=order_id, customer="email:guest@example.com", session=session
                )
            )
            return True
        except DiscountInvalid as refused:
            assert refused.extra["reason"] == "customer_limit"
            return False

    won = await asyncio.gather(*(attempt(order_id) for order_id in orders))
    assert sum(won) == 2
    use = await DiscountUse.find_one({"discount_id": code.id})
    assert use.uses == 2 and len(use.orders) == 2
    # The refused attempts gave their global use back: only the two that counted remain.
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (2, 98)
    with pytest.raises(DiscountInvalid) as refused:
        await discounts.usable("race", customer="email:guest@example.com")
    assert refused.value.extra["reason"] == "customer_limit"
    # Another customer may still use it.
    assert (await discounts.usable("RACE", customer="user:someone")).id == code.id


async def test_release_gives_one_use_back(app):
    code = await make_code(usage_limit=1, usage_limit_per_customer=1)
    order_id = PydanticObjectId()
    await discounts.redeem(code, order_id=order_id, customer="user:a")
    with pytest.raises(DiscountInvalid):
        await discounts.usable("race", customer="user:b")
    await discounts.release(discount_id=code.id, customer="user:a", order_id=order_id)
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (0, 1)
    assert (await DiscountUse.find_one({"customer": "user:a"})).uses == 0
    assert (await discounts.usable("race", customer="user:a")).id == code.id


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"active": False}, "unknown"),
        ({"starts_at": "2999-01-01T00:00:00Z"}, "not_started"),
        ({"ends_at": "2000-01-01T00:00:00Z"}, "expired"),
        ({"usage_limit": 0}, "used_up"),
    ],
)
async def test_codes_that_cannot_be_used(app, fields, reason):
    await make_code(**fields)
    with pytest.raises(DiscountInvalid) as refused:
        await discounts.usable("Race", customer=None)
    assert refused.value.extra["reason"] == reason
