"""Reconciliation: webhooks that never came. Orders awaiting payment are checked with Stripe
(localstripe) and what it says is applied, by `reconcile_payments`, the order jobs' round
and `quart payments-reconcile`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.orders import cancellation, jobs
from app.orders.models import Order
from app.orders.provider_events import reconcile_payments
from tests.support.payments import free_port, status_emails, stripe_settings

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides(localstripe) -> dict:
    # One customer leaves several orders unpaid here: more than the cap on unpaid orders.
    return stripe_settings(localstripe, UNPAID_ORDERS_MAX=10)


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

    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"])
    await age(order, 3600)

    assert await cancellation.expire_unpaid_orders(older_than_seconds=1800) == 0
    assert (await Order.get(order["id"])).status == "paid"


def test_the_cli_command(localstripe):
    from app import create_app
    from tests.support.settings import make_settings

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


@pytest.fixture
def provider_fails_for(app, monkeypatch):
    """`provider_fails_for(failure)`: the gateway's `retrieve` raises `failure(intent_id)`
    when that gives an exception (as Stripe refusing or timing out on that intent), and
    answers as usual when it gives None."""
    from app.payments.gateway import gateway

    def install(failure) -> None:
        real = gateway().retrieve

        async def retrieve(*, intent_id):
            error = failure(intent_id)
            if error is not None:
                raise error
            return await real(intent_id=intent_id)

        monkeypatch.setattr(gateway(), "retrieve", retrieve)

    return install


async def test_an_order_the_provider_fails_on_does_not_stop_the_others(
    placed_order, confirm_in_browser, provider_fails_for, monkeypatch
):
    """The oldest order's intent is refused by the provider, the next one times out: both are
    logged and counted, the run goes on and pays the third; the next run comes back to them."""
    from app.payments.types import ProviderError, ProviderUnavailable

    refused, timed_out, fine = [await placed_order() for _ in range(3)]
    for seconds, order in zip((900, 800, 700), (refused, timed_out, fine), strict=True):
        await confirm_in_browser(order["payment"]["intent_id"])
        await age(order, seconds)  # oldest first: `refused`, then `timed_out`, then `fine`
    failures = {
        refused["payment"]["intent_id"]: ProviderError("Stripe refused the request"),
        timed_out["payment"]["intent_id"]: ProviderUnavailable("Stripe is unavailable"),
    }
    provider_fails_for(failures.get)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 1, "changed": 1, "failed": 2}
    assert (await Order.get(fine["id"])).status == "paid"
    assert (await Order.get(refused["id"])).status == "pending_payment"
    assert (await Order.get(timed_out["id"])).status == "pending_payment"

    monkeypatch.undo()  # the provider answers again
    again = await reconcile_payments(older_than_seconds=600)

    assert again == {"checked": 2, "changed": 2}
    assert (await Order.get(refused["id"])).status == "paid"
    assert (await Order.get(timed_out["id"])).status == "paid"


async def test_a_run_stops_after_outages_in_a_row(
    customer, stock, fill_cart, checkout, provider_fails_for
):
    """The provider is down for everyone: after MAX_OUTAGES_IN_A_ROW outages in a row the run
    ends (each attempt may wait out the time-out); the rest are asked next time."""
    from app.orders.provider_events import MAX_OUTAGES_IN_A_ROW
    from app.payments.types import ProviderUnavailable

    user, headers = customer
    orders = []
    for position in range(MAX_OUTAGES_IN_A_ROW + 2):
        await fill_cart(user, (stock.shirt, 1))
        orders.append(await (await checkout(headers)).get_json())
        await age(orders[-1], 2000 - position)  # oldest first, in this order
    asked = []

    def down(intent_id):
        asked.append(intent_id)
        return ProviderUnavailable("Stripe is unavailable")

    provider_fails_for(down)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 0, "changed": 0, "failed": MAX_OUTAGES_IN_A_ROW, "stopped": 1}
    assert asked == [order["payment"]["intent_id"] for order in orders[:MAX_OUTAGES_IN_A_ROW]]


async def test_orders_whose_total_the_provider_refuses_do_not_end_a_run(
    customer, stock, fill_cart, checkout, confirm_in_browser
):
    """Orders placed before checkout refused such totals have no intent and never will: each
    is a refusal of that order (not an outage), so any number of them never stops the run."""
    from app.orders.provider_events import MAX_OUTAGES_IN_A_ROW

    user, headers = customer
    legacy = []
    for position in range(MAX_OUTAGES_IN_A_ROW + 1):
        await fill_cart(user, (stock.shirt, 1))
        order = await (await checkout(headers)).get_json()
        await Order.get_pymongo_collection().update_one(
            {"_id": (await Order.get(order["id"])).id},
            {"$set": {"total": 10, "payment.intent_id": None, "payment.status": "intent_failed"}},
        )
        await age(order, 2000 - position)
        legacy.append(order)
    await fill_cart(user, (stock.mug, 1))
    good = await (await checkout(headers)).get_json()
    await confirm_in_browser(good["payment"]["intent_id"])
    await age(good, 700)

    counts = await reconcile_payments(older_than_seconds=600)

    assert counts == {"checked": 1, "changed": 1, "failed": len(legacy)}
    assert (await Order.get(good["id"])).status == "paid"
