"""User administration: list users, change their role or active flag."""

from __future__ import annotations

from typing import Literal

from beanie import PydanticObjectId
from pydantic import Field, StrictBool
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.auth import service
from app.auth.schemas import UserOut
from app.core.openapi import no_content, problems
from app.core.pagination import Page, PageQuery
from app.core.schemas import InModel
from app.core.security import admin_required, current_user


class UserQuery(PageQuery):
    email: str | None = Field(default=None, max_length=320, description="start of the email")
    role: Literal["customer", "admin"] | None = None


class UserUpdate(InModel):
    role: Literal["customer", "admin"] | None = None
    is_active: StrictBool | None = None


@bp.get("/users")
@admin_required
@validate_querystring(UserQuery)
@validate_response(Page[UserOut])
async def list_users(query_args: UserQuery) -> Page[UserOut]:
    """List users, newest first (filter by email prefix or role)."""
    page = await service.list_users(query=query_args, email=query_args.email, role=query_args.role)
    return page.map(UserOut.of)


@bp.patch("/users/<user:user_id>")
@problems(409)
@admin_required
@validate_request(UserUpdate)
@validate_response(UserOut)
async def update_user(user_id: PydanticObjectId, data: UserUpdate) -> UserOut:
    """Change a user's role or active flag (deactivation signs them out everywhere)."""
    user = await service.update_user(
        actor=current_user(), user_id=user_id, role=data.role, is_active=data.is_active
    )
    return UserOut.of(user)


@bp.post("/users/<user:user_id>/unlock")
@no_content
@admin_required
async def unlock_user(user_id: PydanticObjectId) -> tuple[str, int]:
    """Clear a user's failed sign-ins: every address lock and the account-wide slowdown."""
    await service.unlock_user(user_id=user_id)
    return "", 204
