"""The admin's webhook endpoints, their delivery logs and manual redelivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.hooks import secrets, urls
from app.hooks.models import StoredSecret, WebhookDelivery, WebhookEndpoint
from config import Settings


def strict_urls(settings: Settings) -> bool:
    """Whether receiver URLs must be https and public (always in production)."""
    allowed = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    if allowed is None:
        return settings.APP_ENV == "production"
    return not allowed


async def _checked_url(url: str, settings: Settings, resolver: urls.Resolver | None) -> str:
    try:
        await urls.check(
            url, strict=strict_urls(settings), resolver=resolver or urls.system_resolver
        )
    except urls.UrlRefused as refusal:
        raise Invalid(
            str(refusal),
            code=ErrorCode.WEBHOOK_URL_REFUSED,
            errors=[{"loc": ["url"], "msg": str(refusal), "type": "webhook_url_refused"}],
        ) from None
    return url


async def _endpoint(endpoint_id: PydanticObjectId) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get(endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def create_endpoint(
    *,
    url: str,
    events: list[str],
    description: str | None,
    settings: Settings,
    resolver: urls.Resolver | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown this once).

    Raises Invalid `webhook_url_refused` for a URL the shop may not call."""
    await _checked_url(url, settings, resolver)
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        events=list(dict.fromkeys(events)),
        description=description,
        secrets=[StoredSecret(ciphertext=secrets.encrypt(secret, settings))],
    )
    await endpoint.insert()
    return endpoint, secret


async def get_endpoint(*, endpoint_id: PydanticObjectId) -> WebhookEndpoint:
    return await _endpoint(endpoint_id)


async def list_endpoints(*, query: PageQuery) -> Page[Any]:
    find = WebhookEndpoint.find({})
    total = await find.count()
    items = (
        await find.sort(-WebhookEndpoint.created_at, -WebhookEndpoint.id)  # type: ignore[operator]  # Beanie
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build(items, query=query, total=total)


async def update_endpoint(
    *,
    endpoint_id: PydanticObjectId,
    changes: dict[str, Any],
    settings: Settings,
    resolver: urls.Resolver | None = None,
) -> WebhookEndpoint:
    """Change `url`, `events`, `description` or `enabled`. Enabling an endpoint clears its
    failure count (its pending deliveries go out again). Raises NotFound, Invalid."""
    await _endpoint(endpoint_id)
    fields: dict[str, Any] = {}
    if "url" in changes:
        fields["url"] = await _checked_url(changes["url"], settings, resolver)
    if "events" in changes:
        fields["events"] = list(dict.fromkeys(changes["events"]))
    if "description" in changes:
        fields["description"] = changes["description"]
    if "enabled" in changes:
        fields["enabled"] = changes["enabled"]
        if changes["enabled"]:
            fields.update(consecutive_failures=0, disabled_reason=None, disabled_at=None)
    fields["updated_at"] = utcnow()
    row = await WebhookEndpoint.get_pymongo_collection().find_one_and_update(
        {"_id": endpoint_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
    )
    if row is None:
        raise NotFound("No such webhook endpoint.")
    return WebhookEndpoint.model_validate(row)


async def delete_endpoint(*, endpoint_id: PydanticObjectId) -> None:
    """Remove an endpoint and its delivery log (nothing more is sent to it)."""
    result = await WebhookEndpoint.get_pymongo_collection().delete_one({"_id": endpoint_id})
    if not result.deleted_count:
        raise NotFound("No such webhook endpoint.")
    await WebhookDelivery.get_pymongo_collection().delete_many({"endpoint_id": endpoint_id})


async def rotate_secret(
    *, endpoint_id: PydanticObjectId, overlap_seconds: int | None, settings: Settings
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (returned this once). The secrets in use keep signing for
    `overlap_seconds` (default WEBHOOK_ROTATION_OVERLAP_SECONDS) beside it, so a receiver
    switches over without dropping a delivery. Raises NotFound."""
    endpoint = await _endpoint(endpoint_id)
    now = utcnow()
    overlap = (
        settings.WEBHOOK_ROTATION_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    )
    until = now + timedelta(seconds=overlap)
    kept = []
    for stored in endpoint.secrets:
        if stored.expires_at is not None and stored.expires_at <= now:
            continue  # expired: it signs nothing any more
        expires = stored.expires_at if stored.expires_at and stored.expires_at < until else until
        kept.append(stored.model_copy(update={"expires_at": expires}))
    secret = secrets.new_secret()
    fresh = StoredSecret(ciphertext=secrets.encrypt(secret, settings), created_at=now)
    row = await WebhookEndpoint.get_pymongo_collection().find_one_and_update(
        {"_id": endpoint_id},
        {
            "$set": {
                "secrets": [s.model_dump() for s in [*kept, fresh]],
                "updated_at": now,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if row is None:
        raise NotFound("No such webhook endpoint.")
    return WebhookEndpoint.model_validate(row), secret


async def list_deliveries(
    *, endpoint_id: PydanticObjectId, query: PageQuery, status: str | None = None
) -> Page[Any]:
    """An endpoint's delivery log, newest first. Raises NotFound."""
    await _endpoint(endpoint_id)
    filters: dict[str, Any] = {"endpoint_id": endpoint_id}
    if status:
        filters["status"] = {"$in": ["pending", "sending"]} if status == "pending" else status
    find = WebhookDelivery.find(filters)
    total = await find.count()
    items = (
        await find.sort(-WebhookDelivery.created_at, -WebhookDelivery.id)  # type: ignore[operator]  # Beanie
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build(items, query=query, total=total)


async def redeliver(*, delivery_id: PydanticObjectId) -> WebhookDelivery:
    """Send a delivered or dead-lettered event again (same `webhook-id`, fresh attempts).
    Raises NotFound, Conflict while it is still queued or being sent."""
    row = await WebhookDelivery.get_pymongo_collection().find_one_and_update(
        {"_id": delivery_id, "status": {"$in": ["delivered", "failed"]}},
        {
            "$set": {
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "lease_owner": None,
                "lease_expires_at": None,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if row is None:
        if await WebhookDelivery.get(delivery_id) is None:
            raise NotFound("No such webhook delivery.")
        raise Conflict("The delivery is already queued.", code=ErrorCode.CONFLICT)
    return WebhookDelivery.model_validate(row)
