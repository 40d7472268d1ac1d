"""End to end: the app served over HTTP (hypercorn, loopback), localstripe configured with
its webhook URL and secret, a payment made in the "browser": the emulator itself signs and
delivers `payment_intent.succeeded`, and the order becomes paid without anyone calling us."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.orders.models import Order
from tests.support.payments import WEBHOOK, WEBHOOK_SECRET, free_port, stripe_settings

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides(own_localstripe) -> dict:
    return stripe_settings(own_localstripe)


@pytest.fixture
async def served(app):
    """The test's app (already started by the fixtures) on a loopback port."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    async def without_lifespan(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        while True:  # started and stopped by the `app` fixture, not by this server
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return

    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(without_lifespan, config, shutdown_trigger=stop.wait))
    async with httpx.AsyncClient() as probe:
        for _ in range(200):
            try:
                await probe.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    stop.set()
    await task


async def test_localstripe_delivers_a_signed_event_that_pays_the_order(
    served, own_localstripe, placed_order, confirm_in_browser
):
    async with httpx.AsyncClient() as http:
        configured = await http.post(
            f"{own_localstripe.url}/_config/webhooks/shop",
            data={"url": served + WEBHOOK, "secret": WEBHOOK_SECRET},
        )
        assert configured.status_code == 200
    order = await placed_order()

    await confirm_in_browser(order["payment"]["intent_id"])

    for _ in range(300):  # localstripe waits a second before it delivers
        stored = await Order.get(order["id"])
        if stored.status == "paid":
            break
        await asyncio.sleep(0.05)
    assert stored.status == "paid"
    assert stored.history[-1].actor == "provider"
