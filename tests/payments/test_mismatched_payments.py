"""An order Stripe charged the wrong amount for (its intent changed at Stripe before the
customer paid), cancelled: what Stripe took is given back, once, over real HTTP against
localstripe, told by its own signed `payment_intent.succeeded`."""

from __future__ import annotations

import pytest

from app.orders.models import Order
from tests.support.payments import charges_of

pytestmark = pytest.mark.usefixtures("app")


@pytest.mark.parametrize("by", ["customer", "admin"])
async def test_an_underpaid_order_cancelled_gives_back_what_stripe_took(
    placed_order,
    confirm_in_browser,
    emulator_event,
    deliver,
    client,
    customer,
    admin,
    by,
    stripe_api,
):
    order = await placed_order()
    intent_id = order["payment"]["intent_id"]
    await stripe_api.payment_intents.update_async(intent_id, {"amount": 3000})
    assert (await confirm_in_browser(intent_id))["status"] == "succeeded"
    response = await deliver(await emulator_event("payment_intent.succeeded", intent_id))
    assert (await response.get_json())["result"] == "payment amount_mismatch"
    (charge,) = await charges_of(stripe_api, intent_id)
    assert charge["amount"] == 3000

    if by == "customer":
        response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    else:
        response = await client.post(
            f"/api/v1/admin/orders/{order['id']}/status",
            json={"status": "cancelled"},
            headers=admin[1],
        )

    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3000
    (charge,) = await charges_of(stripe_api, intent_id)
    assert charge["amount_refunded"] == 3000 and charge["refunded"] is True
    at_stripe = await stripe_api.refunds.list_async({"payment_intent": intent_id})
    assert [r.amount for r in at_stripe.data] == [3000]
    # An admin cannot give back more than Stripe took.
    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"amount": 800}, headers=admin[1]
    )
    assert (await response.get_json())["code"] == "refund_exceeds_payment"
    assert (await Order.get(order["id"])).payment.amount_refunded == 3000
