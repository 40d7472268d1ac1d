"""The delivery worker: sends the webhook outbox, signed, in order, at least once.

Each round it reads the enabled endpoints, then due rows of the endpoints that have a free
slot (at most WEBHOOK_ENDPOINT_CONCURRENCY deliveries in flight per endpoint and
WEBHOOK_MAX_IN_FLIGHT in all), and claims each with one atomic `find_one_and_update` that
takes a lease (two workers never send one row; a row whose worker died comes back when its
lease lapses). A row is sent only when no earlier event of its subject is still undelivered
for that endpoint; otherwise it waits (its due time moves to its predecessor's) and is woken
when the predecessor is settled. Every delivery is its own task with its own time limit, so a
slow or dead receiver holds only its own endpoint's slots: the API never waits on it (it
only writes rows) and the other endpoints go on.

An attempt resolves the host and checks the addresses (urls.py), connects to the checked
address without following redirects, signs with `standardwebhooks` (every live secret of the
endpoint: `webhook-signature` lists one `v1,` signature per secret), reads at most
WEBHOOK_RESPONSE_MAX_BYTES of the answer, and logs it on the row. 2xx is delivered; network
errors, time-outs, 5xx and 429 are retried with exponential backoff and jitter (or the
receiver's Retry-After when longer); other answers and the last attempt dead-letter the row
(`failed`). WEBHOOK_DISABLE_AFTER_FAILURES dead letters in a row disable the endpoint, and
the admins get one email.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from pymongo import ReturnDocument
from standardwebhooks.webhooks import Webhook

from app.core import db
from app.core.clock import as_utc, sleep_unless_stopped, utcnow
from app.hooks import secrets, urls
from app.hooks.models import WebhookDelivery, WebhookEndpoint
from app.hooks.service import strict_urls
from app.users import service as users
from config import Settings

log = logging.getLogger("app.hooks")
USER_AGENT = "Shop-Webhooks/1.0"


class _Retry(Exception):
    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float = 0):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class _Refused(Exception):
    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def _deliveries() -> Any:
    return WebhookDelivery.get_pymongo_collection()


def _endpoints() -> Any:
    return WebhookEndpoint.get_pymongo_collection()


def live_secrets(endpoint: WebhookEndpoint, settings: Settings, *, now: datetime) -> list[str]:
    """The endpoint's secrets that sign now (the new one and any not yet expired)."""
    return [
        secrets.decrypt(stored.ciphertext, settings)
        for stored in endpoint.secrets
        if stored.expires_at is None or as_utc(stored.expires_at) > now
    ]


def signature_headers(
    *, message_id: str, body: str, signing_secrets: list[str], at: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers for `body`: one `v1,` signature per secret."""
    signature = " ".join(Webhook(secret).sign(message_id, at, body) for secret in signing_secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


class WebhookWorker:
    def __init__(
        self,
        *,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: urls.Resolver | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver or urls.system_resolver
        self.worker_id = worker_id or f"hooks-{uuid.uuid4().hex[:8]}"
        self.client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # never through a proxy from the environment
            timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS),
            limits=httpx.Limits(
                max_connections=settings.WEBHOOK_MAX_IN_FLIGHT,
                max_keepalive_connections=settings.WEBHOOK_MAX_IN_FLIGHT,
            ),
        )
        self.in_flight: dict[Any, int] = {}
        self.tasks: set[asyncio.Task[str]] = set()

    async def close(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()

    # -- one round -------------------------------------------------------------------------

    def _free(self, endpoint_id: Any) -> bool:
        return self.in_flight.get(endpoint_id, 0) < self.settings.WEBHOOK_ENDPOINT_CONCURRENCY

    def _total(self) -> int:
        return sum(self.in_flight.values())

    async def dispatch(self) -> int:
        """Claim what can go now and start its deliveries; returns how many were started."""
        rows = await _endpoints().find({"enabled": True}).to_list(None)
        endpoints = {row["_id"]: WebhookEndpoint.model_validate(row) for row in rows}
        open_ids = [eid for eid in endpoints if self._free(eid)]
        room = self.settings.WEBHOOK_MAX_IN_FLIGHT - self._total()
        if not open_ids or room <= 0:
            return 0
        now = utcnow()
        candidates = (
            await _deliveries()
            .find(
                {
                    "$or": [
                        {
                            "status": "pending",
                            "endpoint_id": {"$in": open_ids},
                            "next_attempt_at": {"$lte": now},
                        },
                        {
                            "status": "sending",
                            "endpoint_id": {"$in": open_ids},
                            "lease_expires_at": {"$lte": now},
                        },
                    ]
                },
                {"body": 0, "attempt_log": 0},
            )
            .sort("next_attempt_at", 1)
            .limit(room * 2)
            .to_list(None)
        )
        started = 0
        for candidate in candidates:
            endpoint_id = candidate["endpoint_id"]
            if not self._free(endpoint_id) or self._total() >= self.settings.WEBHOOK_MAX_IN_FLIGHT:
                continue
            if await self._waits_for_earlier(candidate, now=now):
                continue
            claimed = await self._claim(candidate["_id"], now=now)
            if claimed is None:
                continue
            self.in_flight[endpoint_id] = self.in_flight.get(endpoint_id, 0) + 1
            task = asyncio.create_task(self._run_one(claimed, endpoints[endpoint_id]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _waits_for_earlier(self, candidate: dict[str, Any], *, now: datetime) -> bool:
        """Whether an earlier event of the candidate's subject is still undelivered to its
        endpoint; if so the candidate's due time moves to the earlier one's (it is woken
        sooner when that one is settled)."""
        earlier = await _deliveries().find_one(
            {
                "endpoint_id": candidate["endpoint_id"],
                "subject": candidate["subject"],
                "seq": {"$lt": candidate["seq"]},
                "status": {"$in": ["pending", "sending"]},
            },
            {"next_attempt_at": 1, "lease_expires_at": 1, "status": 1},
            sort=[("seq", 1)],
        )
        if earlier is None:
            return False
        if candidate["status"] == "pending":
            if earlier["status"] == "sending" and earlier.get("lease_expires_at"):
                wait_until = as_utc(earlier["lease_expires_at"])
            else:
                wait_until = as_utc(earlier["next_attempt_at"])
            await _deliveries().update_one(
                {"_id": candidate["_id"], "status": "pending"},
                {"$set": {"next_attempt_at": max(wait_until, now)}},
            )
        return True

    async def _claim(self, delivery_id: Any, *, now: datetime) -> WebhookDelivery | None:
        lease = timedelta(seconds=self.settings.WEBHOOK_LEASE_SECONDS)
        row = await _deliveries().find_one_and_update(
            {
                "_id": delivery_id,
                "$or": [
                    {"status": "pending", "next_attempt_at": {"$lte": now}},
                    {"status": "sending", "lease_expires_at": {"$lte": now}},
                ],
            },
            {
                "$set": {
                    "status": "sending",
                    "lease_owner": self.worker_id,
                    "lease_expires_at": now + lease,
                },
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return WebhookDelivery.model_validate(row) if row else None

    async def _run_one(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> str:
        try:
            return await self.deliver(delivery, endpoint)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
            # Back in the queue at once rather than when the lease lapses.
            await _deliveries().update_one(
                {"_id": delivery.id, "lease_owner": self.worker_id, "status": "sending"},
                {
                    "$set": {
                        "status": "pending",
                        "next_attempt_at": utcnow() + self._backoff(delivery.attempts, 0),
                        "last_error": "internal error",
                        "lease_owner": None,
                        "lease_expires_at": None,
                    }
                },
            )
            return "error"
        finally:
            self.in_flight[endpoint.id] -= 1
            if not self.in_flight[endpoint.id]:
                del self.in_flight[endpoint.id]

    # -- one attempt -----------------------------------------------------------------------

    async def _send(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> int:
        """One POST; returns the 2xx status or raises _Retry / _Refused."""
        now = utcnow()
        try:
            target = await urls.target(
                endpoint.url, strict=strict_urls(self.settings), resolver=self.resolver
            )
        except urls.UrlRefused as refusal:
            raise _Retry(f"refused: {refusal}") from None
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "host": target.host_header,
            **signature_headers(
                message_id=delivery.message_id,
                body=delivery.body,
                signing_secrets=live_secrets(endpoint, self.settings, now=now),
                at=now,
            ),
        }
        limit = self.settings.WEBHOOK_RESPONSE_MAX_BYTES
        try:
            async with asyncio.timeout(self.settings.WEBHOOK_TIMEOUT_SECONDS):
                request = self.client.build_request(
                    "POST",
                    target.url,
                    content=delivery.body.encode(),
                    headers=headers,
                    extensions={"sni_hostname": target.server_name},
                )
                response = await self.client.send(request, stream=True)
                try:
                    received = 0
                    if not response.is_stream_consumed:
                        async for chunk in response.aiter_raw():
                            received += len(chunk)
                            if received >= limit:
                                break  # the rest stays unread: no receiver makes us buffer it
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise _Retry("timed out") from None
        except httpx.HTTPError as error:
            raise _Retry(f"network error: {type(error).__name__}") from None
        except OSError as error:
            raise _Retry(f"network error: {error.__class__.__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}", status_code=status, retry_after=_retry_after(response))
        if 300 <= status < 400:
            raise _Refused(f"HTTP {status}: redirects are not followed", status_code=status)
        raise _Refused(f"HTTP {status}", status_code=status)

    def _backoff(self, attempts: int, retry_after: float) -> timedelta:
        base = self.settings.WEBHOOK_RETRY_BASE_SECONDS
        ceiling = self.settings.WEBHOOK_RETRY_MAX_SECONDS
        delay = min(base * 2 ** (attempts - 1), ceiling)
        delay = delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 (jitter, not crypto)
        return timedelta(seconds=min(max(delay, retry_after), ceiling))

    async def deliver(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> str:
        """One attempt of a claimed row, logged and settled; returns the row's new status."""
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        retry_after = 0.0
        outcome = "delivered"
        try:
            status_code = await self._send(delivery, endpoint)
        except _Retry as failure:
            status_code, error, retry_after = failure.status_code, str(failure), failure.retry_after
            outcome = (
                "pending" if delivery.attempts < self.settings.WEBHOOK_MAX_ATTEMPTS else "failed"
            )
        except _Refused as failure:
            status_code, error, outcome = failure.status_code, str(failure), "failed"
        except secrets.SecretUnreadable as failure:
            error, outcome = f"cannot sign: {failure}", "failed"
        duration_ms = int((time.perf_counter() - started) * 1000)
        now = utcnow()
        fields: dict[str, Any] = {
            "status": outcome,
            "last_status_code": status_code,
            "last_error": error,
            "last_duration_ms": duration_ms,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if outcome == "delivered":
            fields["delivered_at"] = now
        elif outcome == "pending":
            fields["next_attempt_at"] = now + self._backoff(delivery.attempts, retry_after)
        attempt = {
            "at": now,
            "status_code": status_code,
            "duration_ms": duration_ms,
            "error": error,
        }
        settled = await _deliveries().update_one(
            {"_id": delivery.id, "lease_owner": self.worker_id, "status": "sending"},
            {"$set": fields, "$push": {"attempt_log": {"$each": [attempt], "$slice": -20}}},
        )
        if not settled.matched_count:
            return "lost"  # our lease lapsed and another worker took the row over
        if outcome == "delivered":
            log.info(
                "webhook %s (%s) delivered to %s", delivery.id, delivery.event_type, endpoint.url
            )
            await _endpoints().update_one(
                {"_id": endpoint.id, "consecutive_failures": {"$gt": 0}},
                {"$set": {"consecutive_failures": 0}},
            )
        elif outcome == "pending":
            log.warning(
                "webhook %s to %s not delivered (attempt %s): %s; retrying at %s",
                delivery.id,
                endpoint.url,
                delivery.attempts,
                error,
                fields["next_attempt_at"].isoformat(),
            )
        else:
            log.error(
                "webhook %s (%s) to %s FAILED after %s attempt(s), dead-lettered: %s",
                delivery.id,
                delivery.event_type,
                endpoint.url,
                delivery.attempts,
                error,
            )
            await self._count_failure(endpoint)
        if outcome != "pending":
            await self._wake_next(delivery, now=now)
        return outcome

    async def _wake_next(self, delivery: WebhookDelivery, *, now: datetime) -> None:
        """The subject's next event for this endpoint may go now."""
        following = await _deliveries().find_one(
            {
                "endpoint_id": delivery.endpoint_id,
                "subject": delivery.subject,
                "seq": {"$gt": delivery.seq},
                "status": "pending",
            },
            {"_id": 1},
            sort=[("seq", 1)],
        )
        if following is not None:
            await _deliveries().update_one(
                {"_id": following["_id"], "status": "pending", "next_attempt_at": {"$gt": now}},
                {"$set": {"next_attempt_at": now}},
            )

    async def _count_failure(self, endpoint: WebhookEndpoint) -> None:
        """One more dead letter in a row; at the limit the endpoint is disabled and the admins
        are emailed, once (the guarded update that disables it is the one that emails)."""
        limit = self.settings.WEBHOOK_DISABLE_AFTER_FAILURES
        after = await _endpoints().find_one_and_update(
            {"_id": endpoint.id},
            {"$inc": {"consecutive_failures": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if after is None or not after["enabled"] or after["consecutive_failures"] < limit:
            return
        reason = f"{after['consecutive_failures']} deliveries in a row failed after every retry"

        async def work(session: Any) -> bool:
            disabled = await _endpoints().find_one_and_update(
                {"_id": endpoint.id, "enabled": True, "consecutive_failures": {"$gte": limit}},
                {"$set": {"enabled": False, "disabled_reason": reason, "disabled_at": utcnow()}},
                session=session,
            )
            if disabled is None:
                return False
            await users.email_admins(
                kind="webhook_disabled",
                about=f"webhook endpoint {endpoint.id} was disabled",
                context={
                    "endpoint_id": str(endpoint.id),
                    "url": endpoint.url,
                    "reason": reason,
                    "description": endpoint.description or "",
                },
                session=session,
            )
            return True

        if await db.run_in_transaction(work):
            log.error("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)

    # -- the loop ----------------------------------------------------------------------------

    async def drain(self, *, rounds: int = 10_000) -> int:
        """Dispatch until nothing is pending or in flight for an enabled endpoint, waiting for
        retries that are not due yet (tests and one-off runs); returns how many attempts
        were started."""
        total = 0
        for _ in range(rounds):
            started = await self.dispatch()
            total += started
            if self.tasks:
                await asyncio.wait(set(self.tasks), return_when=asyncio.FIRST_COMPLETED)
                continue
            if started:
                continue
            upcoming = await self._next_due()
            if upcoming is None:
                break
            wait = (upcoming - utcnow()).total_seconds()
            await asyncio.sleep(min(max(wait, 0.001), self.settings.WEBHOOK_POLL_SECONDS))
        return total

    async def _next_due(self) -> datetime | None:
        enabled = [
            row["_id"]
            for row in await _endpoints().find({"enabled": True}, {"_id": 1}).to_list(None)
        ]
        row = await _deliveries().find_one(
            {"status": {"$in": ["pending", "sending"]}, "endpoint_id": {"$in": enabled}},
            {"next_attempt_at": 1, "lease_expires_at": 1, "status": 1},
            sort=[("next_attempt_at", 1)],
        )
        if row is None:
            return None
        when = row["lease_expires_at"] if row["status"] == "sending" else row["next_attempt_at"]
        return as_utc(when) if when else utcnow()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; errors are logged and never end the loop."""
        log.info("webhook worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                started = await self.dispatch()
            except Exception:
                log.exception("webhook worker loop error")
                started = 0
            if not started:
                await sleep_unless_stopped(stop, self.settings.WEBHOOK_POLL_SECONDS)
        await self.close()
        log.info("webhook worker %s stopped", self.worker_id)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0
