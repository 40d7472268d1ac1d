"""The webhook redelivery storm: every `payment_intent.succeeded` event delivered many times
at once, as Stripe does after a time-out, must pay its order exactly once.

A second server runs with `PAYMENT_PROVIDER=stripe`, a test webhook secret and a Stripe API
address where nothing listens (checkout then keeps the order with `intent_failed`; the
webhook finds it through the intent's metadata and applies the event from its own body, so
no Stripe is needed). Events are signed exactly as Stripe signs them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter

import httpx

ORDERS = 40
DELIVERIES = 10  # of each event, all at once
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)


def signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={stamp},v1={digest.hexdigest()}"


def succeeded_event(order: dict) -> dict:
    return {
        "id": f"evt_storm_{order['id']}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"pi_storm_{order['id']}",
                "object": "payment_intent",
                "amount": order["total"],
                "amount_received": order["total"],
                "currency": order["currency"],
                "status": "succeeded",
                "metadata": {"order_id": order["id"], "order_number": order["number"]},
            }
        },
    }


async def deliver(client: httpx.AsyncClient, payload: bytes, signature: str) -> httpx.Response:
    return await client.post(
        "/api/v1/payments/webhook",
        content=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )


async def run(main) -> list:
    """`main` is the load test module (its Server, Result and helpers)."""
    closed_port = main.free_port()
    env = {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{closed_port}",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    result = main.Result(f"webhook storm: {ORDERS} events × {DELIVERIES} deliveries")
    with main.Server(**env) as server:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as client:
            admin = (await main.login(client, *main.ADMIN)).json()["access_token"]
            shoppers = await main.set_up_shoppers(client, ORDERS)
            product_id = await main.scarce_product(client, admin, ORDERS)
            orders = []
            for _, token in shoppers:
                headers = main.bearer(token)
                await client.post(
                    "/api/v1/cart/items",
                    json={"product_id": product_id, "quantity": 1},
                    headers=headers,
                )
                placed = await client.post(
                    "/api/v1/orders",
                    json={"shipping_address": main.ADDRESS},
                    headers=headers,
                )
                orders.append(placed.json())
            result.check(
                "checkouts kept their orders while Stripe was unreachable",
                all(o.get("payment", {}).get("status") == "intent_failed" for o in orders),
            )
            deliveries = [signed(succeeded_event(order)) for order in orders] * DELIVERIES
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(main.timed(result, deliver(client, *d)) for d in deliveries)
            )
            # A delivery that met the same event mid-way answered 409: Stripe would deliver
            # it again later, and so do we, a bounded number of times.
            pending = [
                d for d, r in zip(deliveries, responses, strict=True) if r.status_code == 409
            ]
            for _ in range(20):
                if not pending:
                    break
                await asyncio.sleep(0.5)
                again = await asyncio.gather(
                    *(main.timed(result, deliver(client, *d)) for d in pending)
                )
                pending = [d for d, r in zip(pending, again, strict=True) if r.status_code == 409]
            result.wall = time.perf_counter() - started
            result.check("no 5xx", not any(code >= 500 for code in result.statuses))
            result.check("every event acknowledged in the end", not pending)
            statuses = Counter()
            paid_once = True
            for order in orders:
                body = (
                    await client.get(
                        f"/api/v1/admin/orders/{order['id']}", headers=main.bearer(admin)
                    )
                ).json()
                statuses[body["status"]] += 1
                paid_once &= [h["status"] for h in body["history"]].count("paid") == 1
            result.check(f"all {ORDERS} orders paid", statuses["paid"] == ORDERS)
            result.check("each paid exactly once (one history entry)", paid_once)
            emails = await client.get(
                "/api/v1/admin/emails?kind=order_status&per_page=100", headers=main.bearer(admin)
            )
            paid_mails = [e for e in emails.json()["items"] if "paid" in e["subject"]]
            result.check("one 'paid' email per order", len(paid_mails) == ORDERS)
    return [result]
