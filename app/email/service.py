"""Queue emails (inside the caller's transaction) and manage the outbox."""

from __future__ import annotations

import re
from datetime import datetime

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument

from app.core import db
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.email import hooks
from app.email.models import OutboxEmail
from app.email.templates import RenderedEmail, render
from app.errors import Conflict, ErrorCode, NotFound


async def enqueue(*, to: str, kind: str, context: dict, session=None) -> OutboxEmail:
    """Render `kind` and write it to the outbox; pass `session` to join a transaction.

    Nothing is sent here: the sender worker delivers it after the write commits.
    """
    row = _outbox_row(to, kind, render(kind, context), utcnow())
    await OutboxEmail.get_pymongo_collection().insert_one(row, session=session)
    return OutboxEmail.model_validate(row)


async def enqueue_many(*, recipients: list[str], kind: str, context: dict, session=None) -> int:
    """The same email to several people (one row each), in one write."""
    if not recipients:
        return 0
    rendered = render(kind, context)
    now = utcnow()
    rows = [_outbox_row(to, kind, rendered, now) for to in recipients]
    await OutboxEmail.get_pymongo_collection().insert_many(rows, session=session)
    return len(rows)


def _outbox_row(to: str, kind: str, rendered: RenderedEmail, now: datetime) -> dict:
    """A new outbox row as `OutboxEmail` stores it (its fields and defaults), written with the
    driver: a Beanie insert builds, validates and encodes a model for the same dict, which
    was a large share of an order's status email (two per checkout flow)."""
    return {
        "_id": ObjectId(),
        "to": to,
        "kind": kind,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
    }


async def list_emails(
    *, query: PageQuery, to: str | None = None, kind: str | None = None, status: str | None = None
) -> Page:
    filters: dict = {}
    if to:
        filters["to"] = to.strip().lower()
    if kind:
        filters["kind"] = kind
    if status:
        filters["status"] = {"$in": ["pending", "sending"]} if status == "pending" else status
    find = OutboxEmail.find(filters)
    total = await find.count()
    items = (
        await find.sort(-OutboxEmail.created_at, -OutboxEmail.id)  # type: ignore[operator]  # Beanie
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build(items, query=query, total=total)


_TOKEN_IN_LINK = re.compile(r"(token=)[A-Za-z0-9_\-.~%]+")


def redact_tokens(text: str) -> str:
    """Hide the single-use tokens in verify/reset links (for admin views of the outbox)."""
    return _TOKEN_IN_LINK.sub(r"\1[redacted]", text)


async def resend(*, email_id: PydanticObjectId) -> OutboxEmail:
    """Put a failed or sent email back in the queue. A kind with a refresher (`hooks`: account
    verification and reset links) is rendered anew with fresh content in the same
    transaction, instead of replaying a link that may have expired.

    Raises NotFound for an unknown id, Conflict while it is still queued or being sent, and
    whatever the refresher raises when the email no longer applies (nothing is changed then).
    """
    row_id = email_id
    current = await OutboxEmail.get(row_id)
    if current is None:
        raise NotFound("No such email.")
    refresh = hooks.refresher(current.kind)
    collection = OutboxEmail.get_pymongo_collection()

    async def work(session) -> OutboxEmail:
        updated = await collection.find_one_and_update(
            {"_id": row_id, "status": {"$in": ["failed", "sent"]}},
            {
                "$set": {
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": utcnow(),
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "last_error": None,
                }
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            raise Conflict("The email is already queued.", code=ErrorCode.CONFLICT)
        if refresh is not None:
            context = await refresh(to=updated["to"], kind=updated["kind"], session=session)
            rendered = render(updated["kind"], context)
            updated = await collection.find_one_and_update(
                {"_id": row_id},
                {
                    "$set": {
                        "subject": rendered.subject,
                        "text": rendered.text,
                        "html": rendered.html,
                    }
                },
                return_document=ReturnDocument.AFTER,
                session=session,
            )
        return OutboxEmail.model_validate(updated)

    if refresh is None:
        return await work(None)
    return await db.run_in_transaction(work)
