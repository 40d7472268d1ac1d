"""The orders' background work: expire unpaid orders, re-drive pending refunds.

Runs inside the app (`ORDER_JOBS_ENABLED`) or alone (`quart order-jobs`). Every job is safe
with several workers at once: each change it makes is a conditional update.
"""

from __future__ import annotations

import asyncio
import logging

from app.orders import service

log = logging.getLogger("app.orders.jobs")


async def run_once(settings) -> dict[str, int]:
    return {
        "expired": await service.expire_unpaid_orders(
            older_than_seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS
        ),
        "refunds_retried": await service.retry_pending_refunds(),
    }


async def run(stop: asyncio.Event, settings) -> None:
    """Every ORDER_JOBS_INTERVAL_SECONDS until `stop` is set; a failing round is logged and
    the next one runs as usual."""
    while not stop.is_set():
        try:
            done = await run_once(settings)
            if any(done.values()):
                log.info("order jobs: %s", done)
        except Exception:
            log.exception("order jobs failed; retrying next round")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.ORDER_JOBS_INTERVAL_SECONDS)
        except TimeoutError:
            pass
