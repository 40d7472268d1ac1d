"""Accounts service: registration, login, tokens, password reset."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.auth.models import User
from app.errors import ErrorCode, Unauthenticated


async def load_user_from_claims(claims: dict[str, Any]) -> User:
    """The user loader for `core.security`: the active user a verified access token names."""
    subject = claims.get("sub", "")
    user = await User.get(PydanticObjectId(subject)) if PydanticObjectId.is_valid(subject) else None
    if user is None or not user.is_active:
        raise Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)
    return user
