"""Reconciliation: webhooks that never came. Orders awaiting payment are checked with Stripe
(localstripe) and what it says is applied, by `reconcile_payments`, the order jobs' round
and `quart payments-reconcile`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.orders import jobs
from app.orders.models import Order
from app.orders.provider_events import reconcile_payments
from tests.payments.conftest import free_port, status_emails, stripe_settings

pytestmark = pytest.mark.usefixtures("app")


async def age(order: dict, seconds: int) -> None:
    await Order.get_pymongo_collection().update_one(
        {"_id": (await Order.get(order["id"])).id},
        {"$set": {"created_at": utcnow() - timedelta(seconds=seconds)}},
    )


async def test_a_payment_whose_webhook_never_came_is_found(placed_order, confirm_in_browser):
    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"])
    await age(order, 700)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 1, "changed": 1}
    stored = await Order.get(order["id"])
    assert stored.status == "paid" and stored.payment.status == "succeeded"
    assert stored.history[-1].actor == "system"
    assert len(await status_emails(order["number"])) == 2
    # Asked again, nothing changes twice.
    assert await reconcile_payments(older_than_seconds=600) == {"checked": 0, "changed": 0}


async def test_young_orders_and_unpaid_intents_are_left_alone(placed_order, confirm_in_browser):
    young = await placed_order()
    await confirm_in_browser(young["payment"]["intent_id"])
    waiting = await placed_order()
    await age(waiting, 700)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 1, "changed": 0}
    assert (await Order.get(young["id"])).status == "pending_payment"  # its webhook may come
    assert (await Order.get(waiting["id"])).payment.status == "requires_payment"


async def test_a_decline_in_the_browser_is_noted(placed_order, confirm_in_browser):
    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"], "pm_card_chargeCustomerFail")
    await age(order, 700)

    assert (await reconcile_payments(older_than_seconds=600))["changed"] == 1

    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "declined" and stored.payment.failure_reason == "card_declined"


async def test_an_intent_checkout_could_not_create_is_created(
    customer, stock, fill_cart, checkout, stripe_api, app, localstripe
):
    from app.payments.gateway import build_gateway

    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    good = app.extensions.get("payment_gateway")
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    down = app.config["SETTINGS"].model_copy(update={"STRIPE_API_BASE": nowhere})
    app.extensions["payment_gateway"] = build_gateway(down)
    order = await (await checkout(headers)).get_json()
    assert order["payment"]["status"] == "intent_failed"
    await app.extensions["payment_gateway"].aclose()
    app.extensions["payment_gateway"] = good or build_gateway(app.config["SETTINGS"])
    await age(order, 700)

    assert (await reconcile_payments(older_than_seconds=600))["changed"] == 1

    stored = await Order.get(order["id"])
    assert stored.payment.status == "requires_payment" and stored.payment.client_secret
    intent = await stripe_api.payment_intents.retrieve_async(stored.payment.intent_id)
    assert intent.metadata["order_id"] == order["id"]


async def test_the_jobs_round_pays_before_it_expires(placed_order, confirm_in_browser, settings):
    """Paid in the browser, no webhook, past the payment timeout: the round reconciles first,
    so the order is paid, not cancelled."""
    paid = await placed_order()
    await confirm_in_browser(paid["payment"]["intent_id"])
    unpaid = await placed_order()
    for order in (paid, unpaid):
        await age(order, settings.ORDER_PAYMENT_TIMEOUT_SECONDS + 60)

    done = await jobs.run_once(settings)

    assert done["payments_reconciled"] == 1 and done["expired"] == 1
    assert (await Order.get(paid["id"])).status == "paid"
    assert (await Order.get(unpaid["id"])).status == "cancelled"


async def test_expiry_alone_never_cancels_a_paid_order(placed_order, confirm_in_browser):
    from app.orders import service

    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"])
    await age(order, 3600)

    assert await service.expire_unpaid_orders(older_than_seconds=1800) == 0
    assert (await Order.get(order["id"])).status == "paid"


def test_the_cli_command(localstripe):
    from app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(**stripe_settings(localstripe)))
    result = app.test_cli_runner().invoke(args=["payments-reconcile", "--older-than", "0"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("payments reconciled: {'checked': ")


@pytest.mark.parametrize("amount", [3700, 3900], ids=["underpaid", "overpaid"])
async def test_a_payment_of_another_amount_found_by_reconciliation_is_flagged(
    placed_order, confirm_in_browser, stripe_api, amount
):
    """The intent's amount was changed at Stripe (not by us) and then paid: whether it took
    less or more than the order's total, reconciliation flags it instead of paying."""
    order = await placed_order()
    intent_id = order["payment"]["intent_id"]
    await stripe_api.payment_intents.update_async(intent_id, {"amount": amount})
    assert (await confirm_in_browser(intent_id))["status"] == "succeeded"
    await age(order, 700)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 1, "changed": 1}
    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "amount_mismatch"
    assert stored.payment.failure_reason == f"provider reported {amount} usd"
