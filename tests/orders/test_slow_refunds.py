"""Refunds a provider accepts but finishes later (Stripe's `pending`: bank transfers, some
cards): reserved and pending until the provider says `succeeded` or `failed`."""

from __future__ import annotations

import asyncio

import pytest

from app.orders import jobs
from app.orders.models import Order
from app.orders.provider_refunds import apply_provider_refunds
from app.payments.dev import DevGateway
from app.payments.types import RefundResult

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def slow_provider(monkeypatch):
    """The dev gateway, with refunds that come back `pending`; `provider.now(status)` is
    what its list of refunds says later."""

    class Provider:
        asked: list[str] = []
        later: str = "pending"

        def now(self, status: str) -> None:
            self.later = status

    provider = Provider()

    async def refund(self, *, intent_id, amount, idempotency_key, reason=None):
        provider.asked.append(idempotency_key)
        provider.amount, provider.key = amount, idempotency_key
        return RefundResult(id="re_slow_1", amount=amount, status="pending", reference=None)

    async def list_refunds(self, *, intent_id):
        if not provider.asked:
            return []
        return [
            RefundResult(
                id="re_slow_1",
                amount=provider.amount,
                status=provider.later,
                reference=provider.key,
            )
        ]

    monkeypatch.setattr(DevGateway, "refund", refund)
    monkeypatch.setattr(DevGateway, "list_refunds", list_refunds)
    return provider


@pytest.fixture
def refund(client, admin):
    async def ask(order_id: str, **body):
        response = await client.post(
            f"/api/v1/admin/orders/{order_id}/refund", json=body, headers=admin[1]
        )
        return response.status_code, await response.get_json()

    return ask


async def test_a_pending_refund_stays_reserved_until_the_provider_says_succeeded(
    placed_order, refund, slow_provider
):
    order = await placed_order(paid=True)
    status, body = await refund(order["id"])
    assert status == 200
    assert (body["status"], body["payment"]["status"]) == ("paid", "refund_pending")
    assert body["payment"]["amount_refunded"] == 3800  # reserved: nothing more can be asked
    [pending] = body["payment"]["refunds"]
    assert pending["status"] == "pending"
    stored = (await Order.get(order["id"])).payment.refunds[0]
    assert stored.provider_refund_id == "re_slow_1"
    assert (await refund(order["id"], amount=1))[0] == 422

    # The job asks again: still pending at the provider, nothing changes (and it is read, not
    # asked twice: a second refund request would replay the first answer).
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1
    assert slow_provider.asked == [f"refund-{pending['id']}"]
    assert (await Order.get(order["id"])).payment.refunds[0].status == "pending"

    slow_provider.now("succeeded")
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 1
    after = await Order.get(order["id"])
    assert (after.status, after.payment.status) == ("refunded", "refunded")
    assert after.payment.refunds[0].status == "succeeded"
    assert after.payment.amount_refunded == 3800
    assert await jobs.retry_pending_refunds(older_than_seconds=0) == 0  # nothing left


async def test_a_pending_refund_that_fails_gives_its_amount_back(
    placed_order, refund, slow_provider, monkeypatch
):
    order = await placed_order(paid=True)
    status, body = await refund(order["id"], amount=1000)
    assert status == 200 and body["payment"]["amount_refunded"] == 1000

    slow_provider.now("failed")
    await jobs.retry_pending_refunds(older_than_seconds=0)
    after = await Order.get(order["id"])
    assert after.payment.refunds[0].status == "failed"
    assert (after.payment.amount_refunded, after.payment.status) == (0, "succeeded")
    assert after.status == "paid"

    # The admin can try again, in full this time.
    monkeypatch.undo()
    status, body = await refund(order["id"])
    assert status == 200
    assert (body["status"], body["payment"]["amount_refunded"]) == ("refunded", 3800)
    assert [r["status"] for r in body["payment"]["refunds"]] == ["failed", "succeeded"]


async def test_the_providers_word_applies_once_however_often_it_arrives(
    placed_order, refund, slow_provider
):
    order = await placed_order(paid=True)
    await refund(order["id"])
    slow_provider.now("succeeded")
    listed = await DevGateway.list_refunds(None, intent_id=order["payment"]["intent_id"])

    # A webhook, a redelivery and the job, all at once.
    await asyncio.gather(
        apply_provider_refunds(order_id=_oid(order), refunds=listed),
        apply_provider_refunds(order_id=_oid(order), refunds=listed),
        jobs.retry_pending_refunds(older_than_seconds=0),
    )
    after = await Order.get(order["id"])
    assert [(r.status, r.amount) for r in after.payment.refunds] == [("succeeded", 3800)]
    assert after.payment.amount_refunded == 3800
    assert [h.status for h in after.history].count("refunded") == 1


def _oid(order: dict):
    from beanie import PydanticObjectId

    return PydanticObjectId(order["id"])
