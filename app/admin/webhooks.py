"""Outgoing webhooks: the admin's endpoints, their delivery logs, redelivery (app/hooks)."""

from __future__ import annotations

from typing import Any, Literal

from beanie import PydanticObjectId
from pydantic import Field, StrictBool
from quart import current_app
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.core.openapi import links, no_content, problems
from app.core.pagination import Page, PageQuery
from app.core.schemas import InModel, ObjectIdStr, OutModel, UTCDateTime
from app.core.security import admin_required
from app.hooks import service
from app.hooks.events import EVENT_TYPES
from app.hooks.models import WebhookDelivery, WebhookEndpoint

EventType = Literal[
    "order.created",
    "order.paid",
    "order.status_changed",
    "order.cancelled",
    "order.refunded",
    "product.stock_low",
    "product.out_of_stock",
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]  # one list


URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"
    r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$"
)


def _url(**kwargs: Any) -> Any:
    return Field(
        **kwargs,
        min_length=8,
        max_length=2048,
        # No control characters (C0, DEL, C1; NUL is refused in every request value) and no
        # whitespace, each named: `\s` differs between regex engines (pydantic's counts U+0085
        # as whitespace, a JSON Schema client's may not), and the schema must say what this
        # validation does.
        pattern=URL_PATTERN,
        description="Where events are POSTed. In production only `https://` URLs whose host "
        "resolves to public addresses (422 `webhook_url_refused` otherwise)",
    )


def _events(**kwargs: Any) -> Any:
    return Field(
        **kwargs, min_length=1, max_length=len(EVENT_TYPES), description="The events it receives"
    )


def _left_out(**kwargs: Any) -> Any:
    """A PATCH field that may be left out but is never null."""
    return Field(default=None, **kwargs)


def _description() -> Any:
    return Field(default=None, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")


class WebhookIn(InModel):
    url: str = _url()
    events: list[EventType] = _events()
    description: str | None = _description()


class WebhookUpdate(InModel):
    # Fields left out stay as they are; only `description` may be set to null.
    url: str = _url(default=None)
    events: list[EventType] = _events(default=None)
    description: str | None = _description()
    enabled: StrictBool = _left_out(
        description="true re-enables a disabled endpoint (its failures cleared)"
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class RotateSecretIn(InModel):
    overlap_seconds: int | None = Field(
        default=None,
        ge=0,
        le=30 * 86400,
        description="How long the secrets in use keep signing beside the new one "
        "(default WEBHOOK_ROTATION_OVERLAP_SECONDS, a day)",
    )


class WebhookOut(OutModel):
    id: ObjectIdStr
    url: str
    events: list[EventType]
    description: str | None
    enabled: bool
    consecutive_failures: int = Field(description="Deliveries dead-lettered in a row")
    disabled_reason: str | None
    disabled_at: UTCDateTime | None
    secrets_in_use: int = Field(
        description="How many secrets sign each delivery now (2 while a rotation overlaps)"
    )
    created_at: UTCDateTime
    updated_at: UTCDateTime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        from app.core.clock import as_utc, utcnow

        now = utcnow()
        live = [s for s in endpoint.secrets if s.expires_at is None or as_utc(s.expires_at) > now]
        return cls.model_validate(
            {
                **endpoint.model_dump(exclude={"secrets"}),
                "id": str(endpoint.id),
                "secrets_in_use": len(live),
            }
        )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret (`whsec_…`): shown this once, never again")


class AttemptOut(OutModel):
    at: UTCDateTime
    status_code: int | None
    duration_ms: int
    error: str | None


class DeliveryOut(OutModel):
    id: ObjectIdStr
    endpoint_id: ObjectIdStr
    event_type: EventType
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt")
    status: Literal["pending", "delivered", "failed"] = Field(
        description="`failed`: dead-lettered after the last attempt (or refused by the receiver)"
    )
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    next_attempt_at: UTCDateTime | None = Field(description="The next try while pending")
    created_at: UTCDateTime
    delivered_at: UTCDateTime | None
    attempt_log: list[AttemptOut] = Field(description="The last 20 attempts, oldest first")

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        pending = delivery.status in ("pending", "sending")
        return cls.model_validate(
            {
                **delivery.model_dump(exclude={"body"}),
                "id": str(delivery.id),
                "endpoint_id": str(delivery.endpoint_id),
                "status": "pending" if pending else delivery.status,
                "next_attempt_at": delivery.next_attempt_at if pending else None,
            }
        )


class DeliveryQuery(PageQuery):
    status: Literal["pending", "delivered", "failed"] | None = None


def _settings() -> Any:
    return current_app.config["SETTINGS"]


@bp.post("/webhooks")
@problems(422)
@admin_required
@validate_request(WebhookIn)
@validate_response(WebhookCreatedOut, 201)
async def create_webhook(data: WebhookIn) -> tuple[WebhookCreatedOut, int]:
    """Register a webhook endpoint; the answer holds its signing secret, shown once."""
    endpoint, secret = await service.create_endpoint(
        url=data.url, events=list(data.events), description=data.description, settings=_settings()
    )
    out = WebhookOut.of(endpoint).model_dump()
    return WebhookCreatedOut.model_validate({**out, "secret": secret}), 201


@bp.get("/webhooks")
@links(
    200,
    GetWebhook=("get_admin_get_webhook", "endpoint_id=$response.body#/items/0/id"),
    WebhookDeliveries=(
        "get_admin_list_webhook_deliveries",
        "endpoint_id=$response.body#/items/0/id",
    ),
)
@admin_required
@validate_querystring(PageQuery)
@validate_response(Page[WebhookOut])
async def list_webhooks(query_args: PageQuery) -> Page[WebhookOut]:
    """The webhook endpoints, newest first (their secrets are never shown again)."""
    return (await service.list_endpoints(query=query_args)).map(WebhookOut.of)


@bp.get("/webhooks/<webhook:endpoint_id>")
@admin_required
@validate_response(WebhookOut)
async def get_webhook(endpoint_id: PydanticObjectId) -> WebhookOut:
    """One webhook endpoint."""
    return WebhookOut.of(await service.get_endpoint(endpoint_id=endpoint_id))


@bp.patch("/webhooks/<webhook:endpoint_id>")
@problems(422)
@admin_required
@validate_request(WebhookUpdate)
@validate_response(WebhookOut)
async def update_webhook(endpoint_id: PydanticObjectId, data: WebhookUpdate) -> WebhookOut:
    """Change an endpoint's URL, events, description, or enable it again."""
    endpoint = await service.update_endpoint(
        endpoint_id=endpoint_id, changes=data.changes(), settings=_settings()
    )
    return WebhookOut.of(endpoint)


@bp.delete("/webhooks/<webhook:endpoint_id>")
@no_content
@admin_required
async def delete_webhook(endpoint_id: PydanticObjectId) -> tuple[str, int]:
    """Remove an endpoint and its delivery log."""
    await service.delete_endpoint(endpoint_id=endpoint_id)
    return "", 204


@bp.post("/webhooks/<webhook:endpoint_id>/rotate-secret")
@admin_required
@validate_request(RotateSecretIn)
@validate_response(WebhookCreatedOut)
async def rotate_webhook_secret(
    endpoint_id: PydanticObjectId, data: RotateSecretIn
) -> WebhookCreatedOut:
    """A new signing secret (shown once); the old one keeps signing for `overlap_seconds`."""
    endpoint, secret = await service.rotate_secret(
        endpoint_id=endpoint_id, overlap_seconds=data.overlap_seconds, settings=_settings()
    )
    return WebhookCreatedOut.model_validate(
        {**WebhookOut.of(endpoint).model_dump(), "secret": secret}
    )


@bp.get("/webhooks/<webhook:endpoint_id>/deliveries")
@links(
    200,
    RedeliverWebhook=("post_admin_redeliver_webhook", "delivery_id=$response.body#/items/0/id"),
)
@admin_required
@validate_querystring(DeliveryQuery)
@validate_response(Page[DeliveryOut])
async def list_webhook_deliveries(
    endpoint_id: PydanticObjectId, query_args: DeliveryQuery
) -> Page[DeliveryOut]:
    """An endpoint's delivery log, newest first: attempts, response codes, next try."""
    page = await service.list_deliveries(
        endpoint_id=endpoint_id, query=query_args, status=query_args.status
    )
    return page.map(DeliveryOut.of)


@bp.post("/webhook-deliveries/<delivery:delivery_id>/redeliver")
@problems(409)
@admin_required
@validate_response(DeliveryOut)
async def redeliver_webhook(delivery_id: PydanticObjectId) -> DeliveryOut:
    """Send a delivered or dead-lettered event again (same `webhook-id`)."""
    return DeliveryOut.of(await service.redeliver(delivery_id=delivery_id))
