"""Low-stock alerts for one product mail the admins at most once per
LOW_STOCK_ALERT_INTERVAL_SECONDS, however often the stock crosses the threshold (a checkout ->
cancel loop crosses it every turn); the `low_stock` flag still flips on every crossing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.cart.models import Cart, CartLine
from app.catalog.models import Product
from app.core import db
from app.core.clock import utcnow
from app.inventory import stock as inventory
from tests.support.inventory import ALERTED, alerts, ledger, stored
from tests.support.orders import ADDRESS

pytestmark = pytest.mark.usefixtures("app", "staff")

HOUR = 3600


async def take(product, quantity: int = 1):
    return await db.run_in_transaction(
        lambda session: inventory.take_stock(
            product_id=product.id, quantity=quantity, actor="user:x", session=session
        )
    )


async def give(product, quantity: int = 1):
    return await inventory.return_stock(product_id=product.id, quantity=quantity, reason="cancel")


async def last_alerted_long_ago(product, seconds: int) -> None:
    """As if the last alert went out `seconds` ago (instead of waiting that long)."""
    alerted_at = utcnow() - timedelta(seconds=seconds)
    await Product.get_pymongo_collection().update_one(
        {"_id": product.id}, {"$set": {"variants.0.low_stock_alerted_at": alerted_at}}
    )


async def test_crossings_within_the_interval_alert_once(stocked, settings):
    assert settings.LOW_STOCK_ALERT_INTERVAL_SECONDS == HOUR  # the default
    product = await stocked(stock=6, low_stock_threshold=5)

    await take(product)  # 6 -> 5: alert
    first = await stored(product)
    assert first.low_stock is True and first.variants[0].low_stock_alerted_at is not None
    assert sorted(r.to for r in await alerts()) == ALERTED

    for _ in range(5):
        await give(product)  # 5 -> 6: the flag is re-armed...
        assert (await stored(product)).low_stock is False
        await take(product)  # 6 -> 5: ...and flips again, without a second email
        assert (await stored(product)).low_stock is True

    assert len(await alerts()) == len(ALERTED)
    assert (await stored(product)).variants[0].low_stock_alerted_at == first.variants[
        0
    ].low_stock_alerted_at


async def test_a_crossing_after_the_interval_alerts_again(stocked):
    product = await stocked(stock=6, low_stock_threshold=5)
    await take(product)
    await give(product)

    await last_alerted_long_ago(product, HOUR // 2)
    await take(product)  # crossing, half an hour after the alert: quiet
    assert len(await alerts()) == len(ALERTED)

    await give(product)
    await last_alerted_long_ago(product, HOUR + 1)
    await take(product)  # crossing, an hour after the alert: mailed again
    assert len(await alerts()) == 2 * len(ALERTED)
    assert utcnow() - (await stored(product)).variants[0].low_stock_alerted_at < timedelta(
        minutes=5
    )

    await take(product)  # further down, no crossing: quiet whatever the clock says
    assert len(await alerts()) == 2 * len(ALERTED)


@pytest.mark.parametrize("settings_overrides", [{"LOW_STOCK_ALERT_INTERVAL_SECONDS": 60}])
async def test_the_interval_is_a_setting(stocked):
    product = await stocked(stock=6, low_stock_threshold=5)
    await take(product)
    await give(product)
    await take(product)  # within the minute: quiet
    assert len(await alerts()) == len(ALERTED)
    await give(product)
    await last_alerted_long_ago(product, 61)

    await take(product)

    assert len(await alerts()) == 2 * len(ALERTED)


@pytest.mark.parametrize("transactional", [True, False], ids=["transaction", "no-transaction"])
async def test_a_burst_of_checkout_and_cancel_cycles_alerts_once(
    client, create_user, stocked, transactional, request
):
    if not transactional:
        request.getfixturevalue("without_transactions")
    product = await stocked(stock=6, low_stock_threshold=5)
    shoppers = [await create_user() for _ in range(6)]

    async def cycle(user, headers, ip: str) -> None:
        await Cart.find({"user_id": user.id}).delete()
        await Cart(user_id=user.id, lines=[CartLine(product_id=product.id, quantity=1)]).insert()
        placed = await client.post(
            "/api/v1/orders",
            json={"shipping_address": ADDRESS},
            headers=headers,
            scope_base={"client": (ip, 40000)},
        )
        if placed.status_code != 201:
            return  # sold out for the moment (409): another shopper holds the units
        order_id = (await placed.get_json())["id"]
        cancelled = await client.post(
            f"/api/v1/orders/{order_id}/cancel", headers=headers, scope_base={"client": (ip, 1)}
        )
        assert cancelled.status_code == 200, await cancelled.get_data(as_text=True)

    async def shopper(number: int, user, headers) -> None:
        for _ in range(3):
            await cycle(user, headers, f"10.0.0.{number}")

    # One cycle alone first: its sale (6 -> 5) is a certain crossing. In the burst the first
    # move applied is a sale from 6 (a cancel follows its own checkout): a second crossing.
    await cycle(*shoppers[0], "10.0.1.1")
    await asyncio.gather(*(shopper(i, *s) for i, s in enumerate(shoppers, start=1)))

    rows = await ledger(product)
    crossings = sum(1 for m in rows if m.delta < 0 and m.stock_after <= 5 < m.stock_after - m.delta)
    assert crossings >= 2
    assert sorted(r.to for r in await alerts()) == ALERTED  # one alert, to each admin
    final = await stored(product)
    assert (final.stock, final.low_stock) == (6, False)
