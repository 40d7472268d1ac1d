"""The checkout flow's constant cost (issue 16): documents it need not read again (counts,
never timings)."""

from __future__ import annotations

from app.core import db
from app.orders.models import Order


async def test_pay_reads_the_order_once(customer, stock, fill_cart, checkout, pay, monkeypatch):
    """Pay reads the order (is it theirs, awaiting payment?), claims its payment and moves
    it to paid, both by conditional updates that answer the order: the claim's answer is
    the order the success is recorded on, not a second read."""
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    placed = await checkout(headers)
    assert placed.status_code == 201, await placed.get_json()
    reads = []
    for name in ("get", "find_one"):
        real = getattr(Order, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            reads.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(Order, name, counting)
    real_find_one = db.find_one  # the driver's read of a model (Beanie's, without its layers)

    def counting_db(model, *args, **kwargs):
        if model is Order:
            reads.append("find_one")
        return real_find_one(model, *args, **kwargs)

    monkeypatch.setattr(db, "find_one", counting_db)
    paid = await pay((await placed.get_json())["id"], headers, key="pay-once")
    assert paid.status_code == 200, await paid.get_json()
    assert (await paid.get_json())["status"] == "paid"
    assert reads == ["find_one"], reads
