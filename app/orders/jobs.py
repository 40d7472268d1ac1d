"""The orders' background work: reconcile payments with the provider (every
PAYMENT_RECONCILE_INTERVAL_SECONDS), expire unpaid orders, re-drive pending refunds, ask
again for refunds the provider refused on cancelled orders.

Runs inside the app (`ORDER_JOBS_ENABLED`) or alone (`quart order-jobs`). Every job is safe
with several workers at once: each change it makes is a conditional update.
"""

from __future__ import annotations

import asyncio
import logging

from app.orders import provider_events, service

log = logging.getLogger("app.orders.jobs")


async def run_once(settings, *, reconcile: bool = True) -> dict[str, int]:
    done: dict[str, int] = {}
    if reconcile:
        # First: an order paid without its webhook is then paid, not expired.
        checked = await provider_events.reconcile_payments(
            older_than_seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS
        )
        done["payments_reconciled"] = checked["changed"]
    done["expired"] = await service.expire_unpaid_orders(
        older_than_seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS
    )
    done["refunds_retried"] = await service.retry_pending_refunds()
    done["owed_refunds_retried"] = await service.retry_owed_refunds()
    return done


async def run(stop: asyncio.Event, settings) -> None:
    """Every ORDER_JOBS_INTERVAL_SECONDS until `stop` is set; a failing round is logged and
    the next one runs as usual."""
    loop = asyncio.get_running_loop()
    last_reconcile: float | None = None
    while not stop.is_set():
        try:
            now = loop.time()
            reconcile = (
                last_reconcile is None
                or now - last_reconcile >= settings.PAYMENT_RECONCILE_INTERVAL_SECONDS
            )
            if reconcile:
                last_reconcile = now
            done = await run_once(settings, reconcile=reconcile)
            if any(done.values()):
                log.info("order jobs: %s", done)
        except Exception:
            log.exception("order jobs failed; retrying next round")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.ORDER_JOBS_INTERVAL_SECONDS)
        except TimeoutError:
            pass
