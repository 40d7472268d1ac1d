"""Typed path ids (app/core/ids.py) and idempotency: a key's fingerprint reads the order id
as the text of the path, so a key stored before ids were typed still matches its retry."""

from __future__ import annotations

from app.core.idempotency import IdempotencyRecord, fingerprint


async def test_the_fingerprint_of_a_paid_order_reads_its_id_as_text(customer, placed_order, pay):
    user, headers = customer
    order = await placed_order()

    first = await pay(order["id"], headers, key="pay-typed-1")
    assert first.status_code == 200, await first.get_data(as_text=True)

    [record] = await IdempotencyRecord.find({"user_id": user.id}).to_list()
    path = f"/api/v1/orders/{order['id']}/pay"
    body = {"order_id": order["id"], "data": {"payment_method": "pm_card_visa"}}
    assert record.fingerprint == fingerprint("POST", path, body)
    replay = await pay(order["id"], headers, key="pay-typed-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
