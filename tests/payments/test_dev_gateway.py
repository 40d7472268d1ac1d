"""The dev provider's refunds: one idempotency key is one refund, however it is asked."""

from __future__ import annotations

import pytest

from app.payments.dev import DevGateway
from app.payments.models import DevPaymentIntent

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides() -> dict:
    return {"PAYMENT_PROVIDER": "dev"}


class _ReadsBeforeTheOtherWrote:
    """The collection as a second request with the same key saw it: its "made already?"
    read ran before the first request's write landed."""

    def __init__(self, collection) -> None:
        self.collection = collection
        self.first_read = True

    async def find_one(self, query, *args, **kwargs):
        if self.first_read and "refund_ids" in query:
            self.first_read = False
            return None
        return await self.collection.find_one(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.collection, name)


@pytest.mark.parametrize("amount", [1000, 400])
async def test_a_refund_asked_twice_at_once_is_made_once_and_succeeds_both_times(
    settings, monkeypatch, amount
):
    gateway = DevGateway(settings)
    intent = await gateway.create_intent(
        amount=1000, currency="usd", order_id="o1", order_number="SO-1", idempotency_key="k1"
    )
    await gateway.confirm(intent_id=intent.id, payment_method="pm_card_visa", idempotency_key="c")
    first = await gateway.refund(intent_id=intent.id, amount=amount, idempotency_key="refund-1")
    stale = _ReadsBeforeTheOtherWrote(DevPaymentIntent.get_pymongo_collection())
    monkeypatch.setattr(DevGateway, "_collection", staticmethod(lambda: stale))

    second = await gateway.refund(intent_id=intent.id, amount=amount, idempotency_key="refund-1")

    assert first.status == second.status == "succeeded"
    assert first.id == second.id
    row = await DevPaymentIntent.get_pymongo_collection().find_one({"_id": intent.id})
    assert row["amount_refunded"] == amount and len(row["refunds"]) == 1
