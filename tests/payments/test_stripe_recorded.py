"""The gateway's calls that localstripe cannot answer as Stripe does, against recorded
Stripe answers (tests/payments/stripe_recordings.py): idempotency keys on the wire, a
confirmation after a decline, decline codes, outages and refusals, refunds refused, paging,
and Stripe's own `charge.refunded` event."""

from __future__ import annotations

import json

import pytest

from app.payments.stripe_gateway import StripeGateway
from app.payments.types import ProviderError, ProviderUnavailable
from tests.payments import stripe_recordings as recorded
from tests.support.payments import SECRET_KEY, WEBHOOK_SECRET, sign
from tests.support.settings import make_settings

INTENT = f"/v1/payment_intents/{recorded.INTENT_ID}"


@pytest.fixture
def stripe_server():
    server = recorded.RecordedStripe()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def gateway(stripe_server):
    settings = make_settings(
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    made = StripeGateway(settings)
    yield made
    await made.aclose()


async def test_create_sends_the_idempotency_key_and_the_order_in_metadata(gateway, stripe_server):
    stripe_server.answer(
        "POST", "/v1/payment_intents", 200, recorded.intent("requires_payment_method")
    )

    made = await gateway.create_intent(
        amount=3800,
        currency="usd",
        order_id="6b04c2496783a528ae14b14a",
        order_number="SO-261123-ABC123",
        idempotency_key="order-6b04c2496783a528ae14b14a",
    )

    (sent,) = stripe_server.requests
    assert sent["headers"]["idempotency-key"] == "order-6b04c2496783a528ae14b14a"
    assert sent["headers"]["authorization"] == f"Bearer {SECRET_KEY}"
    assert sent["headers"]["stripe-version"].startswith("2026-")
    assert sent["form"] == {
        "amount": "3800",
        "currency": "usd",
        "payment_method_types[0]": "card",
        "metadata[order_id]": "6b04c2496783a528ae14b14a",
        "metadata[order_number]": "SO-261123-ABC123",
    }
    assert made.id == recorded.INTENT_ID and made.client_secret.startswith(made.id + "_secret_")
    assert made.status == "requires_payment_method" and made.amount == 3800


async def test_a_card_is_confirmed_again_after_a_decline(gateway, stripe_server):
    """localstripe keeps a declined intent unconfirmable; Stripe takes a new payment method."""
    stripe_server.answer("POST", INTENT, 200, recorded.intent("requires_confirmation"))
    stripe_server.answer("POST", f"{INTENT}/confirm", 200, recorded.intent("succeeded"))

    confirmed = await gateway.confirm(
        intent_id=recorded.INTENT_ID, payment_method="pm_card_visa", idempotency_key="confirm-1"
    )

    assert confirmed.succeeded and confirmed.amount_received == 3800
    update, confirm = stripe_server.requests
    assert update["form"] == {"payment_method": "pm_card_visa"}
    assert confirm["form"] == {}  # no parameters: the payment method was set by the update
    assert confirm["headers"]["idempotency-key"] == "confirm-1"


async def test_a_decline_reports_stripes_decline_code(gateway, stripe_server):
    declined = recorded.DECLINED_INSUFFICIENT_FUNDS
    stripe_server.answer("POST", INTENT, 200, recorded.intent("requires_confirmation"))
    stripe_server.answer("POST", f"{INTENT}/confirm", 402, declined)
    stripe_server.answer("GET", INTENT, 200, declined["error"]["payment_intent"])

    result = await gateway.confirm(
        intent_id=recorded.INTENT_ID, payment_method="pm_card_visa", idempotency_key="confirm-2"
    )

    assert not result.succeeded
    assert result.status == "requires_payment_method"
    assert result.failure_reason == "insufficient_funds"


async def test_confirming_a_succeeded_intent_reports_it_paid_not_an_error(gateway, stripe_server):
    stripe_server.answer("POST", INTENT, 400, recorded.UNEXPECTED_STATE)
    stripe_server.answer("GET", INTENT, 200, recorded.intent("succeeded"))

    result = await gateway.confirm(
        intent_id=recorded.INTENT_ID, payment_method="pm_card_visa", idempotency_key="confirm-3"
    )

    assert result.succeeded and result.failure_reason is None
    assert [r["path"] for r in stripe_server.requests] == [INTENT, INTENT]  # no confirm sent


async def test_three_d_secure_is_a_decline_the_server_cannot_finish(gateway, stripe_server):
    stripe_server.answer("POST", INTENT, 200, recorded.intent("requires_confirmation"))
    stripe_server.answer(
        "POST",
        f"{INTENT}/confirm",
        200,
        recorded.intent("requires_action", next_action={"type": "use_stripe_sdk"}),
    )

    result = await gateway.confirm(
        intent_id=recorded.INTENT_ID,
        payment_method="pm_card_authenticationRequired",
        idempotency_key="c",
    )

    assert result.failure_reason == "authentication_required"


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (500, recorded.API_ERROR, ProviderUnavailable),
        (503, recorded.API_ERROR, ProviderUnavailable),
        (429, recorded.RATE_LIMITED, ProviderUnavailable),
        (401, recorded.BAD_KEY, ProviderError),
    ],
)
async def test_outages_and_refusals(gateway, stripe_server, status, body, expected):
    stripe_server.answer("POST", "/v1/payment_intents", status, body)

    with pytest.raises(ProviderUnavailable) as raised:
        await gateway.create_intent(
            amount=1, currency="usd", order_id="o", order_number="n", idempotency_key="order-o"
        )

    assert type(raised.value) is expected


async def test_a_refund_stripe_refuses_is_failed_not_an_error(gateway, stripe_server):
    stripe_server.answer("POST", "/v1/refunds", 400, recorded.ALREADY_REFUNDED)

    result = await gateway.refund(
        intent_id=recorded.INTENT_ID, amount=500, idempotency_key="refund-abc", reason="broken"
    )

    assert result.status == "failed"
    assert result.failure_reason == "charge_already_refunded"  # kept on the order's refund
    (sent,) = stripe_server.requests
    assert sent["headers"]["idempotency-key"] == "refund-abc"
    assert sent["form"] == {
        "payment_intent": recorded.INTENT_ID,
        "amount": "500",
        "metadata[reference]": "refund-abc",
        "metadata[note]": "broken",
    }


async def test_a_pending_refund_is_reported_pending(gateway, stripe_server):
    stripe_server.answer(
        "POST", "/v1/refunds", 200, recorded.refund("re_1", 500, "refund-abc", status="pending")
    )

    result = await gateway.refund(
        intent_id=recorded.INTENT_ID, amount=500, idempotency_key="refund-abc"
    )

    assert (result.id, result.status, result.reference) == ("re_1", "pending", "refund-abc")


async def test_refunds_are_listed_across_pages(gateway, stripe_server):
    stripe_server.answer(
        "GET",
        "/v1/refunds",
        200,
        recorded.refund_list(recorded.refund("re_1", 1000, "refund-a"), has_more=True),
    )
    stripe_server.answer(
        "GET", "/v1/refunds", 200, recorded.refund_list(recorded.refund("re_2", 300, None))
    )

    refunds = await gateway.list_refunds(intent_id=recorded.INTENT_ID)

    assert [(r.id, r.amount, r.reference) for r in refunds] == [
        ("re_1", 1000, "refund-a"),
        ("re_2", 300, None),
    ]
    first, second = stripe_server.requests
    assert first["query"] == {"payment_intent": recorded.INTENT_ID, "limit": "100"}
    assert second["query"]["starting_after"] == "re_1"


async def test_stripes_charge_refunded_event_is_read(gateway):
    body = json.dumps(recorded.CHARGE_REFUNDED_EVENT).encode()

    event = gateway.parse_webhook(payload=body, signature=sign(body))

    assert event.id == "evt_3QyRecordedRefund" and event.type == "charge.refunded"
    assert event.intent_id == recorded.INTENT_ID
    assert (event.amount, event.amount_refunded, event.currency) == (3800, 1000, "usd")


async def test_a_refund_that_failed_later_says_why(gateway, stripe_server):
    failed = {**recorded.refund("re_1", 500, "refund-abc", status="failed")}
    failed["failure_reason"] = "expired_or_canceled_card"
    stripe_server.answer("GET", "/v1/refunds", 200, recorded.refund_list(failed))

    (listed,) = await gateway.list_refunds(intent_id=recorded.INTENT_ID)

    assert (listed.status, listed.failure_reason) == ("failed", "expired_or_canceled_card")
