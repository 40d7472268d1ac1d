"""Proving and recovering an account: email verification, password reset and change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ReturnDocument
from quart import Quart, current_app

from app.auth import lockout
from app.auth.common import (
    bad_account_token,
    check_strength,
    consume_account_token,
    in_transaction,
)
from app.auth.models import AccountToken, User
from app.auth.requests import request_link
from app.auth.sessions import revoke_user_sessions
from app.core.clock import utcnow
from app.core.security import hash_password, token_digest, verify_password
from app.errors import ErrorCode, Invalid

# Called in the verification's transaction with the user just verified and the session:
# the orders register one that gives the guest orders of that email address to the account.
EmailVerifiedHandler = Callable[[User, Any], Awaitable[None]]


def on_email_verified(app: Quart, handler: EmailVerifiedHandler) -> None:
    """Register `handler` (create_app does; auth imports no other domain)."""
    app.extensions.setdefault("email_verified_handlers", []).append(handler)


async def verify_email(*, token: str, session=None) -> User:
    """Mark the token's user as verified, and run the registered handlers in the same
    transaction (guest orders join the account). Raises Invalid(invalid_token)."""

    async def work(s) -> User:
        row = await consume_account_token(token, purpose="verify_email", session=s)
        updated = await User.get_pymongo_collection().find_one_and_update(
            {"_id": row.user_id},
            {"$set": {"email_verified": True, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
            session=s,
        )
        if updated is None:
            raise bad_account_token()
        user = User.model_validate(updated)
        for handler in current_app.extensions.get("email_verified_handlers", []):
            await handler(user, s)
        return user

    return await in_transaction(work, session)


async def forgot_password(*, email: str, session=None) -> None:
    """Ask for a reset link to `email`: stored and answered later by the email worker, which
    sends one when the email belongs to an active account. The same work for any email."""
    await request_link(purpose="password_reset", email=email, session=session)


async def resend_verification(*, email: str, session=None) -> None:
    """Ask for a fresh verification link to `email`: stored and answered later by the email
    worker, which sends one to an active, unverified account (earlier links stop working).
    The same work for any email."""
    await request_link(purpose="verify_email", email=email, session=session)


async def reset_password(*, token: str, password: str, session=None) -> User:
    """Set a new password with a reset token; every session of the user is revoked.

    Raises Invalid(invalid_token) for an unknown, used or expired token, Invalid(weak_password)
    when the password contains the email.
    """
    digest = token_digest(token)
    # Look before hashing, so random tokens cost no bcrypt time; the spend below is atomic.
    pending = await AccountToken.find_one(
        {
            "token_hash": digest,
            "purpose": "password_reset",
            "used_at": None,
            "expires_at": {"$gt": utcnow()},
        },
        session=session,
    )
    user = await User.get(pending.user_id, session=session) if pending else None
    if user is None or not user.is_active:
        raise bad_account_token()
    check_strength(password, email=user.email)
    password_hash = await hash_password(password)

    async def work(s) -> User:
        row = await consume_account_token(token, purpose="password_reset", session=s)
        now = utcnow()
        await User.get_pymongo_collection().update_one(
            {"_id": row.user_id},
            {
                "$set": {
                    "password_hash": password_hash,
                    "tokens_valid_after": now,
                    # The link reached the inbox: the address is proven.
                    "email_verified": True,
                    "updated_at": now,
                }
            },
            session=s,
        )
        await AccountToken.get_pymongo_collection().update_many(
            {"user_id": row.user_id, "purpose": "password_reset", "used_at": None},
            {"$set": {"used_at": now}},
            session=s,
        )
        await revoke_user_sessions(row.user_id, reason="password_reset", session=s)
        await lockout.clear_account(user.email, session=s)
        return user

    return await in_transaction(work, session)


async def change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    current_session_id: str | None = None,
    client_address: str | None = None,
) -> None:
    """Change the password; every other session of the user is revoked.

    Raises Invalid(invalid_credentials) for a wrong current password (counted like a failed
    sign-in), Invalid(weak_password) for a weak or unchanged new one, RateLimited while
    `client_address` is locked out or the account is slowed down.
    """
    attempt = await lockout.begin_attempt(user.email, client_address=client_address)
    if not await verify_password(current_password, user.password_hash):
        raise Invalid("The current password is incorrect.", code=ErrorCode.INVALID_CREDENTIALS)
    await attempt.succeeded()
    if new_password == current_password:
        raise Invalid(
            "The new password must differ from the current one.", code=ErrorCode.WEAK_PASSWORD
        )
    check_strength(new_password, email=user.email)
    password_hash = await hash_password(new_password)

    async def work(s) -> None:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id},
            {"$set": {"password_hash": password_hash, "updated_at": utcnow()}},
            session=s,
        )
        await revoke_user_sessions(
            user.id, reason="password_change", keep_session_id=current_session_id, session=s
        )

    await in_transaction(work, None)
