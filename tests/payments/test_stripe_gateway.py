"""The Stripe gateway over real HTTP against localstripe: intents at checkout, server-side
confirmation (a good card, a declining one), refunds full and partial, cancels."""

from __future__ import annotations

import pytest

from app.orders.models import Order
from tests.support.orders import stock_of
from tests.support.payments import charges_of, status_emails

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def refund(client, admin):
    async def ask(order_id: str, **body):
        return await client.post(
            f"/api/v1/admin/orders/{order_id}/refund", json=body, headers=admin[1]
        )

    return ask


async def test_checkout_creates_the_intent_at_stripe(placed_order, stripe_api):
    order = await placed_order()

    payment = order["payment"]
    assert payment["provider"] == "stripe"
    assert payment["status"] == "requires_payment"
    assert payment["intent_id"].startswith("pi_")
    assert payment["client_secret"].startswith(payment["intent_id"] + "_secret_")
    intent = (await stripe_api.payment_intents.retrieve_async(payment["intent_id"])).to_dict()
    assert intent["amount"] == order["total"] == 3800
    assert intent["currency"] == "usd"
    assert intent["status"] == "requires_payment_method"
    assert intent["metadata"] == {"order_id": order["id"], "order_number": order["number"]}


async def test_a_good_card_pays_once(customer, placed_order, pay, stripe_api):
    _, headers = customer
    order = await placed_order()

    response = await pay(order["id"], headers, "pm_card_visa")

    assert response.status_code == 200, await response.get_data(as_text=True)
    paid = await response.get_json()
    assert paid["status"] == "paid" and paid["payment"]["status"] == "succeeded"
    assert [h["status"] for h in paid["history"]] == ["pending_payment", "paid"]
    intent_id = order["payment"]["intent_id"]
    intent = (await stripe_api.payment_intents.retrieve_async(intent_id)).to_dict()
    assert intent["status"] == "succeeded"
    assert len(await charges_of(stripe_api, intent_id)) == 1

    again = await pay(order["id"], headers, "pm_card_visa")
    assert again.status_code == 409
    assert len(await charges_of(stripe_api, intent_id)) == 1  # never a second charge
    assert len(await status_emails(order["number"])) == 2


async def test_a_declined_card_leaves_the_order_waiting(customer, placed_order, pay, stripe_api):
    _, headers = customer
    order = await placed_order()

    # localstripe declines this one at confirmation (see ../shared/NOTES.md).
    response = await pay(order["id"], headers, "pm_card_chargeCustomerFail")

    assert response.status_code == 402
    problem = await response.get_json()
    assert problem["code"] == "payment_declined"
    assert problem["decline_code"] == "card_declined"
    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "declined"
    assert stored.payment.failure_reason == "card_declined"
    assert stored.payment.attempt_started_at is None  # free for another attempt
    intent_id = order["payment"]["intent_id"]
    intent = (await stripe_api.payment_intents.retrieve_async(intent_id)).to_dict()
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["code"] == "card_declined"
    assert len(await status_emails(order["number"])) == 1  # only the confirmation


async def test_an_unknown_payment_method_is_a_decline_not_an_error(customer, placed_order, pay):
    _, headers = customer
    order = await placed_order()

    response = await pay(order["id"], headers, "pm_card_doesNotExist")

    assert response.status_code == 402
    problem = await response.get_json()
    assert problem["code"] == "payment_declined"
    assert problem["decline_code"] == "payment_method_unknown"  # as the dev gateway says
    assert (await Order.get(order["id"])).status == "pending_payment"


async def test_partial_then_full_refund_through_stripe(placed_order, refund, stock, stripe_api):
    order = await placed_order(paid=True)
    intent_id = order["payment"]["intent_id"]

    partial = await refund(order["id"], amount=1000, reason="scratched mug")
    body = await partial.get_json()
    assert partial.status_code == 200, body
    assert body["status"] == "paid" and body["payment"]["status"] == "partially_refunded"

    rest = await refund(order["id"])
    body = await rest.get_json()
    assert rest.status_code == 200, body
    assert body["status"] == "refunded" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3800

    at_stripe = await stripe_api.refunds.list_async({"payment_intent": intent_id})
    made = sorted((r.amount, r.metadata["reference"]) for r in at_stripe.data)
    stored = await Order.get(order["id"])
    assert made == sorted((r.amount, f"refund-{r.id}") for r in stored.payment.refunds)
    assert sorted(r.provider_refund_id for r in stored.payment.refunds) == sorted(
        r.id for r in at_stripe.data
    )
    (charge,) = await charges_of(stripe_api, intent_id)
    assert charge["amount_refunded"] == 3800
    assert await stock_of(stock.shirt) == 10  # nothing shipped: back on the shelf


async def test_cancel_of_a_paid_order_refunds_it_at_stripe(
    client, customer, placed_order, stock, stripe_api
):
    _, headers = customer
    order = await placed_order(paid=True)

    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)

    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refunded"
    (charge,) = await charges_of(stripe_api, order["payment"]["intent_id"])
    assert charge["amount_refunded"] == 3800 and charge["refunded"] is True
    assert await stock_of(stock.shirt) == 10 and await stock_of(stock.mug) == 3


async def test_cancel_of_an_unpaid_order_cancels_the_intent(
    client, customer, placed_order, stripe_api
):
    _, headers = customer
    order = await placed_order()

    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)

    assert response.status_code == 200
    assert (await response.get_json())["payment"]["status"] == "cancelled"
    intent_id = order["payment"]["intent_id"]
    intent = (await stripe_api.payment_intents.retrieve_async(intent_id)).to_dict()
    assert intent["status"] == "canceled"


async def test_a_payment_made_as_the_order_is_cancelled_is_refunded(
    client, customer, placed_order, confirm_in_browser, stripe_api
):
    """The customer pays in the browser (Stripe.js) just as the order is cancelled: Stripe
    refuses to cancel a succeeded intent, so the payment is recorded and given back."""
    _, headers = customer
    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"])

    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)

    assert response.status_code == 200
    stored = await Order.get(order["id"])
    assert stored.status == "cancelled"
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    (charge,) = await charges_of(stripe_api, order["payment"]["intent_id"])
    assert charge["amount_refunded"] == 3800


async def test_stripe_refusing_our_key_is_never_a_5xx(
    customer, stock, fill_cart, checkout, pay, app
):
    """A key Stripe refuses (401) is a configuration error: logged, and the shopper sees
    `intent_failed` and a 402 `payment_unavailable`, not a 500."""
    from app.payments.gateway import build_gateway

    bad = app.config["SETTINGS"].model_copy(update={"STRIPE_SECRET_KEY": "pk_not_a_secret_key"})
    app.extensions["payment_gateway"] = build_gateway(bad)
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))

    placed = await checkout(headers)
    assert placed.status_code == 201
    order = await placed.get_json()
    assert order["payment"]["status"] == "intent_failed"
    paid = await pay(order["id"], headers)
    assert paid.status_code == 402
    assert (await paid.get_json())["code"] == "payment_unavailable"
    assert await stock_of(stock.mug) == 2
