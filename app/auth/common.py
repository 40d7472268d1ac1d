"""Helpers shared by the accounts use cases (registration, sessions, recovery, admin)."""

from __future__ import annotations

from datetime import timedelta

from quart import current_app

from app.auth.models import AccountToken, User
from app.auth.passwords import password_problem
from app.core import db
from app.core.clock import utcnow
from app.core.security import new_opaque_token, token_digest
from app.email import service as email_service
from app.errors import ErrorCode, Invalid, Unauthenticated
from config import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def normalize_email(email: str) -> str:
    return email.strip().lower()


def invalid_token() -> Unauthenticated:
    return Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)


async def in_transaction(work, session):
    """Join the caller's transaction, or run `work` in a new one (retrying transient errors)."""
    if session is not None:
        return await work(session)
    return await db.run_in_transaction(work)


async def send_account_email(
    user: User, *, purpose: str, ttl_seconds: int, path: str, session
) -> None:
    """Store a single-use token (hashed) and queue the email carrying it."""
    token = new_opaque_token()
    await AccountToken(
        token_hash=token_digest(token),
        purpose=purpose,
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    ).insert(session=session)
    await email_service.enqueue(
        to=user.email,
        kind=purpose,
        context={
            "name": user.name,
            "link": f"{settings().FRONTEND_URL.rstrip('/')}{path}?token={token}",
            "valid_hours": max(1, round(ttl_seconds / 3600)),
        },
        session=session,
    )


async def consume_account_token(token: str, *, purpose: str, session=None) -> AccountToken:
    """Spend a single-use token atomically. Raises Invalid(invalid_token) when it is unknown,
    spent or expired."""
    now = utcnow()
    row = await AccountToken.get_pymongo_collection().find_one_and_update(
        {
            "token_hash": token_digest(token),
            "purpose": purpose,
            "used_at": None,
            "expires_at": {"$gt": now},
        },
        {"$set": {"used_at": now}},
        session=session,
    )
    if row is None:
        raise bad_account_token()
    return AccountToken.model_validate(row)


def bad_account_token() -> Invalid:
    return Invalid("The token is invalid, used or expired.", code=ErrorCode.INVALID_TOKEN)


def check_strength(password: str, *, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise Invalid(problem, code=ErrorCode.WEAK_PASSWORD)
