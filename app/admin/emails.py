"""The email outbox, for support: list it and requeue a row."""

from typing import Literal

from pydantic import Field
from quart_schema import validate_querystring, validate_response

from app.admin import bp
from app.core.pagination import Page, PageQuery
from app.core.schemas import ObjectIdStr, OutModel, UTCDateTime
from app.core.security import admin_required
from app.email import service


class EmailQuery(PageQuery):
    to: str | None = Field(default=None, max_length=320)
    kind: str | None = Field(default=None, max_length=64)
    status: Literal["pending", "sending", "sent", "failed"] | None = None


class EmailOut(OutModel):
    id: ObjectIdStr
    to: str
    kind: str
    subject: str
    text: str
    html: str | None
    status: str
    attempts: int
    next_attempt_at: UTCDateTime
    last_error: str | None
    created_at: UTCDateTime
    sent_at: UTCDateTime | None


def _out(email) -> EmailOut:
    return EmailOut.model_validate({**email.model_dump(), "id": str(email.id)})


@bp.get("/emails")
@admin_required
@validate_querystring(EmailQuery)
@validate_response(Page[EmailOut])
async def list_emails(query_args: EmailQuery) -> Page[EmailOut]:
    """List the email outbox."""
    page = await service.list_emails(
        query=query_args, to=query_args.to, kind=query_args.kind, status=query_args.status
    )
    return page.map(_out)


@bp.post("/emails/<email_id>/resend")
@admin_required
@validate_response(EmailOut)
async def resend_email(email_id: str) -> EmailOut:
    """Put a failed or sent email back in the queue."""
    return _out(await service.resend(email_id=email_id))
