"""Links asked for by email address (forgot password, resend verification), answered without
looking: the request is stored and the caller gets 202 whoever the address belongs to, so
known and unknown addresses cost the same. The email worker (`process_account_requests`, run
by the sender before each round) then looks the account up and queues the link when there is
one to send: a reset link for an active account, a verification link for an active,
unverified one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TypeGuard

from app.auth.common import issue_account_link, normalize_email, send_account_email
from app.auth.models import AccountEmailRequest, AccountTokenPurpose, User
from app.core import db
from app.core.clock import as_utc, utcnow
from app.errors import Conflict, ErrorCode

log = logging.getLogger("app.auth")

# A request no worker got to within this long is dropped unanswered.
REQUEST_LIFETIME = timedelta(days=1)


async def request_link(*, purpose: AccountTokenPurpose, email: str, session=None) -> None:
    """Store a request for a `purpose` link to `email`; the same single insert for any email."""
    now = utcnow()
    await AccountEmailRequest(
        purpose=purpose,
        email=normalize_email(email),
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    ).insert(session=session)


def _wanted(user: User | None, purpose: str) -> TypeGuard[User]:
    if user is None or not user.is_active:
        return False
    return purpose == "password_reset" or not user.email_verified


async def process_account_requests(limit: int = 100) -> int:
    """Answer up to `limit` stored requests, oldest first; returns how many were handled.

    Each is taken and answered in one transaction: a request is answered once (also with
    several workers) and not lost if the worker stops half-way. One that fails is logged and
    dropped, so it cannot block the ones behind it.
    """
    collection = AccountEmailRequest.get_pymongo_collection()
    handled = 0
    while handled < limit:
        oldest = await collection.find_one({}, {"_id": 1}, sort=[("created_at", 1), ("_id", 1)])
        if oldest is None:
            break

        async def answer(session, request_id=oldest["_id"]) -> None:
            row = await collection.find_one_and_delete({"_id": request_id}, session=session)
            if row is None:  # another worker took it
                return
            if as_utc(row["expires_at"]) <= utcnow():
                return
            user = await User.find_one(User.email == row["email"], session=session)
            if _wanted(user, row["purpose"]):
                await send_account_email(user, purpose=row["purpose"], session=session)

        try:
            await db.run_in_transaction(answer)
        except Exception:
            log.exception("account email request %s failed; dropped", oldest["_id"])
            await collection.delete_one({"_id": oldest["_id"]})
        handled += 1
    return handled


async def refresh_account_email(*, to: str, kind: str, session=None) -> dict:
    """The outbox refresher for account emails: a fresh link for an admin's resend.

    Raises Conflict when the email no longer applies (no such active account, or an address
    that is already verified).
    """
    user = await User.find_one(User.email == normalize_email(to), session=session)
    if not _wanted(user, kind):
        raise Conflict(
            "This email no longer applies: the account is gone, disabled or already verified.",
            code=ErrorCode.CONFLICT,
        )
    return await issue_account_link(user, purpose=kind, session=session)
