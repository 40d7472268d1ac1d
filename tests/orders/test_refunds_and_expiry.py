"""Refunds (full, partial, concurrent) and the expiry of unpaid orders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.orders import cancellation, jobs
from app.orders.models import Order
from app.payments.dev import DevGateway
from app.payments.models import DevPaymentIntent
from app.payments.types import ProviderUnavailable
from tests.support.orders import stock_of

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def refund(client, admin):
    async def ask(order_id: str, **body):
        return await client.post(
            f"/api/v1/admin/orders/{order_id}/refund", json=body, headers=admin[1]
        )

    return ask


async def test_partial_then_full_refund(placed_order, refund, stock):
    order = await placed_order(paid=True)

    partial = await refund(order["id"], amount=1000, reason="scratched mug")
    body = await partial.get_json()
    assert partial.status_code == 200
    assert body["status"] == "paid"
    assert body["payment"]["status"] == "partially_refunded"
    assert body["payment"]["amount_refunded"] == 1000

    rest = await refund(order["id"])
    body = await rest.get_json()
    assert body["status"] == "refunded" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3800
    assert [r["amount"] for r in body["payment"]["refunds"]] == [1000, 2800]
    assert (await DevPaymentIntent.get(order["payment"]["intent_id"])).amount_refunded == 3800
    assert await stock_of(stock.shirt) == 10  # not shipped: back on the shelf


async def test_refund_of_a_delivered_order_does_not_restock(
    placed_order, refund, client, admin, stock
):
    order = await placed_order(paid=True)
    for status in ("processing", "shipped", "delivered"):
        await client.post(
            f"/api/v1/admin/orders/{order['id']}/status",
            json={"status": status, "tracking_number": "T-1"},
            headers=admin[1],
        )
    body = await (await refund(order["id"])).get_json()
    assert body["status"] == "refunded"
    assert await stock_of(stock.shirt) == 8


@pytest.mark.parametrize("amount", [0, -5, 3801, 10**30, "100", 1.5, True])
async def test_bad_refund_amounts_are_422(placed_order, refund, amount):
    order = await placed_order(paid=True)
    response = await refund(order["id"], amount=amount)
    assert response.status_code == 422, await response.get_data(as_text=True)
    assert (await Order.get(order["id"])).payment.amount_refunded == 0


async def test_an_unpaid_order_has_nothing_to_refund(placed_order, refund):
    order = await placed_order()
    response = await refund(order["id"])
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "not_refundable"


async def test_concurrent_refunds_never_exceed_the_total(placed_order, refund):
    order = await placed_order(paid=True)

    responses = await asyncio.gather(*(refund(order["id"], amount=1000) for _ in range(6)))

    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 3, [r.status_code for r in responses]
    assert all(r.status_code in (200, 409, 422) for r in responses)
    stored = await Order.get(order["id"])
    assert stored.payment.amount_refunded == 3000
    assert (await DevPaymentIntent.get(stored.payment.intent_id)).amount_refunded == 3000


async def test_a_refund_the_provider_missed_is_retried(placed_order, refund, monkeypatch):
    order = await placed_order(paid=True)

    async def down(self, **kwargs):
        raise ProviderUnavailable("timeout")

    with monkeypatch.context() as patch:
        patch.setattr(DevGateway, "refund", down)
        response = await refund(order["id"], amount=500)
    assert response.status_code == 200
    assert (await response.get_json())["payment"]["status"] == "refund_pending"

    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1
    stored = await Order.get(order["id"])
    assert stored.payment.status == "partially_refunded"
    assert [r.status for r in stored.payment.refunds] == ["succeeded"]
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 0
    assert (await DevPaymentIntent.get(stored.payment.intent_id)).amount_refunded == 500


async def test_a_pending_refund_booked_this_very_moment_is_due_at_no_age(
    placed_order, refund, monkeypatch
):
    """`older_than_seconds=0` takes a refund booked at the same instant (the clock's
    resolution, a millisecond on a server, once made this test suite's retry flaky)."""
    order = await placed_order(paid=True)

    async def down(self, **kwargs):
        raise ProviderUnavailable("timeout")

    with monkeypatch.context() as patch:
        patch.setattr(DevGateway, "refund", down)
        assert (await refund(order["id"], amount=500)).status_code == 200
    booked = (await Order.get(order["id"])).payment.refunds[0].created_at
    monkeypatch.setattr("app.orders.owed_refunds.utcnow", lambda: booked)

    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1


async def make_old(order_id: str, seconds: int = 3600) -> None:
    collection = Order.get_pymongo_collection()
    await collection.update_one(
        {"_id": (await Order.get(order_id)).id},
        {"$set": {"created_at": utcnow() - timedelta(seconds=seconds)}},
    )


async def test_unpaid_orders_expire_once_with_two_workers(placed_order, create_user, stock):
    await stock.mug.set({"stock": 10, "variants.0.stock": 10})
    old = [await placed_order(user=await create_user()) for _ in range(3)]
    fresh = await placed_order(user=await create_user())
    for order in old:
        await make_old(order["id"])
    assert await stock_of(stock.shirt) == 2

    counts = await asyncio.gather(
        cancellation.expire_unpaid_orders(older_than_seconds=1800),
        cancellation.expire_unpaid_orders(older_than_seconds=1800),
    )

    assert sum(counts) == 3
    for order in old:
        stored = await Order.get(order["id"])
        assert stored.status == "cancelled"
        assert [h.status for h in stored.history] == ["pending_payment", "cancelled"]
        assert stored.history[-1].actor == "system"
    assert (await Order.get(fresh["id"])).status == "pending_payment"
    assert await stock_of(stock.shirt) == 8  # three orders' 2 shirts each came back, once


async def test_expiry_leaves_a_payment_in_flight_alone(placed_order):
    order = await placed_order()
    await make_old(order["id"])
    await Order.get_pymongo_collection().update_one(
        {"_id": (await Order.get(order["id"])).id},
        {"$set": {"payment.status": "processing", "payment.attempt_started_at": utcnow()}},
    )
    assert await cancellation.expire_unpaid_orders(older_than_seconds=1800) == 0


async def test_a_payment_landing_on_an_expired_order_is_refunded(placed_order, customer, pay):
    order = await placed_order()
    await make_old(order["id"])
    await cancellation.expire_unpaid_orders(older_than_seconds=1800)
    # The frontend still shows the (now cancelled) order; the provider charges the card.
    from app.orders.payments import record_success
    from app.payments.gateway import gateway

    intent = await gateway().confirm(
        intent_id=order["payment"]["intent_id"], payment_method="pm_card_visa", idempotency_key="x"
    )
    assert intent.status == "canceled"  # the dev provider refuses: the intent was cancelled

    await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": order["payment"]["intent_id"]}, {"$set": {"status": "succeeded"}}
    )
    settled = await record_success(
        order_id=(await Order.get(order["id"])).id,
        intent=await gateway().retrieve(intent_id=order["payment"]["intent_id"]),
        actor="provider",
    )
    assert settled.status == "cancelled"
    assert settled.payment.status == "refunded" and settled.payment.amount_refunded == 3800


async def test_expiry_that_loses_the_race_with_a_payment_leaves_the_sale_alone(
    placed_order, stock, monkeypatch
):
    """The customer's payment is recorded exactly between the expiry job reading the order
    (pending_payment) and its conditional cancel: the cancel loses, and the job gives up;
    it never cancels the now paid order as "not paid in time"."""
    from app.email.models import OutboxEmail
    from app.orders import payments, provider_events
    from app.payments.gateway import gateway

    order = await placed_order()
    await make_old(order["id"])
    order_id = (await Order.get(order["id"])).id
    real_reconcile = provider_events.reconcile_order
    raced = []

    async def payment_lands_right_after(current):
        # The job asks the provider (not paid yet), then, before its conditional cancel, the
        # card is charged and the payment recorded, through the real services.
        outcome = await real_reconcile(current)
        raced.append((current.status, outcome))
        intent = await gateway().confirm(
            intent_id=current.payment.intent_id, payment_method="pm_card_visa", idempotency_key="r"
        )
        paid = await payments.record_success(order_id=order_id, intent=intent, actor="provider")
        assert paid.status == "paid"
        return outcome

    monkeypatch.setattr(provider_events, "reconcile_order", payment_lands_right_after)

    assert await cancellation.expire_unpaid_orders(older_than_seconds=1800) == 0

    assert raced == [("pending_payment", "unchanged")]  # the race ran where it was meant to
    stored = await Order.get(order["id"])
    assert stored.status == "paid"
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert stored.payment.status == "succeeded"
    assert stored.payment.amount_refunded == 0 and stored.payment.refunds == []
    assert (await DevPaymentIntent.get(stored.payment.intent_id)).amount_refunded == 0
    assert await stock_of(stock.shirt) == 8 and await stock_of(stock.mug) == 2  # still sold
    subjects = [row.subject for row in await OutboxEmail.find({"kind": "order_status"}).to_list()]
    assert not [s for s in subjects if stored.number in s and "cancelled" in s], subjects
