"""Stripe unreachable: the emulator is stopped (its port refuses connections) and started
again with the same objects. No 5xx, no lost stock reservation, nothing charged twice."""

from __future__ import annotations

import pytest

from app.orders import jobs
from app.orders.models import Order
from tests.support.orders import stock_of
from tests.support.payments import charges_of, stripe_settings

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides(own_localstripe) -> dict:
    return stripe_settings(own_localstripe)


async def test_checkout_while_stripe_is_down_keeps_the_order_and_its_stock(
    customer, stock, fill_cart, checkout, pay, own_localstripe, stripe_api
):
    user, headers = customer
    await fill_cart(user, (stock.mug, 2))
    own_localstripe.stop()

    response = await checkout(headers)

    assert response.status_code == 201, await response.get_data(as_text=True)
    order = await response.get_json()
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] == "intent_failed"
    assert order["payment"]["intent_id"] is None and order["payment"]["client_secret"] is None
    assert await stock_of(stock.mug) == 1  # reserved for this order

    unavailable = await pay(order["id"], headers)
    assert unavailable.status_code == 402
    assert (await unavailable.get_json())["code"] == "payment_unavailable"

    own_localstripe.start()
    paid = await pay(order["id"], headers)  # creates the intent, then confirms it

    assert paid.status_code == 200, await paid.get_data(as_text=True)
    body = await paid.get_json()
    assert body["status"] == "paid" and body["payment"]["intent_id"].startswith("pi_")
    assert len(await charges_of(stripe_api, body["payment"]["intent_id"])) == 1
    assert await stock_of(stock.mug) == 1


async def test_pay_while_stripe_is_down_charges_nothing_and_can_be_retried(
    customer, placed_order, pay, own_localstripe, stripe_api
):
    _, headers = customer
    order = await placed_order()
    own_localstripe.stop()

    response = await pay(order["id"], headers)

    assert response.status_code == 402
    assert (await response.get_json())["code"] == "payment_unavailable"
    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "requires_payment"  # the attempt was given up
    assert stored.payment.attempt_started_at is None

    own_localstripe.start()  # the same intents: its state file survived
    paid = await pay(order["id"], headers)

    assert paid.status_code == 200, await paid.get_data(as_text=True)
    assert (await paid.get_json())["status"] == "paid"
    assert len(await charges_of(stripe_api, order["payment"]["intent_id"])) == 1


async def test_a_refund_while_stripe_is_down_stays_pending_then_completes(
    placed_order, client, admin, own_localstripe, stripe_api
):
    order = await placed_order(paid=True)
    own_localstripe.stop()

    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"amount": 1000}, headers=admin[1]
    )

    assert response.status_code == 200
    body = await response.get_json()
    assert body["payment"]["status"] == "refund_pending"
    assert [r["status"] for r in body["payment"]["refunds"]] == ["pending"]

    own_localstripe.start()
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1

    stored = await Order.get(order["id"])
    assert stored.payment.status == "partially_refunded"
    assert [r.status for r in stored.payment.refunds] == ["succeeded"]
    (charge,) = await charges_of(stripe_api, order["payment"]["intent_id"])
    assert charge["amount_refunded"] == 1000


async def test_a_webhook_that_needs_stripe_while_it_is_down_is_redelivered(
    placed_order, stripe_api, charge_refunded_event, deliver, own_localstripe
):
    """Applying `charge.refunded` asks Stripe for the refunds: down, the webhook answers
    409 and keeps nothing, so Stripe's next delivery applies it."""
    order = await placed_order(paid=True)
    intent_id = order["payment"]["intent_id"]
    await stripe_api.refunds.create_async({"payment_intent": intent_id, "amount": 300})
    event = await charge_refunded_event(intent_id)
    own_localstripe.stop()

    down = await deliver(event)

    assert down.status_code == 409
    assert (await down.get_json())["code"] == "payment_unavailable"
    assert down.headers["Retry-After"]
    assert (await Order.get(order["id"])).payment.amount_refunded == 0

    own_localstripe.start()
    again = await deliver(event)

    assert again.status_code == 200
    assert (await again.get_json())["duplicate"] is False
    assert (await Order.get(order["id"])).payment.amount_refunded == 300
