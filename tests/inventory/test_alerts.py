"""Low-stock alerts: one email to every active admin per crossing of the threshold (with
LOW_STOCK_ALERT_INTERVAL_SECONDS=0; at most one per interval: test_alert_interval.py)."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import OperationFailure

from app.auth.models import User
from app.core import db
from app.email.backends import backend_from_settings
from app.email.sender import EmailSender
from app.inventory import stock as inventory
from tests.support.inventory import ALERTED, alerts, ledger, stored
from tests.support.smtp import SMTPServer

pytestmark = pytest.mark.usefixtures("app", "staff")

PRODUCTS = "/api/v1/admin/products"


@pytest.fixture
def settings_overrides():
    return {"LOW_STOCK_ALERT_INTERVAL_SECONDS": 0}  # every crossing alerts


async def take(product, quantity: int = 1):
    return await db.run_in_transaction(
        lambda session: inventory.take_stock(
            product_id=product.id, quantity=quantity, actor="user:x", session=session
        )
    )


async def give(product, quantity: int):
    return await inventory.return_stock(product_id=product.id, quantity=quantity, reason="cancel")


async def test_crossing_alerts_every_active_admin_once(stocked):
    product = await stocked("Desk Lamp", stock=10, low_stock_threshold=5)

    await take(product, 4)  # 6: still above
    assert await alerts() == []

    await take(product, 1)  # 5: at the threshold counts
    rows = await alerts()
    assert sorted(r.to for r in rows) == ALERTED
    assert {r.subject for r in rows} == {"Low stock: Desk Lamp (5 left)"}
    assert "5 left in stock" in rows[0].text and "Alert threshold: 5" in rows[0].text
    assert str(product.id) in rows[0].text and rows[0].html and "Desk Lamp" in rows[0].html

    await take(product, 2)  # 3: further decreases stay quiet
    await take(product, 3)  # 0: sold out, still the same crossing
    assert len(await alerts()) == 2
    stock = await stored(product)
    assert (stock.stock, stock.low_stock) == (0, True)


async def test_restock_above_the_threshold_re_arms_the_alert(stocked):
    product = await stocked(stock=6, low_stock_threshold=5)

    await take(product)  # 5: alert
    await give(product, 3)  # 8: back above, re-armed
    assert (await stored(product)).low_stock is False
    await take(product, 2)  # 6: above, quiet
    assert len(await alerts()) == 2
    await take(product, 1)  # 5: a new crossing
    assert len(await alerts()) == 4

    await give(product, 1)  # 6: one unit above is above
    await take(product)  # 5: crossing again
    assert len(await alerts()) == 6


async def test_restock_that_stays_low_does_not_re_arm(stocked):
    product = await stocked(stock=4, low_stock_threshold=5)

    await take(product)  # created low: no crossing from above
    await give(product, 1)  # 4: still low
    await take(product)
    assert await alerts() == []


@pytest.mark.parametrize("transactional", [True, False], ids=["transaction", "no-transaction"])
async def test_a_burst_of_concurrent_sales_alerts_exactly_once(stocked, transactional, request):
    if not transactional:
        request.getfixturevalue("without_transactions")
    product = await stocked(stock=12, low_stock_threshold=5)

    async def sell(session):
        return await inventory.take_stock(product_id=product.id, quantity=1, session=session)

    async def buyer():
        # On a server, concurrent transactions on one product conflict; the losers retry
        # (run_in_transaction does, a few times; a client retrying the checkout does too).
        while True:
            try:
                return await db.run_in_transaction(sell)
            except OperationFailure as error:
                if not error.has_error_label("TransientTransactionError"):
                    raise

    results = await asyncio.gather(*(buyer() for _ in range(15)))

    assert sum(r is not None for r in results) == 12
    assert (await stored(product)).stock == 0
    assert sorted(r.to for r in await alerts()) == ALERTED
    assert sorted(m.stock_after for m in await ledger(product)) == list(range(12))


async def test_concurrent_restocks_and_sales_around_the_threshold(stocked, without_transactions):
    """Sales and returns interleave across the threshold: every alert matches one crossing in
    the ledger (a movement that took the stock from above to at or under the threshold)."""
    product = await stocked(stock=7, low_stock_threshold=5)

    # The first sale goes alone, so one crossing (7 -> 5) is certain: a wire server applies
    # gathered moves in any order (all the returns first would never cross), and neither
    # list order nor ObjectId order is the order of application. The ledger rows' own
    # `stock_after` says what each move crossed, whatever order they were applied in.
    await take(product, 2)
    moves = [give(product, 2), take(product, 2)] * 10
    await asyncio.gather(*moves)

    rows = await ledger(product)
    assert (await stored(product)).stock == 7 + sum(m.delta for m in rows if m.reason != "initial")
    crossings = sum(1 for m in rows if m.delta < 0 and m.stock_after <= 5 < m.stock_after - m.delta)
    assert crossings >= 1, "the first sale (7 -> 5) crosses"
    assert len(await alerts()) == len(ALERTED) * crossings


async def test_admin_adjustments_alert_too(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=20, low_stock_threshold=5)

    url = f"{PRODUCTS}/{product.id}/stock"
    await client.post(url, json={"delta": -14, "reason": "breakage"}, headers=headers)  # 6
    assert await alerts() == []
    await client.post(url, json={"set": 2, "reason": "stocktake"}, headers=headers)
    rows = await alerts()
    # The admin who made the change is an admin too.
    assert sorted(r.to for r in rows) == sorted([*ALERTED, "admin@example.com"])


async def test_patch_stock_alerts_and_threshold_changes_only_move_the_flag(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=8, low_stock_threshold=5)
    url = f"{PRODUCTS}/{product.id}"

    # Raising the threshold over the stock is the admin's own doing: listed, not emailed.
    response = await client.patch(url, json={"low_stock_threshold": 10}, headers=headers)
    assert (await response.get_json())["stock_status"] == "low_stock"
    assert (await stored(product)).low_stock is True and await alerts() == []

    # Lowering it re-arms; a PATCH of the stock that crosses it alerts.
    await client.patch(url, json={"low_stock_threshold": 3}, headers=headers)
    assert (await stored(product)).low_stock is False
    await client.patch(url, json={"stock": 3}, headers=headers)
    assert len(await alerts()) == len(ALERTED) + 1


async def test_archived_products_do_not_alert(stocked):
    product = await stocked(stock=8, low_stock_threshold=5, status="archived")

    await inventory.set_stock(product_id=product.id, stock=1, reason="count")

    assert await alerts() == []


async def test_no_admin_no_alert_and_no_failure(stocked):
    await User.find({"role": "admin"}).delete()
    product = await stocked(stock=6, low_stock_threshold=5)

    assert (await take(product)).product.stock == 5
    assert await alerts() == []


async def test_alerts_reach_the_admins_inbox(stocked, settings):
    server = SMTPServer()
    server.start()
    try:
        smtp = settings.model_copy(
            update={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_STARTTLS": False}
        )
        product = await stocked("Desk Lamp", stock=1, low_stock_threshold=0)
        await take(product)

        sender = EmailSender(backend=backend_from_settings(smtp), settings=smtp)
        assert await sender.process_due() == len(ALERTED)
    finally:
        server.stop()
    assert sorted(m["To"] for m in server.inbox.messages) == ALERTED
    message = server.inbox.messages[0]
    assert message["Subject"] == "Sold out: Desk Lamp"
    assert "customers cannot buy it" in message.get_body(("plain",)).get_content()
