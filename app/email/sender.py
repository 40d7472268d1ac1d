"""The background sender: claims due outbox rows with a lease, sends, retries with backoff.

Claiming is one atomic `find_one_and_update`, so two senders (or two app workers) never hold
the same row. A row whose sender died comes back once its lease lapses.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from datetime import timedelta

from pymongo import ReturnDocument

from app.core.clock import sleep_unless_stopped, utcnow
from app.email import hooks
from app.email.backends import (
    EmailBackend,
    PermanentDeliveryError,
    TransientDeliveryError,
    build_message,
)
from app.email.models import OutboxEmail

log = logging.getLogger("app.email")


class EmailSender:
    def __init__(self, *, backend: EmailBackend, settings, worker_id: str | None = None) -> None:
        self.backend = backend
        self.settings = settings
        self.worker_id = worker_id or f"sender-{uuid.uuid4().hex[:8]}"

    async def claim(self) -> OutboxEmail | None:
        now = utcnow()
        lease = timedelta(seconds=self.settings.EMAIL_LEASE_SECONDS)
        raw = await OutboxEmail.get_pymongo_collection().find_one_and_update(
            {
                "$or": [
                    {"status": "pending", "next_attempt_at": {"$lte": now}},
                    {"status": "sending", "lease_expires_at": {"$lte": now}},
                ]
            },
            {
                "$set": {
                    "status": "sending",
                    "lease_owner": self.worker_id,
                    "lease_expires_at": now + lease,
                },
                "$inc": {"attempts": 1},
            },
            sort=[("next_attempt_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        return OutboxEmail.model_validate(raw) if raw else None

    async def _finish(self, email: OutboxEmail, fields: dict) -> None:
        # Only the lease holder may settle the row.
        await OutboxEmail.get_pymongo_collection().update_one(
            {"_id": email.id, "lease_owner": self.worker_id, "status": "sending"},
            {"$set": {**fields, "lease_owner": None, "lease_expires_at": None}},
        )

    def _backoff(self, attempts: int) -> timedelta:
        base = self.settings.EMAIL_RETRY_BASE_SECONDS
        delay = min(base * 2 ** (attempts - 1), 6 * 3600)
        return timedelta(seconds=delay * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not crypto)

    async def deliver(self, email: OutboxEmail) -> str:
        """Send one claimed row and settle it; returns the row's new status."""
        max_attempts = self.settings.EMAIL_MAX_ATTEMPTS
        if email.attempts > max_attempts:
            await self._finish(email, {"status": "failed", "last_error": "attempts exhausted"})
            log.error("email %s to %s FAILED: attempts exhausted", email.id, email.to)
            return "failed"
        message = build_message(
            sender=self.settings.MAIL_FROM,
            to=email.to,
            subject=email.subject,
            text=email.text,
            html=email.html,
            message_id=f"<{email.id}@outbox.shop>",
        )
        try:
            await self.backend.send(message)
        except (PermanentDeliveryError, TransientDeliveryError) as error:
            permanent = isinstance(error, PermanentDeliveryError)
            if permanent or email.attempts >= max_attempts:
                await self._finish(email, {"status": "failed", "last_error": str(error)[:500]})
                log.error(
                    "email %s (%s) to %s FAILED after %s attempt(s), dead-lettered: %s",
                    email.id,
                    email.kind,
                    email.to,
                    email.attempts,
                    error,
                )
                return "failed"
            retry_at = utcnow() + self._backoff(email.attempts)
            await self._finish(
                email,
                {"status": "pending", "next_attempt_at": retry_at, "last_error": str(error)[:500]},
            )
            log.warning(
                "email %s to %s not sent (attempt %s), retrying at %s: %s",
                email.id,
                email.to,
                email.attempts,
                retry_at.isoformat(),
                error,
            )
            return "pending"
        await self._finish(email, {"status": "sent", "sent_at": utcnow(), "last_error": None})
        log.info("email %s (%s) sent to %s", email.id, email.kind, email.to)
        return "sent"

    async def produce(self) -> None:
        """Let the domains turn their stored requests into outbox rows (see `hooks`)."""
        for producer in hooks.producers():
            try:
                await producer()
            except Exception:  # one broken producer must not stop delivery
                log.exception("email producer %s failed", getattr(producer, "__name__", producer))

    async def process_due(self, limit: int = 100) -> int:
        """Run the producers, then deliver up to `limit` due rows; returns how many were
        claimed."""
        await self.produce()
        claimed = 0
        while claimed < limit:
            email = await self.claim()
            if email is None:
                break
            claimed += 1
            await self.deliver(email)
        return claimed

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; errors are logged and never kill the loop."""
        log.info("email sender %s started", self.worker_id)
        while not stop.is_set():
            try:
                busy = await self.process_due()
            except Exception:
                log.exception("email sender loop error")
                busy = 0
            if not busy:
                await sleep_unless_stopped(stop, self.settings.EMAIL_POLL_SECONDS)
        log.info("email sender %s stopped", self.worker_id)
