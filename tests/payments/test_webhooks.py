"""`POST /api/v1/payments/webhook`: Stripe's signature, each event applied once however it
is delivered, events in any order, and the race with `/pay`.

The events are localstripe's own (recorded when the emulator took the payment) or, for
refunds, which localstripe does not announce, built around the emulator's charge object;
all are signed as Stripe signs them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from app.orders import settlement
from app.orders.models import Order
from app.payments.models import PaymentEvent
from tests.support.orders import stock_of
from tests.support.payments import (
    WEBHOOK,
    charges_of,
    emulator_events,
    event_body,
    make_event,
    sign,
    status_emails,
)

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def paid_in_browser(placed_order, confirm_in_browser, emulator_event):
    """`await paid_in_browser()` -> (order, its `payment_intent.succeeded` event): the
    customer paid with Stripe.js; the server has not heard of it yet."""

    async def make(**kwargs):
        order = await placed_order(**kwargs)
        intent_id = order["payment"]["intent_id"]
        confirmed = await confirm_in_browser(intent_id)
        assert confirmed["status"] == "succeeded"
        return order, await emulator_event("payment_intent.succeeded", intent_id)

    return make


# -- the signature --------------------------------------------------------------------------


async def test_a_signed_event_pays_the_order(paid_in_browser, deliver):
    order, event = await paid_in_browser()

    response = await deliver(event)

    assert response.status_code == 200, await response.get_data(as_text=True)
    ack = await response.get_json()
    assert ack == {"received": True, "event_id": event["id"], "duplicate": False, "result": "paid"}
    stored = await Order.get(order["id"])
    assert stored.status == "paid" and stored.payment.status == "succeeded"
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert stored.history[-1].actor == "provider"
    assert (await PaymentEvent.get(event["id"])).status == "done"


def _tampered(body: bytes) -> bytes:
    return body.replace(b'"succeeded"', b'"succeeded" ', 1)


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "garbage", "wrong_secret", "tampered_body", "stale", "future_only_v0"],
)
async def test_a_bad_signature_is_400_and_changes_nothing(paid_in_browser, client, case):
    order, event = await paid_in_browser()
    body = event_body(event)
    headers = {"Content-Type": "application/json"}
    if case == "empty":
        headers["Stripe-Signature"] = ""
    elif case == "garbage":
        headers["Stripe-Signature"] = "not a signature"
    elif case == "wrong_secret":
        headers["Stripe-Signature"] = sign(body, secret="whsec_someone_else")
    elif case == "tampered_body":
        headers["Stripe-Signature"] = sign(body)
        body = _tampered(body)
    elif case == "stale":  # signed correctly, ten minutes ago: a replay
        headers["Stripe-Signature"] = sign(body, timestamp=int(time.time()) - 600)
    elif case == "future_only_v0":  # only a scheme we do not accept
        headers["Stripe-Signature"] = sign(body).replace("v1=", "v0=")

    response = await client.post(WEBHOOK, data=body, headers=headers)

    assert response.status_code == 400
    problem = await response.get_json()
    assert problem["code"] == "webhook_signature_invalid"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert (await Order.get(order["id"])).status == "pending_payment"
    assert await PaymentEvent.find_all().count() == 0


async def test_a_signed_body_that_is_not_an_event_is_400(deliver):
    for body in (b"not json", b"[]", b'{"id": "evt_1"}', "\udcff".encode("utf-8", "surrogatepass")):
        response = await deliver(body)
        assert response.status_code == 400, body


@pytest.mark.parametrize("settings_overrides", [{"PAYMENT_PROVIDER": "dev"}])
async def test_the_dev_provider_takes_no_webhooks(deliver):
    event = make_event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})

    response = await deliver(event)

    assert response.status_code == 400
    assert (await response.get_json())["code"] == "webhook_signature_invalid"


# -- once and only once ---------------------------------------------------------------------


async def test_five_concurrent_deliveries_apply_once_and_send_one_email(
    paid_in_browser, deliver, settings, smtp_server, customer
):
    from app.email.backends import backend_from_settings
    from app.email.sender import EmailSender

    order, event = await paid_in_browser()

    responses = await asyncio.gather(*(deliver(event) for _ in range(5)))

    statuses = sorted(r.status_code for r in responses)
    # One delivery applies it; the others find it applied (200) or being applied (409: Stripe
    # delivers again later). Never a 5xx.
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}, statuses
    applied = [await r.get_json() for r in responses if r.status_code == 200]
    assert sum(not ack["duplicate"] for ack in applied) == 1
    again = await deliver(event)  # Stripe's retry after a 409: acknowledged, nothing done
    assert again.status_code == 200 and (await again.get_json())["duplicate"] is True

    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2  # received, then paid
    # ...and over SMTP the customer gets exactly one "paid" message.
    smtp = settings.model_copy(
        update={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port, "SMTP_STARTTLS": False}
    )
    sender = EmailSender(backend=backend_from_settings(smtp), settings=smtp)
    sent = await sender.process_due(limit=100)
    assert sent == 2
    subjects = [m["Subject"] for m in smtp_server.inbox.to(customer[0].email)]
    assert sum("paid" in s.lower() for s in subjects) == 1, subjects


async def test_an_event_whose_application_failed_is_applied_on_redelivery(
    app, paid_in_browser, deliver
):
    """A failure mid-way gives the event back: it is only marked done once applied."""
    from app.orders import provider_events
    from app.payments import webhooks

    order, event = await paid_in_browser()

    async def crash(_event):
        raise RuntimeError("the worker fell over")

    webhooks.on_event(app, crash)  # what the orders registered at app creation, failing
    failed = await deliver(event)
    assert failed.status_code == 500
    assert (await Order.get(order["id"])).status == "pending_payment"
    assert await PaymentEvent.get(event["id"]) is None  # not marked: Stripe retries it

    webhooks.on_event(app, provider_events.apply_event)
    retried = await deliver(event)
    assert retried.status_code == 200
    assert (await Order.get(order["id"])).status == "paid"


async def test_an_abandoned_claim_is_taken_over_after_its_lease(paid_in_browser, deliver):
    """A worker that died holding the event (no answer, no release): once its lease ran
    out, Stripe's next delivery applies the event."""
    from datetime import timedelta

    from app.core.clock import utcnow

    order, event = await paid_in_browser()
    now = utcnow()
    await PaymentEvent(
        id=event["id"],
        type=event["type"],
        lease_until=now + timedelta(minutes=2),
        expires_at=now + timedelta(days=30),
    ).insert()

    busy = await deliver(event)
    assert busy.status_code == 409 and busy.headers["Retry-After"]
    assert (await Order.get(order["id"])).status == "pending_payment"

    await PaymentEvent.get_pymongo_collection().update_one(
        {"_id": event["id"]}, {"$set": {"lease_until": now - timedelta(seconds=1)}}
    )
    taken = await deliver(event)
    assert taken.status_code == 200 and (await taken.get_json())["result"] == "paid"
    assert (await PaymentEvent.get(event["id"])).attempts == 2


async def test_an_event_for_an_unknown_order_is_acknowledged(deliver, stripe_api, emulator_event):
    intent = await stripe_api.payment_intents.create_async(
        {"amount": 500, "currency": "usd", "payment_method_types": ["card"]}
    )
    await stripe_api.payment_intents.update_async(intent.id, {"payment_method": "pm_card_visa"})
    await stripe_api.payment_intents.confirm_async(intent.id)
    event = await emulator_event("payment_intent.succeeded", intent.id)

    response = await deliver(event)

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "unknown_order"


async def test_other_event_types_are_acknowledged_and_ignored(deliver):
    response = await deliver(make_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert (await response.get_json())["result"] == "ignored"


async def test_an_intent_the_order_never_saved_is_found_by_its_metadata(paid_in_browser, deliver):
    """The process stopped between creating the intent and saving its id on the order."""
    order, event = await paid_in_browser()
    await Order.get_pymongo_collection().update_one(
        {"_id": (await Order.get(order["id"])).id}, {"$set": {"payment.intent_id": None}}
    )

    response = await deliver(event)

    assert (await response.get_json())["result"] == "paid"
    stored = await Order.get(order["id"])
    assert stored.status == "paid" and stored.payment.intent_id == event["data"]["object"]["id"]


@pytest.mark.parametrize("received", [100, 3800 + 100], ids=["underpaid", "overpaid"])
async def test_a_payment_of_the_wrong_amount_is_flagged_not_paid(
    paid_in_browser, deliver, received
):
    order, event = await paid_in_browser()
    # As if the intent had been changed elsewhere: less, or more, than the order's total.
    event["data"]["object"]["amount"] = received
    event["data"]["object"]["amount_received"] = received

    response = await deliver(event)

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "payment amount_mismatch"
    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "amount_mismatch"
    assert stored.payment.failure_reason == f"provider reported {received} usd"


# -- refunds --------------------------------------------------------------------------------


async def test_a_full_refund_in_the_dashboard_refunds_the_order(
    placed_order, stripe_api, charge_refunded_event, deliver, stock
):
    order = await placed_order(paid=True)
    intent_id = order["payment"]["intent_id"]
    await stripe_api.refunds.create_async({"payment_intent": intent_id})  # the whole charge
    event = await charge_refunded_event(intent_id)

    response = await deliver(event)

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "refunded"
    stored = await Order.get(order["id"])
    assert stored.status == "refunded" and stored.payment.status == "refunded"
    assert stored.payment.amount_refunded == 3800
    (made,) = stored.payment.refunds
    assert made.status == "succeeded" and made.actor == "provider" and made.amount == 3800
    assert await stock_of(stock.shirt) == 10
    assert [h.status for h in stored.history] == ["pending_payment", "paid", "refunded"]

    # The same refund reported again (a new event, same charge): counted once.
    again = await deliver(await charge_refunded_event(intent_id))
    assert (await again.get_json())["result"] == "unchanged"
    assert (await Order.get(order["id"])).payment.amount_refunded == 3800


@pytest.mark.parametrize("kind", ["charge.refund.updated", "refund.updated"])
async def test_a_refund_event_names_its_intent_and_brings_the_refunds_in_line(
    placed_order, stripe_api, deliver, kind
):
    # A refund's own events (a slow refund finishing or failing) carry the refund object,
    # with its `payment_intent`: the order reads the provider's list of refunds again.
    order = await placed_order(paid=True)
    intent_id = order["payment"]["intent_id"]
    made = await stripe_api.refunds.create_async({"payment_intent": intent_id, "amount": 800})
    refund_object = {**made.to_dict(), "object": "refund", "payment_intent": intent_id}

    response = await deliver(make_event(kind, refund_object))

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "payment partially_refunded"
    stored = await Order.get(order["id"])
    assert stored.payment.amount_refunded == 800
    assert [(r.status, r.amount) for r in stored.payment.refunds] == [("succeeded", 800)]


async def test_a_partial_refund_in_the_dashboard_is_recorded(
    placed_order, stripe_api, charge_refunded_event, deliver
):
    order = await placed_order(paid=True)
    intent_id = order["payment"]["intent_id"]
    await stripe_api.refunds.create_async({"payment_intent": intent_id, "amount": 500})

    response = await deliver(await charge_refunded_event(intent_id))

    assert (await response.get_json())["result"] == "payment partially_refunded"
    stored = await Order.get(order["id"])
    assert stored.status == "paid" and stored.payment.status == "partially_refunded"
    assert stored.payment.amount_refunded == 500
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]


async def test_our_own_refund_reported_back_is_not_counted_twice(
    placed_order, client, admin, charge_refunded_event, deliver
):
    order = await placed_order(paid=True)
    refunded = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"amount": 1200}, headers=admin[1]
    )
    assert refunded.status_code == 200

    response = await deliver(await charge_refunded_event(order["payment"]["intent_id"]))

    assert (await response.get_json())["result"] == "unchanged"
    stored = await Order.get(order["id"])
    assert stored.payment.amount_refunded == 1200 and len(stored.payment.refunds) == 1


async def test_a_refund_of_ours_whose_answer_was_lost_is_completed_not_doubled(
    placed_order, stripe_api, charge_refunded_event, deliver
):
    """We booked a refund and asked Stripe; Stripe made it but its answer never reached us.
    The webhook matches it by the key we asked with and completes it."""
    from app.orders.models import Refund

    order = await placed_order(paid=True)
    booked = Refund(amount=800, reason="mug broke", actor="admin:x")
    condition, update = settlement.reserve_refund(booked, total=3800)
    await Order.get_pymongo_collection().update_one(
        {"_id": (await Order.get(order["id"])).id, **condition}, update
    )
    key = f"refund-{booked.id}"
    await stripe_api.refunds.create_async(
        {
            "payment_intent": order["payment"]["intent_id"],
            "amount": 800,
            "metadata": {"reference": key},
        }
    )

    response = await deliver(await charge_refunded_event(order["payment"]["intent_id"]))

    assert response.status_code == 200
    stored = await Order.get(order["id"])
    (refund,) = stored.payment.refunds
    assert refund.id == booked.id and refund.status == "succeeded" and refund.provider_refund_id
    assert stored.payment.amount_refunded == 800
    assert stored.payment.status == "partially_refunded"


# -- any order ------------------------------------------------------------------------------


async def _three_events(order, stripe_api, emulator_event, charge_refunded_event) -> dict:
    """succeeded, a late failure of an earlier attempt, and a partial refund, all of one
    intent. localstripe cannot retry an intent after a decline, so the failure is the
    emulator's own `payment_failed` event of another (declined) intent, moved onto this one."""
    intent_id = order["payment"]["intent_id"]
    succeeded = await emulator_event("payment_intent.succeeded", intent_id)
    declined = await stripe_api.payment_intents.create_async(
        {"amount": 3800, "currency": "usd", "payment_method_types": ["card"]}
    )
    await stripe_api.payment_intents.update_async(
        declined.id, {"payment_method": "pm_card_chargeCustomerFail"}
    )
    try:
        await stripe_api.payment_intents.confirm_async(declined.id)
    except Exception:  # the decline: a CardError
        pass
    failed = await emulator_event("payment_intent.payment_failed", declined.id)
    failed["data"]["object"] = {
        **failed["data"]["object"],
        "id": intent_id,
        "metadata": succeeded["data"]["object"]["metadata"],
    }
    failed["created"] = succeeded["created"] - 60
    await stripe_api.refunds.create_async({"payment_intent": intent_id, "amount": 700})
    refunded = await charge_refunded_event(intent_id)
    return {"succeeded": succeeded, "failed": failed, "refunded": refunded}


@pytest.mark.parametrize(
    "order_of_arrival", list(itertools.permutations(["succeeded", "failed", "refunded"]))
)
async def test_events_in_any_order_end_the_same(
    placed_order,
    confirm_in_browser,
    stripe_api,
    emulator_event,
    charge_refunded_event,
    deliver,
    order_of_arrival,
):
    order = await placed_order()
    await confirm_in_browser(order["payment"]["intent_id"])
    events = await _three_events(order, stripe_api, emulator_event, charge_refunded_event)

    for name in order_of_arrival:
        response = await deliver(events[name])
        assert response.status_code == 200, (name, await response.get_data(as_text=True))
    for name in order_of_arrival:  # and each once more, as Stripe's retries would
        assert (await (await deliver(events[name])).get_json())["duplicate"] is True

    stored = await Order.get(order["id"])
    assert stored.status == "paid"
    assert stored.payment.status == "partially_refunded"
    assert stored.payment.amount_refunded == 700
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2


# -- /pay and the webhook racing --------------------------------------------------------------


async def test_the_webhook_landing_in_the_middle_of_pay(
    customer, placed_order, pay, deliver, emulator_event, stripe_api, monkeypatch
):
    """Stripe's webhook arrives after Stripe confirmed and before `/pay` recorded it: both
    converge on one `pending_payment → paid`, one history entry, one email, one charge."""
    from app.payments.stripe_gateway import StripeGateway

    _, headers = customer
    order = await placed_order()
    intent_id = order["payment"]["intent_id"]
    real_confirm = StripeGateway.confirm
    webhook_answers = []

    async def confirm_then_webhook(self, **kwargs):
        intent = await real_confirm(self, **kwargs)
        event = await emulator_event("payment_intent.succeeded", intent_id)
        webhook_answers.append(await deliver(event))
        return intent

    monkeypatch.setattr(StripeGateway, "confirm", confirm_then_webhook)
    response = await pay(order["id"], headers)

    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["status"] == "paid"
    assert [r.status_code for r in webhook_answers] == [200]
    assert (await webhook_answers[0].get_json())["result"] == "paid"  # the webhook won
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2
    assert len(await charges_of(stripe_api, intent_id)) == 1


async def test_pay_and_webhooks_racing_freely(
    customer, placed_order, pay, deliver, emulator_event, stripe_api
):
    _, headers = customer
    order = await placed_order()
    intent_id = order["payment"]["intent_id"]

    async def deliver_when_stripe_has_it():
        for _ in range(500):
            events = await emulator_events(stripe_api, "payment_intent.succeeded", intent_id)
            if events:
                return await asyncio.gather(deliver(events[0]), deliver(events[0]))
            await asyncio.sleep(0.005)
        raise AssertionError("no succeeded event")

    paid, delivered = await asyncio.gather(pay(order["id"], headers), deliver_when_stripe_has_it())

    assert paid.status_code == 200, await paid.get_data(as_text=True)
    assert all(r.status_code in (200, 409) for r in delivered)
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2
    assert len(await charges_of(stripe_api, intent_id)) == 1


# -- documentation ----------------------------------------------------------------------------


async def test_the_webhook_is_documented(client):
    spec = await (await client.get("/openapi.json")).get_json()
    operation = spec["paths"]["/api/v1/payments/webhook"]["post"]
    assert operation["tags"] == ["payments"]
    assert operation["requestBody"]["required"] is True
    assert "security" not in operation or not operation["security"]
    assert {"200", "400", "409"} <= set(operation["responses"])
    names = [p["name"] for p in operation.get("parameters", [])]
    assert "stripe-signature" in [n.lower() for n in names]
    json.dumps(spec)  # serialisable as served
