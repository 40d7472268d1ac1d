"""User administration: list users, change role or active flag, the start-up admin."""

from __future__ import annotations

import logging
import re
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.auth import lockout
from app.auth.common import normalize_email
from app.auth.models import User
from app.auth.sessions import revoke_user_sessions
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.core.security import hash_password
from app.errors import AppError, Conflict, ErrorCode, NotFound

log = logging.getLogger("app.auth")


async def list_users(
    *, query: PageQuery, email: str | None = None, role: str | None = None
) -> Page:
    """Users, newest first; `email` matches the start of the address (index-friendly)."""
    filters: dict[str, Any] = {}
    if email:
        filters["email"] = {"$regex": "^" + re.escape(normalize_email(email))}
    if role:
        filters["role"] = role
    find = User.find(filters)
    total = await find.count()
    newest = find.sort(-User.created_at)  # type: ignore[operator]  # Beanie's field expressions
    items = await newest.skip(query.skip).limit(query.per_page).to_list()
    return Page.build(items, query=query, total=total)


async def update_user(
    *,
    actor: User,
    user_id: PydanticObjectId,
    role: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's role or active flag; deactivation ends every session at once.

    Raises NotFound, Conflict(cannot_change_self) when an admin demotes or disables themself.
    """
    target_id = user_id
    if target_id == actor.id and (role == "customer" or is_active is False):
        raise Conflict(
            "Admins cannot demote or deactivate themselves.", code=ErrorCode.CANNOT_CHANGE_SELF
        )
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = role
    if is_active is not None:
        changes["is_active"] = is_active
    if not changes:
        user = await User.get(target_id)
        if user is None:
            raise NotFound("No such user.")
        return user
    changes["updated_at"] = utcnow()
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": target_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
    )
    if updated is None:
        raise NotFound("No such user.")
    if is_active is False:
        await revoke_user_sessions(target_id, reason="account_disabled")
    return User.model_validate(updated)


async def unlock_user(*, user_id: PydanticObjectId) -> None:
    """Clear every failed-sign-in counter of a user: address locks and the account-wide
    slowdown. Raises NotFound."""
    user = await User.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    cleared = await lockout.clear_account(user.email)
    log.info("failed sign-ins of user %s cleared by an admin (%s counters)", user.id, cleared)


async def ensure_admin(*, email: str, password: str, name: str = "Administrator") -> User:
    """Create the admin when absent, or promote (and re-activate) an existing user.

    An existing user's password is left as it is: this runs at every start-up.
    """
    email = normalize_email(email)
    user = await User.find_one(User.email == email)
    if user is None:
        user = User(
            email=email,
            name=name,
            role="admin",
            email_verified=True,
            password_hash=await hash_password(password),
        )
        try:
            await user.insert()
            log.info("created admin account")
            return user
        except DuplicateKeyError:  # another worker created it meanwhile
            user = await User.find_one(User.email == email)
            if user is None:
                raise AppError("The admin account could not be created.") from None
    if user.role != "admin" or not user.is_active:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id},
            {"$set": {"role": "admin", "is_active": True, "updated_at": utcnow()}},
        )
        user.role, user.is_active = "admin", True
        log.info("promoted existing account to admin")
    return user
