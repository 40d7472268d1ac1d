"""Webhook delivery end to end: orders placed and paid through the API, the worker sending to
real receivers on 127.0.0.1 that verify every signature with `standardwebhooks`."""

from __future__ import annotations

import asyncio

from app.hooks.models import WebhookDelivery, WebhookEndpoint

ORDER_EVENTS = ["order.created", "order.status_changed", "order.paid", "order.cancelled"]


async def _until(predicate, *, rounds: int = 2000) -> None:
    """Yield to the loop until `predicate()` holds (no clock: a bounded number of turns)."""
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_paid_order_is_delivered_signed_with_the_admin_view_of_the_order(
    client, admin, receivers, register, placed_order, worker
):
    receiver = await receivers()
    await register(receiver, events=ORDER_EVENTS)
    order = await placed_order(paid=True)

    await worker().drain()

    assert [r.event["type"] for r in receiver.requests] == [
        "order.created",
        "order.status_changed",
        "order.paid",
    ]
    assert all(r.verified for r in receiver.requests)
    assert all(r.answered == 200 for r in receiver.requests)
    # Standard Webhooks headers; one message id per event.
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == 3 and all(i.startswith("msg_") for i in ids)
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in receiver.requests)
    # order.paid carries the order as GET /admin/orders/{id} shows it (client_secret aside).
    shown = await (
        await client.get(f"/api/v1/admin/orders/{order['id']}", headers=admin[1])
    ).get_json()
    shown["payment"]["client_secret"] = None
    paid = receiver.requests[2].event
    assert paid["data"] == shown
    assert paid["data"]["status"] == "paid"
    created = receiver.requests[0].event["data"]
    assert created["status"] == "pending_payment" and created["id"] == order["id"]
    # The log says what happened.
    rows = await WebhookDelivery.find({}).to_list()
    assert {row.status for row in rows} == {"delivered"}
    assert all(row.attempts == 1 and row.last_status_code == 200 for row in rows)


async def test_only_subscribed_events_and_enabled_endpoints_get_rows(
    receivers, register, placed_order, worker, client, admin
):
    wants_paid = await receivers()
    wants_created = await receivers()
    switched_off = await receivers()
    await register(wants_paid, events=["order.paid"])
    await register(wants_created, events=["order.created"])
    off = await register(switched_off, events=ORDER_EVENTS)
    response = await client.patch(
        f"/api/v1/admin/webhooks/{off['id']}", json={"enabled": False}, headers=admin[1]
    )
    assert response.status_code == 200

    await placed_order(paid=True)
    await worker().drain()

    assert [r.event["type"] for r in wants_paid.requests] == ["order.paid"]
    assert [r.event["type"] for r in wants_created.requests] == ["order.created"]
    assert switched_off.requests == []


async def test_a_failed_checkout_writes_no_event(
    customer, stock, fill_cart, checkout, receivers, register
):
    receiver = await receivers()
    await register(receiver, events=["order.created", "product.out_of_stock"])
    await fill_cart(customer[0], (stock.shirt, 1), (stock.mug, 4))  # 3 mugs in stock

    response = await checkout(customer[1])

    assert response.status_code == 409
    assert await WebhookDelivery.find({}).count() == 0


async def test_receiver_failing_then_recovering_gets_it_once(
    receivers, register, placed_order, worker
):
    receiver = await receivers(answers=[500, 503, 429, 200])
    await register(receiver, events=["order.created"])
    await placed_order()

    await worker().drain()

    assert [r.answered for r in receiver.requests] == [500, 503, 429, 200]
    assert len(receiver.delivered) == 1
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # same message
    assert all(r.verified for r in receiver.requests)  # each attempt signed anew
    [row] = await WebhookDelivery.find({}).to_list()
    assert row.status == "delivered" and row.attempts == 4
    assert [a.status_code for a in row.attempt_log] == [500, 503, 429, 200]
    assert all(a.duration_ms >= 0 for a in row.attempt_log)


async def test_a_refusal_is_not_retried_and_a_redirect_not_followed(
    receivers, register, placed_order, worker
):
    receiver = await receivers(answers=[302])
    await register(receiver, events=["order.created"])
    await placed_order()

    await worker().drain()

    assert len(receiver.requests) == 1
    [row] = await WebhookDelivery.find({}).to_list()
    assert row.status == "failed" and row.last_status_code == 302
    assert "redirect" in row.last_error


async def test_one_subjects_events_arrive_in_order_even_when_the_first_fails(
    receivers, register, customer, stock, fill_cart, checkout, pay, worker, settings_overrides
):
    # The first request fails: with 4 slots for the endpoint, only ordering keeps the later
    # events of that order from overtaking it.
    receiver = await receivers(answers=[500, 200])
    await register(receiver, events=ORDER_EVENTS)
    orders = []
    for _ in range(3):
        await fill_cart(customer[0], (stock.shirt, 1))
        placed = await (await checkout(customer[1])).get_json()
        orders.append(placed["id"])
        assert (await pay(placed["id"], customer[1])).status_code == 200

    await worker().drain()

    for order_id in orders:
        seen = [
            r.event["type"]
            for r in receiver.requests
            if r.event["data"]["id"] == order_id and r.answered == 200
        ]
        assert seen == ["order.created", "order.status_changed", "order.paid"]
        attempted = [
            r.event["type"] for r in receiver.requests if r.event["data"]["id"] == order_id
        ]
        # No later event was even attempted before an earlier one was delivered.
        first_ok = {t: attempted.index(t) for t in seen}
        assert first_ok["order.created"] < first_ok["order.status_changed"] < first_ok["order.paid"]
        assert attempted.count("order.status_changed") == 1 and attempted.count("order.paid") == 1
    assert sum(1 for r in receiver.requests if r.answered == 500) == 1
    assert len(receiver.delivered) == 9


async def test_dead_receiver_times_out_and_is_dead_lettered(
    receivers, register, placed_order, worker, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver = await receivers(answers=["hang"])
    await register(receiver, events=["order.created"])
    await placed_order()

    await worker().drain()

    assert len(receiver.requests) == 2  # both attempts reached it, neither was answered
    [row] = await WebhookDelivery.find({}).to_list()
    assert row.status == "failed" and row.attempts == 2
    assert [a.error for a in row.attempt_log] == ["timed out", "timed out"]
    assert row.last_status_code is None


async def test_a_dead_receiver_slows_neither_the_api_nor_other_receivers(
    client, admin, receivers, register, customer, stock, fill_cart, checkout, worker, settings
):
    """While a receiver holds every request it gets (no answer, no time-out yet), the API
    answers and a healthy receiver gets its events: proved by what has happened when, not by
    timing. The dead one holds at most its own slots (WEBHOOK_ENDPOINT_CONCURRENCY)."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 60  # it must still be hanging while we look
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 2
    settings.UNPAID_ORDERS_MAX = 10
    dead = await receivers(answers=["hang"])
    healthy = await receivers()
    await register(dead, events=["order.created"])
    await register(healthy, events=["order.created"])
    running = worker()
    stop = asyncio.Event()
    loop_task = asyncio.create_task(running.run(stop))
    try:
        for _ in range(3):  # 3 events for the dead receiver: one more than its slots
            await fill_cart(customer[0], (stock.shirt, 1))
            assert (await checkout(customer[1])).status_code == 201
        await _until(lambda: dead.hanging == 2 and len(healthy.delivered) == 3)

        # The dead receiver holds both its slots, unanswered; the API still answers at once
        # and its events reach the healthy receiver.
        await fill_cart(customer[0], (stock.lamp, 1))
        response = await checkout(customer[1])
        assert response.status_code == 201
        assert dead.hanging == 2
        await _until(lambda: len(healthy.delivered) == 4)
        assert dead.hanging == 2 and len(dead.requests) == 2  # the third waits for a slot
        assert running.in_flight[(await _endpoint_id(dead.url))] == 2
    finally:
        stop.set()
        dead.release()
        await loop_task


async def _endpoint_id(url: str):
    endpoint = await WebhookEndpoint.find_one({"url": url})
    return endpoint.id


async def test_an_endpoint_that_keeps_failing_is_disabled_and_the_admins_told(
    app, admin, receivers, register, placed_order, worker, settings, client
):
    from app.email.models import OutboxEmail

    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver = await receivers(answers=[500])
    endpoint = await register(
        receiver, events=["order.created", "order.status_changed", "order.paid"]
    )
    await placed_order(paid=True)  # 3 events

    await worker().drain()

    stored = await WebhookEndpoint.get(endpoint["id"])
    assert stored.enabled is False and "2 deliveries in a row" in stored.disabled_reason
    # The third was not sent: its endpoint was off by then; it waits for re-enabling.
    assert len(receiver.requests) == 2
    alerts = await OutboxEmail.find({"kind": "webhook_disabled"}).to_list()
    assert [a.to for a in alerts] == ["admin@example.com"]
    assert receiver.url in alerts[0].text
    shown = await (
        await client.get(f"/api/v1/admin/webhooks/{endpoint['id']}", headers=admin[1])
    ).get_json()
    assert shown["enabled"] is False and shown["consecutive_failures"] == 2


async def test_redelivery_sends_a_dead_letter_again_with_the_same_id(
    client, admin, receivers, register, placed_order, worker, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver = await receivers(answers=[500, 200])
    endpoint = await register(receiver, events=["order.created"])
    await placed_order()
    await worker().drain()
    log = await (
        await client.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin[1])
    ).get_json()
    [failed] = log["items"]
    assert failed["status"] == "failed" and failed["last_status_code"] == 500
    assert failed["next_attempt_at"] is None

    response = await client.post(
        f"/api/v1/admin/webhook-deliveries/{failed['id']}/redeliver", headers=admin[1]
    )
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "pending"
    again = await client.post(
        f"/api/v1/admin/webhook-deliveries/{failed['id']}/redeliver", headers=admin[1]
    )
    assert again.status_code == 409
    await worker().drain()

    assert [r.answered for r in receiver.requests] == [500, 200]
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    log = await (
        await client.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin[1])
    ).get_json()
    assert log["items"][0]["status"] == "delivered"
    assert [a["status_code"] for a in log["items"][0]["attempt_log"]] == [500, 200]


async def test_stock_crossings_are_events(
    customer, stock, fill_cart, checkout, receivers, register, worker
):
    receiver = await receivers()
    await register(receiver, events=["product.stock_low", "product.out_of_stock"])
    await fill_cart(customer[0], (stock.shirt, 6))  # 10 in stock, threshold 5: 4 left, low
    assert (await checkout(customer[1])).status_code == 201
    await fill_cart(customer[0], (stock.shirt, 4))  # then out

    assert (await checkout(customer[1])).status_code == 201
    await worker().drain()

    events = [r.event for r in receiver.requests]
    assert [e["type"] for e in events] == ["product.stock_low", "product.out_of_stock"]
    assert events[0]["data"]["stock"] == 4 and events[0]["data"]["stock_status"] == "low_stock"
    assert events[1]["data"]["id"] == str(stock.shirt.id)
    assert events[1]["data"]["stock"] == 0
    assert events[1]["data"]["stock_status"] == "out_of_stock"
