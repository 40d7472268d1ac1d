"""A refund the provider completed and that fails later (Stripe does that: the test card
`pm_card_refundFail`, a card closed since the payment): the debt is open again. The refund
is marked failed with the provider's reason, `amount_refunded` goes down by its amount once
however often (and however concurrently) the provider's list is applied, the payment says
what was really given back (`refund_failed` for an order that gives everything back, which
the job and an admin then refund), and every active admin is emailed in the same
transaction. Here through the dev gateway and the job reading its list of refunds; the
signed webhooks are in tests/payments/test_refunds_failing_later.py."""

from __future__ import annotations

import asyncio

import pytest
from beanie import PydanticObjectId

from app.email.models import OutboxEmail
from app.orders import jobs, provider_refunds, settlement
from app.orders.models import Order
from app.payments.dev import DevGateway
from app.payments.models import DevPaymentIntent
from app.payments.types import RefundResult
from tests.support.orders import make_due, provider_refunded, stock_of

pytestmark = pytest.mark.usefixtures("app")

REASON = "expired_or_canceled_card"


@pytest.fixture
def settings_overrides() -> dict:
    return {"REFUND_RETRY_BACKOFF_SECONDS": 600, "REFUND_RETRY_MAX_ATTEMPTS": 3}


@pytest.fixture
async def admins(create_user, admin):
    """Two active admins and one deactivated: only the active ones are told."""
    second, _ = await create_user(email="second-admin@example.com", role="admin")
    await create_user(email="gone-admin@example.com", role="admin", is_active=False)
    return sorted([admin[0].email, second.email])


async def fail_later(order: dict, provider_refund_id: str, reason: str = REASON) -> None:
    """At the provider, a refund that succeeded fails: its list now says so, and the money
    is the merchant's again (so it can be refunded anew)."""
    row = await DevPaymentIntent.get(order["payment"]["intent_id"])
    [made] = [r for r in row.refunds if r["id"] == provider_refund_id]
    made.update(status="failed", failure_reason=reason)
    await row.set({"refunds": row.refunds, "amount_refunded": row.amount_refunded - made["amount"]})


async def listed(order: dict) -> list[RefundResult]:
    return await DevGateway(None).list_refunds(intent_id=order["payment"]["intent_id"])


async def alerts() -> list[OutboxEmail]:
    return await OutboxEmail.find({"kind": "refund_failed"}).sort("to").to_list()


async def test_the_job_finds_a_refund_that_failed_later_and_asks_for_all_that_is_owed(
    placed_order, cancel, admin_refund, provider, admins, stock
):
    """Partly refunded (1000), then cancelled while the provider refuses the rest (2800
    owed). Meanwhile the 1000 fails at the provider; the job reads the provider's refunds
    before asking again, so it finds 3800 owed, not 2800: a failure like a refusal, asked
    again after the backoff, for all of it."""
    order = await placed_order(paid=True)
    status, body = await admin_refund(order["id"], amount=1000, reason="scratched mug")
    assert status == 200 and body["payment"]["status"] == "partially_refunded"
    first = (await Order.get(order["id"])).payment.refunds[0].provider_refund_id
    provider.refusing = True
    status, body = await cancel(order["id"])
    assert status == 200 and body["payment"]["status"] == "refund_failed"
    assert body["payment"]["amount_refunded"] == 1000
    await fail_later(order, first)
    provider.refusing = False
    await make_due(order["id"])

    assert await jobs.retry_owed_refunds() == 0  # found the failure: it waits, then asks
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refund_failed" and stored.payment.amount_refunded == 0
    assert settlement.amount_owed(stored) == 3800
    assert stored.payment.refund_retry_at > stored.payment.refunds[0].failed_at
    assert [amount for _, amount in provider.asked] == [1000, 2800]
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1

    stored = await Order.get(order["id"])
    assert stored.status == "cancelled" and stored.payment.status == "refunded"
    assert [(r.status, r.amount, r.failure_reason) for r in stored.payment.refunds] == [
        ("failed", 1000, REASON),
        ("failed", 2800, "insufficient_funds"),
        ("succeeded", 3800, None),
    ]
    assert stored.payment.amount_refunded == 3800
    assert await provider_refunded(order) == 3800  # all of it reached the customer, once
    assert [amount for _, amount in provider.asked] == [1000, 2800, 3800]
    assert await stock_of(stock.shirt) == 10
    # Every active admin is told, once.
    sent = await alerts()
    assert [e.to for e in sent] == admins
    assert all(order["number"] in e.subject and REASON in e.text for e in sent)


@pytest.mark.parametrize("transactions", [True, False])
async def test_a_cancelled_orders_refund_failing_later_is_owed_and_refunded_once(
    placed_order, cancel, provider, admins, settings, admin_refund, request, transactions
):
    if not transactions:  # as on a server without them: the guarded update alone
        request.getfixturevalue("no_transactions")
    order = await placed_order(paid=True)
    status, body = await cancel(order["id"])
    assert status == 200 and body["payment"]["status"] == "refunded"
    [made] = (await Order.get(order["id"])).payment.refunds
    await fail_later(order, made.provider_refund_id)
    order_id = PydanticObjectId(order["id"])
    the_list = await listed(order)

    # The provider's word, delivered three times at once (redeliveries, two event kinds).
    await asyncio.gather(
        *(
            provider_refunds.apply_provider_refunds(order_id=order_id, refunds=the_list)
            for _ in range(3)
        )
    )
    await provider_refunds.apply_provider_refunds(order_id=order_id, refunds=the_list)  # and later

    stored = await Order.get(order["id"])
    assert stored.status == "cancelled"
    assert stored.payment.status == "refund_failed"
    assert stored.payment.amount_refunded == 0  # 3800 taken out once, not three times
    [failed] = stored.payment.refunds
    assert (failed.status, failed.failure_reason) == ("failed", REASON)
    assert failed.failed_at is not None and stored.payment.refund_retry_at is not None
    assert [e.to for e in await alerts()] == admins
    assert stored.payment.refunds_version == 3  # booked, completed, then failed: once

    # The job gives it back once it is due; an admin then finds nothing left to refund.
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    assert [r.status for r in stored.payment.refunds] == ["failed", "succeeded"]
    assert await provider_refunded(order) == 3800
    status, body = await admin_refund(order["id"])
    assert status == 422 and body["code"] == "refund_exceeds_payment"
    assert len(await alerts()) == len(admins)


async def test_a_late_failure_applied_while_the_job_runs_is_counted_once(
    placed_order, cancel, admin_refund, provider, admins
):
    """The webhook's application of the provider's list and the job's own reading of it
    race: the refund fails once, and the job asks (when due) for exactly what is owed."""
    order = await placed_order(paid=True)
    await admin_refund(order["id"], amount=1000)
    first = (await Order.get(order["id"])).payment.refunds[0].provider_refund_id
    provider.refusing = True
    await cancel(order["id"])
    await fail_later(order, first)
    provider.refusing = False
    await make_due(order["id"])
    order_id = PydanticObjectId(order["id"])
    the_list = await listed(order)

    await asyncio.gather(
        provider_refunds.apply_provider_refunds(order_id=order_id, refunds=the_list),
        jobs.retry_owed_refunds(),
        provider_refunds.apply_provider_refunds(order_id=order_id, refunds=the_list),
    )

    # Whoever applied it, the failure was applied once, before the job judged what is owed.
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refund_failed" and stored.payment.amount_refunded == 0
    assert [(r.status, r.amount) for r in stored.payment.refunds] == [
        ("failed", 1000),
        ("failed", 2800),
    ]
    assert [e.to for e in await alerts()] == admins
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    assert [amount for _, amount in provider.asked] == [1000, 2800, 3800]
    assert await provider_refunded(order) == 3800


async def test_a_refunded_orders_refund_failing_later_is_owed_and_asked_again(
    placed_order, admin_refund, provider, admins
):
    """An admin refunded the whole order (`refunded`, nothing left to do); the refund fails
    later: the order still gives everything back, so it owes it (`refund_failed`), and the
    job (or an admin) refunds it."""
    order = await placed_order(paid=True)
    status, body = await admin_refund(order["id"])
    assert status == 200 and body["status"] == "refunded"
    [made] = (await Order.get(order["id"])).payment.refunds
    await fail_later(order, made.provider_refund_id)

    await provider_refunds.apply_provider_refunds(
        order_id=PydanticObjectId(order["id"]), refunds=await listed(order)
    )

    stored = await Order.get(order["id"])
    assert stored.status == "refunded"  # what was decided stands; the money is owed
    assert stored.payment.status == "refund_failed" and stored.payment.amount_refunded == 0
    assert settlement.amount_owed(stored) == 3800 and stored.payment.refund_retry_at is not None
    assert [h.status for h in stored.history] == ["pending_payment", "paid", "refunded"]
    assert len(await alerts()) == len(admins)

    # An admin may give it back at once (a refunded order that owes money is refundable).
    status, body = await admin_refund(order["id"], amount=3801)
    assert status == 422 and body["code"] == "refund_exceeds_payment"
    status, body = await admin_refund(order["id"])
    assert status == 200, body
    assert body["status"] == "refunded" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3800
    assert await provider_refunded(order) == 3800
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 0  # nothing owed any more


async def test_a_partial_refund_failing_later_on_a_paid_order_shows_what_was_given_back(
    placed_order, admin_refund, provider, admins
):
    """A partial refund of an order that stands is an admin's decision: when it fails later
    the payment says what was really given back, the admins are told, and one of them can
    refund it again (the job does not: nothing says how much the shop still owes)."""
    order = await placed_order(paid=True)
    await admin_refund(order["id"], amount=500)
    await admin_refund(order["id"], amount=1000)
    stored = await Order.get(order["id"])
    assert stored.payment.status == "partially_refunded"
    await fail_later(order, stored.payment.refunds[1].provider_refund_id)

    after = await provider_refunds.apply_provider_refunds(
        order_id=PydanticObjectId(order["id"]), refunds=await listed(order)
    )

    assert after.status == "paid" and after.payment.status == "partially_refunded"
    assert after.payment.amount_refunded == 500
    assert [(r.status, r.failure_reason) for r in after.payment.refunds] == [
        ("succeeded", None),
        ("failed", REASON),
    ]
    assert after.payment.refund_retry_at is None
    [email, *_] = await alerts()
    assert "Refund it again from the admin" in email.text

    await fail_later(order, after.payment.refunds[0].provider_refund_id)
    after = await provider_refunds.apply_provider_refunds(
        order_id=PydanticObjectId(order["id"]), refunds=await listed(order)
    )
    assert after.payment.status == "succeeded" and after.payment.amount_refunded == 0
    assert len(await alerts()) == 2 * len(admins)

    status, body = await admin_refund(order["id"], amount=1000)
    assert status == 200 and body["payment"]["status"] == "partially_refunded"
    assert await provider_refunded(order) == 1000


async def test_a_refund_made_in_the_dashboard_that_fails_later_is_taken_back_out(
    placed_order, provider, admins
):
    order = await placed_order(paid=True)
    await DevGateway(None).refund(
        intent_id=order["payment"]["intent_id"], amount=800, idempotency_key="dashboard-1"
    )
    order_id = PydanticObjectId(order["id"])
    after = await provider_refunds.apply_provider_refunds(
        order_id=order_id, refunds=await listed(order)
    )
    assert after.payment.amount_refunded == 800 and after.payment.refunds[0].actor == "provider"

    await fail_later(order, "re_dev_dashboard_1")
    after = await provider_refunds.apply_provider_refunds(
        order_id=order_id, refunds=await listed(order)
    )

    assert after.payment.amount_refunded == 0 and after.payment.status == "succeeded"
    assert [r.status for r in after.payment.refunds] == ["failed"]
    assert len(await alerts()) == len(admins)
