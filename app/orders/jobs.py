"""The orders' background work: reconcile payments with the provider (every
PAYMENT_RECONCILE_INTERVAL_SECONDS), expire unpaid orders, re-drive pending refunds, ask
again for refunds the provider refused on cancelled orders.

Runs inside the app (`ORDER_JOBS_ENABLED`) or alone (`quart order-jobs`). Every job is safe
with several workers at once: each change it makes is a conditional update.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from app.core.clock import sleep_unless_stopped
from app.orders import owed_refunds, provider_events, refunds
from app.orders.cancellation import expire_unpaid_orders
from app.payments.types import ProviderUnavailable
from config import Settings

log = logging.getLogger("app.orders.jobs")


async def run_once(settings: Settings, *, reconcile: bool = True) -> dict[str, int]:
    done: dict[str, int] = {}
    if reconcile:
        # First: an order paid without its webhook is then paid, not expired.
        checked = await provider_events.reconcile_payments(
            older_than_seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS
        )
        done["payments_reconciled"] = checked["changed"]
    done["expired"] = await expire_unpaid_orders(
        older_than_seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS
    )
    done["refunds_retried"] = await retry_pending_refunds()
    done["owed_refunds_retried"] = await retry_owed_refunds()
    return done


async def run(stop: asyncio.Event, settings: Settings) -> None:
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
        await sleep_unless_stopped(stop, settings.ORDER_JOBS_INTERVAL_SECONDS)


async def retry_owed_refunds(*, limit: int = 100) -> int:
    """Ask again for the money of cancelled orders whose refund the provider refused, once
    each is due (REFUND_RETRY_BACKOFF_SECONDS, doubling). Stops when the provider cannot be
    reached; returns how many were asked."""
    asked = 0
    for order_id in await owed_refunds.owed_refunds(limit=limit):
        try:
            if await owed_refunds.retry_owed_refund(order_id) is not None:
                asked += 1
        except ProviderUnavailable as error:
            log.warning("owed refunds not retried: %s", error)
            break
        except Exception:  # one bad refund must not stop the others; it is logged
            log.exception("retrying the owed refund of order %s", order_id)
    return asked


async def retry_pending_refunds(*, older_than_seconds: int = 60) -> int:
    """Ask the provider again about refunds it did not confirm (it was unreachable)."""
    done = 0
    for order_id, refund_id in await owed_refunds.pending_refunds(
        older_than=timedelta(seconds=older_than_seconds)
    ):
        try:
            await refunds.drive_refund(order_id=order_id, refund_id=refund_id)
            done += 1
        except refunds.RefundRefused:
            done += 1  # recorded: a cancelled order then owes it (`retry_owed_refunds`)
        except Exception:  # one bad refund must not stop the others; it is logged
            log.exception("retrying refund %s of order %s", refund_id, order_id)
    return done
