"""The email outbox, for support: list it and requeue a row."""

from typing import Literal

from beanie import PydanticObjectId
from pydantic import Field
from quart_schema import validate_querystring, validate_response

from app.admin import bp
from app.core.openapi import links, problems
from app.core.pagination import Page, PageQuery
from app.core.schemas import ObjectIdStr, OutModel, UTCDateTime
from app.core.security import admin_required
from app.email import service


class EmailQuery(PageQuery):
    to: str | None = Field(default=None, max_length=320)
    kind: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="`verify_email`, `password_reset`, `order_status`, `low_stock`, "
        "`refund_failed`, `payment_dispute`, ...",
    )
    status: Literal["pending", "sent", "failed"] | None = Field(
        default=None, description="pending includes rows a sender is delivering right now"
    )


class EmailOut(OutModel):
    id: ObjectIdStr
    to: str
    kind: str
    subject: str
    text: str
    html: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: UTCDateTime
    last_error: str | None
    created_at: UTCDateTime
    sent_at: UTCDateTime | None


def _out(email) -> EmailOut:
    return EmailOut.model_validate(
        {
            **email.model_dump(),
            "id": str(email.id),
            # A row being delivered is still pending to the outside (API.md's three states).
            "status": "pending" if email.status == "sending" else email.status,
            # Support needs to see what was sent, not the live verify/reset tokens in it.
            "text": service.redact_tokens(email.text),
            "html": service.redact_tokens(email.html) if email.html else None,
        }
    )


@bp.get("/emails")
@links(200, ResendEmail=("post_admin_resend_email", "email_id=$response.body#/items/0/id"))
@admin_required
@validate_querystring(EmailQuery)
@validate_response(Page[EmailOut])
async def list_emails(query_args: EmailQuery) -> Page[EmailOut]:
    """List the email outbox."""
    page = await service.list_emails(
        query=query_args, to=query_args.to, kind=query_args.kind, status=query_args.status
    )
    return page.map(_out)


@bp.post("/emails/<email:email_id>/resend")
@admin_required
@problems(409)
@validate_response(EmailOut)
async def resend_email(email_id: PydanticObjectId) -> EmailOut:
    """Put a failed or sent email back in the queue."""
    return _out(await service.resend(email_id=email_id))
