"""A refund the provider refuses when an order is cancelled: the order is cancelled (and
restocked), the money stays visibly owed (`payment.status` `refund_failed`, the refund
`failed` with the provider's reason), the job asks again with backoff until its attempts are
used up, an admin can refund it, and the owed money is never given back twice."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.core.clock import as_utc, utcnow
from app.orders import jobs, owed_refunds, payments
from app.orders.models import Order
from app.payments.dev import DevGateway
from app.payments.models import DevPaymentIntent
from app.payments.types import RefundResult
from tests.support.orders import make_due, provider_refunded, stock_of

pytestmark = pytest.mark.usefixtures("app")

BACKOFF = 600


@pytest.fixture
def settings_overrides() -> dict:
    return {"REFUND_RETRY_BACKOFF_SECONDS": BACKOFF, "REFUND_RETRY_MAX_ATTEMPTS": 3}


@pytest.fixture
def provider(provider):
    """Here the provider refuses refunds until a test says otherwise."""
    provider.refusing = True
    return provider


async def test_a_refused_refund_on_cancel_leaves_the_money_visibly_owed(
    placed_order, cancel, provider, stock, client, customer
):
    order = await placed_order(paid=True)

    status, body = await cancel(order["id"])

    # The cancel happened: it answers the order as it now is, owing the money.
    assert status == 200, body
    assert body["status"] == "cancelled"
    assert body["payment"]["status"] == "refund_failed"
    assert body["payment"]["amount_refunded"] == 0
    [refused] = body["payment"]["refunds"]
    assert (refused["status"], refused["amount"]) == ("failed", 3800)
    assert refused["failure_reason"] == "insufficient_funds"
    stored = await Order.get(order["id"])
    retry_at = as_utc(stored.payment.refund_retry_at)
    assert retry_at == as_utc(stored.payment.refunds[0].failed_at) + timedelta(seconds=BACKOFF)
    assert body["payment"]["refund_retry_at"] is not None
    assert await stock_of(stock.shirt) == 10 and await stock_of(stock.mug) == 3
    assert await provider_refunded(order) == 0
    # The customer sees it too, in the order and in the list.
    mine = await (await client.get("/api/v1/orders", headers=customer[1])).get_json()
    assert mine["items"][0]["payment_status"] == "refund_failed"


async def test_the_job_asks_again_once_due_and_the_payment_then_says_refunded(
    placed_order, cancel, provider, settings
):
    order = await placed_order(paid=True)
    await cancel(order["id"])
    assert len(provider.asked) == 1

    assert await jobs.retry_owed_refunds() == 0  # not due yet: the provider is left alone
    assert len(provider.asked) == 1

    provider.refusing = False
    await make_due(order["id"])
    done = await jobs.run_once(settings, reconcile=False)

    assert done["owed_refunds_retried"] == 1
    stored = await Order.get(order["id"])
    assert stored.status == "cancelled"
    assert stored.payment.status == "refunded" and stored.payment.refund_retry_at is None
    assert [(r.status, r.amount) for r in stored.payment.refunds] == [
        ("failed", 3800),
        ("succeeded", 3800),
    ]
    assert stored.payment.amount_refunded == 3800
    assert await provider_refunded(order) == 3800
    # Each attempt is a refund of its own, asked with its own idempotency key (a provider
    # replays a refused key's first answer).
    assert [key for key, _ in provider.asked] == [f"refund-{r.id}" for r in stored.payment.refunds]
    assert [h.status for h in stored.history] == ["pending_payment", "paid", "cancelled"]

    await make_due(order["id"])  # nothing is owed any more: nothing is asked
    assert await jobs.retry_owed_refunds() == 0
    assert len(provider.asked) == 2


async def test_a_refund_refused_for_good_backs_off_then_waits_for_an_admin(
    placed_order, cancel, provider, admin_refund
):
    order = await placed_order(paid=True)
    await cancel(order["id"])

    for attempt in (2, 3):
        await make_due(order["id"])
        assert await jobs.retry_owed_refunds() == 1
        stored = await Order.get(order["id"])
        assert len(provider.asked) == attempt
        if attempt < 3:  # the wait doubles with each refusal
            last = as_utc(stored.payment.refunds[-1].failed_at)
            delay = as_utc(stored.payment.refund_retry_at) - last
            assert delay == timedelta(seconds=BACKOFF * 2 ** (attempt - 1))
    # Three refusals (REFUND_RETRY_MAX_ATTEMPTS): the job stops asking, the debt stays visible.
    assert stored.payment.refund_retry_at is None
    assert stored.payment.status == "refund_failed"
    assert [r.status for r in stored.payment.refunds] == ["failed"] * 3
    assert await jobs.retry_owed_refunds() == 0
    assert len(provider.asked) == 3

    # The admin refunds it once the provider accepts.
    provider.refusing = False
    status, body = await admin_refund(order["id"])
    assert status == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3800
    assert await provider_refunded(order) == 3800
    status, body = await admin_refund(order["id"])  # nothing is left to give back
    assert status == 422 and body["code"] == "refund_exceeds_payment"


async def test_an_admin_refund_the_provider_refuses_is_409_and_keeps_the_debt(
    placed_order, cancel, provider, admin_refund
):
    order = await placed_order(paid=True)
    await cancel(order["id"])

    status, body = await admin_refund(order["id"])

    assert status == 409 and body["code"] == "refund_failed"
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refund_failed" and stored.payment.amount_refunded == 0
    assert [r.status for r in stored.payment.refunds] == ["failed", "failed"]
    assert stored.payment.refund_retry_at is not None  # the job still has an attempt left


async def test_a_cancelled_order_that_was_never_paid_has_nothing_to_refund(
    placed_order, cancel, admin_refund
):
    order = await placed_order()
    assert (await cancel(order["id"]))[0] == 200

    status, body = await admin_refund(order["id"])

    assert status == 409 and body["code"] == "not_refundable"


@pytest.mark.parametrize("first", ["job", "admin"])
async def test_the_owed_money_is_given_back_once_by_an_admin_and_the_job_at_once(
    placed_order, cancel, provider, admin_refund, first
):
    """The second asks exactly while the first is at the provider (its refund reserved, not
    yet answered): it is turned away without asking the provider."""
    order = await placed_order(paid=True)
    await cancel(order["id"])
    provider.refusing = False
    await make_due(order["id"])
    second: list = []

    async def the_other_one():
        if first == "job":
            second.append(await admin_refund(order["id"]))
        else:
            second.append(await jobs.retry_owed_refunds())

    provider.during = the_other_one
    if first == "job":
        assert await jobs.retry_owed_refunds() == 1
        [(status, body)] = second
        assert status in (409, 422) and body["code"] in ("conflict", "refund_exceeds_payment")
    else:
        status, body = await admin_refund(order["id"])
        assert status == 200, body
        assert second == [0]

    stored = await Order.get(order["id"])
    assert [r.status for r in stored.payment.refunds] == ["failed", "succeeded"]
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    assert len(provider.asked) == 2  # the refused one, then the one that went through
    assert await provider_refunded(order) == 3800


async def test_money_given_back_at_the_provider_meanwhile_is_recorded_not_asked_again(
    placed_order, cancel, provider
):
    """Support refunded it in the provider's dashboard (its webhook not here yet): the job
    reads the provider's refunds before asking, and asks for nothing more."""
    order = await placed_order(paid=True)
    await cancel(order["id"])
    provider.refusing = False
    await DevGateway.refund(
        DevGateway(None),
        intent_id=order["payment"]["intent_id"],
        amount=3800,
        idempotency_key="dashboard-1",
    )
    await make_due(order["id"])

    assert await jobs.retry_owed_refunds() == 0

    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.refund_retry_at is None
    assert [(r.status, r.actor) for r in stored.payment.refunds] == [
        ("failed", "customer"),
        ("succeeded", "provider"),
    ]
    assert [key for key, _ in provider.asked] == [
        f"refund-{stored.payment.refunds[0].id}",
        "dashboard-1",
    ]
    assert await provider_refunded(order) == 3800


async def test_a_payment_after_cancellation_whose_refund_is_refused_is_owed(
    placed_order, cancel, provider
):
    order = await placed_order()
    assert (await cancel(order["id"]))[0] == 200
    await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": order["payment"]["intent_id"]}, {"$set": {"status": "succeeded"}}
    )
    from app.payments.gateway import gateway

    intent = await gateway().retrieve(intent_id=order["payment"]["intent_id"])
    settled = await payments.record_success(
        order_id=PydanticObjectId(order["id"]), intent=intent, actor="provider"
    )
    assert settled.status == "cancelled" and settled.payment.status == "refund_failed"
    assert settled.payment.refunds[0].failure_reason == "insufficient_funds"

    # Told again (a redelivered webhook): the debt is the job's, nothing is asked twice.
    again = await payments.record_success(
        order_id=PydanticObjectId(order["id"]), intent=intent, actor="provider"
    )
    assert again.payment.status == "refund_failed" and len(provider.asked) == 1

    provider.refusing = False
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1
    assert (await Order.get(order["id"])).payment.status == "refunded"
    assert await provider_refunded(order) == 3800


async def test_an_owed_refund_does_not_hold_up_the_other_jobs(
    placed_order, cancel, provider, create_user, stock, settings
):
    owing = await placed_order(paid=True)
    await cancel(owing["id"])
    await stock.mug.set({"stock": 10, "variants.0.stock": 10})
    unpaid = await placed_order(user=await create_user())
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(unpaid["id"])},
        {"$set": {"created_at": utcnow() - timedelta(hours=2)}},
    )
    await make_due(owing["id"])

    done = await jobs.run_once(settings)

    assert done["expired"] == 1 and done["owed_refunds_retried"] == 1
    assert (await Order.get(unpaid["id"])).status == "cancelled"
    owed = await Order.get(owing["id"])
    assert owed.payment.status == "refund_failed"  # refused again, next try scheduled
    assert owed.payment.refund_retry_at is not None and len(owed.payment.refunds) == 2


async def test_a_slow_refund_that_fails_later_leaves_the_money_owed(
    placed_order, cancel, monkeypatch
):
    """Accepted as pending, failed later (read by the job): the cancelled order owes it."""
    later = {"status": "pending"}

    async def refund(self, *, intent_id, amount, idempotency_key, reason=None):
        later.update(amount=amount, key=idempotency_key)
        return RefundResult(id="re_slow", amount=amount, status="pending")

    async def list_refunds(self, *, intent_id):
        return [
            RefundResult(
                id="re_slow",
                amount=later["amount"],
                status=later["status"],
                reference=later["key"],
                failure_reason="expired_or_canceled_card" if later["status"] == "failed" else None,
            )
        ]

    order = await placed_order(paid=True)
    monkeypatch.setattr(DevGateway, "refund", refund)
    monkeypatch.setattr(DevGateway, "list_refunds", list_refunds)
    status, body = await cancel(order["id"])
    assert status == 200 and body["payment"]["status"] == "refund_pending"

    later["status"] = "failed"
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1

    stored = await Order.get(order["id"])
    assert stored.payment.status == "refund_failed" and stored.payment.amount_refunded == 0
    assert stored.payment.refunds[0].failure_reason == "expired_or_canceled_card"
    assert stored.payment.refund_retry_at is not None


async def test_the_owed_refunds_query_is_served_by_its_index(monkeypatch):
    indexes = await Order.get_pymongo_collection().index_information()
    assert indexes["refund_retry"]["key"] == [("payment.status", 1), ("payment.refund_retry_at", 1)]
    if not os.environ.get("MONGODB_URI"):
        return  # explain needs a MongoDB server
    collection = Order.get_pymongo_collection()
    seen = []
    original_find = collection.find

    def spy(filter, *args, **kwargs):
        seen.append((filter, kwargs.get("sort")))
        return original_find(filter, *args, **kwargs)

    monkeypatch.setattr(collection, "find", spy)
    await owed_refunds.owed_refunds()
    monkeypatch.undo()
    [(filter, sort)] = seen
    plan = str((await collection.find(filter, sort=sort).explain())["queryPlanner"]["winningPlan"])
    assert "'indexName': 'refund_retry'" in plan and "COLLSCAN" not in plan, plan
