"""A refund Stripe refuses when an order is cancelled, over real HTTP against localstripe:
the money stays owed (`refund_failed`), then the job, an admin, or a `charge.refunded`
webhook for a refund made in the dashboard brings the order in line, with the charge refunded
exactly once at the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.orders import jobs
from app.orders.models import Order
from app.payments.stripe_gateway import StripeGateway
from tests.support.orders import stock_of
from tests.support.payments import charges_of

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
async def stripe_refuses_next(monkeypatch, stripe_api, confirm_in_browser):
    """The next refund is refused by localstripe itself: it is asked (over HTTP, through the
    real gateway) of a payment that was declined, which the emulator refuses with a 400 as
    Stripe does; later refunds go to the payment they name. Yields the refund keys asked."""
    declined = await stripe_api.payment_intents.create_async({"amount": 3800, "currency": "usd"})
    assert (await confirm_in_browser(declined.id, "pm_card_chargeCustomerFail"))["status"] == (
        "requires_payment_method"
    )
    real = StripeGateway.refund
    asked: list[str] = []

    async def refund(self, *, intent_id, amount, idempotency_key, reason=None):
        target = declined.id if not asked else intent_id
        asked.append(idempotency_key)
        return await real(
            self, intent_id=target, amount=amount, idempotency_key=idempotency_key, reason=reason
        )

    monkeypatch.setattr(StripeGateway, "refund", refund)
    return asked


async def cancel(client, customer, order_id: str) -> tuple[int, dict]:
    response = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=customer[1])
    return response.status_code, await response.get_json()


async def make_due(order_id: str) -> None:
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order_id)},
        {"$set": {"payment.refund_retry_at": utcnow() - timedelta(seconds=1)}},
    )


async def refunded_at_stripe(stripe_api, order: dict) -> int:
    (charge,) = await charges_of(stripe_api, order["payment"]["intent_id"])
    return charge["amount_refunded"]


async def test_refused_at_stripe_then_given_back_by_the_job(
    client,
    customer,
    placed_order,
    stripe_api,
    stripe_refuses_next,
    stock,
    charge_refunded_event,
    deliver,
):
    order = await placed_order(paid=True)

    status, body = await cancel(client, customer, order["id"])

    assert status == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refund_failed"
    [refused] = body["payment"]["refunds"]
    assert refused["status"] == "failed" and refused["failure_reason"]  # the emulator's reason
    assert await refunded_at_stripe(stripe_api, order) == 0
    assert await stock_of(stock.shirt) == 10

    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1

    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    assert [r.status for r in stored.payment.refunds] == ["failed", "succeeded"]
    assert stripe_refuses_next == [f"refund-{r.id}" for r in stored.payment.refunds]
    assert await refunded_at_stripe(stripe_api, order) == 3800

    # Stripe's `charge.refunded` for it, arriving later, changes nothing.
    response = await deliver(await charge_refunded_event(order["payment"]["intent_id"]))
    assert (await response.get_json())["result"] == "unchanged"
    assert (await Order.get(order["id"])).payment.amount_refunded == 3800


async def test_refused_at_stripe_then_refunded_in_the_dashboard(
    client, customer, placed_order, stripe_api, stripe_refuses_next, charge_refunded_event, deliver
):
    """Support gives the money back in Stripe's dashboard: its webhook settles the debt, and
    the job never asks Stripe for it a second time."""
    order = await placed_order(paid=True)
    await cancel(client, customer, order["id"])
    await stripe_api.refunds.create_async({"payment_intent": order["payment"]["intent_id"]})

    response = await deliver(await charge_refunded_event(order["payment"]["intent_id"]))

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "payment refunded"
    stored = await Order.get(order["id"])
    assert stored.status == "cancelled" and stored.payment.status == "refunded"
    assert stored.payment.refund_retry_at is None
    assert [(r.status, r.actor) for r in stored.payment.refunds] == [
        ("failed", "customer"),
        ("succeeded", "provider"),
    ]
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 0
    assert len(stripe_refuses_next) == 1
    assert await refunded_at_stripe(stripe_api, order) == 3800


async def test_refused_at_stripe_then_refunded_by_an_admin(
    client, customer, admin, placed_order, stripe_api, stripe_refuses_next
):
    order = await placed_order(paid=True)
    await cancel(client, customer, order["id"])

    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={}, headers=admin[1]
    )

    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refunded"
    assert await refunded_at_stripe(stripe_api, order) == 3800
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 0
    assert len(stripe_refuses_next) == 2
