"""Failed-login lockout: counted atomically across workers, per email (known or not)."""

from __future__ import annotations

import logging
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.auth.common import settings
from app.auth.models import LoginThrottle
from app.core.clock import as_utc, utcnow
from app.core.security import token_digest
from app.errors import ErrorCode, RateLimited

log = logging.getLogger("app.auth")


async def check_lockout(email: str) -> None:
    row = await LoginThrottle.find_one(LoginThrottle.email_digest == token_digest(email))
    if row is None or row.locked_until is None:
        return
    remaining = (as_utc(row.locked_until) - utcnow()).total_seconds()
    if remaining > 0:
        raise RateLimited(
            retry_after=int(remaining) + 1,
            detail="Too many failed sign-in attempts; try again later.",
            code=ErrorCode.ACCOUNT_LOCKED,
        )


async def record_login_failure(email: str) -> None:
    """Count a failure (atomically, across workers); lock the email at the threshold.

    Kept for unknown emails too, so a lockout says nothing about whether an account exists.
    """
    config = settings()
    collection = LoginThrottle.get_pymongo_collection()
    digest = token_digest(email)
    now = utcnow()
    window = timedelta(seconds=config.LOGIN_LOCKOUT_SECONDS)
    # A lapsed window or lock starts afresh (the TTL monitor may not have removed it yet).
    await collection.delete_one({"email_digest": digest, "expires_at": {"$lte": now}})
    for attempt in range(2):
        try:
            row = await collection.find_one_and_update(
                {"email_digest": digest},
                {
                    "$inc": {"failures": 1},
                    "$setOnInsert": {"expires_at": now + window, "locked_until": None},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            break
        except DuplicateKeyError:  # two first failures raced on the upsert
            if attempt:
                raise
    if row["failures"] >= config.LOGIN_LOCKOUT_ATTEMPTS and row.get("locked_until") is None:
        locked_until = now + window
        await collection.update_one(
            {"email_digest": digest, "locked_until": None},
            {"$set": {"locked_until": locked_until, "expires_at": locked_until}},
        )
        log.warning(
            "login locked for %ss after %s failures",
            config.LOGIN_LOCKOUT_SECONDS,
            row["failures"],
        )


async def clear_login_failures(email: str, session=None) -> None:
    await LoginThrottle.get_pymongo_collection().delete_one(
        {"email_digest": token_digest(email)}, session=session
    )
