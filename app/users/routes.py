"""`/api/v1/users/me`: the signed-in user's profile, password and addresses."""

from __future__ import annotations

from beanie import PydanticObjectId
from quart import g, request
from quart_schema import validate_querystring, validate_request, validate_response

from app.auth import service as accounts
from app.auth.schemas import UserOut
from app.core.openapi import links, no_content, problems
from app.core.pagination import Page, PageQuery
from app.core.security import current_user, login_required
from app.users import bp, service
from app.users.schemas import (
    AddressIn,
    AddressOut,
    AddressUpdate,
    PasswordChangeIn,
    ProfileUpdate,
)


@bp.get("/me")
@login_required
@validate_response(UserOut)
async def get_me() -> UserOut:
    """The signed-in user."""
    return UserOut.of(current_user())


@bp.patch("/me")
@login_required
@validate_request(ProfileUpdate)
@validate_response(UserOut)
async def update_me(data: ProfileUpdate) -> UserOut:
    """Update the name or phone."""
    user = await service.update_profile(
        user_id=current_user().id, changes=data.model_dump(exclude_unset=True)
    )
    return UserOut.of(user)


@bp.post("/me/password")
@no_content
@problems(429)
@login_required
@validate_request(PasswordChangeIn)
async def change_password(data: PasswordChangeIn) -> tuple[str, int]:
    """Change the password; every other session is signed out."""
    await accounts.change_password(
        user=current_user(),
        current_password=data.current_password,
        new_password=data.new_password,
        current_session_id=g.token_claims.get("sid"),
        client_address=request.remote_addr,
    )
    return "", 204


@bp.get("/me/addresses")
@login_required
@validate_querystring(PageQuery)
@validate_response(Page[AddressOut])
async def list_addresses(query_args: PageQuery) -> Page[AddressOut]:
    """The address book."""
    page = await service.list_addresses(user_id=current_user().id, query=query_args)
    return page.map(AddressOut.of)


@bp.post("/me/addresses")
@links(
    201,
    UpdateAddress=("patch_update_address", "address_id=$response.body#/id"),
    DeleteAddress=("delete_delete_address", "address_id=$response.body#/id"),
)
@problems(409)
@login_required
@validate_request(AddressIn)
@validate_response(AddressOut, 201)
async def add_address(data: AddressIn) -> tuple[AddressOut, int]:
    """Add an address (the first one becomes the default)."""
    address = await service.add_address(user_id=current_user().id, fields=data.model_dump())
    return AddressOut.of(address), 201


@bp.patch("/me/addresses/<address:address_id>")
@login_required
@validate_request(AddressUpdate)
@validate_response(AddressOut)
async def update_address(address_id: PydanticObjectId, data: AddressUpdate) -> AddressOut:
    """Change an address or make it the default."""
    address = await service.update_address(
        user_id=current_user().id,
        address_id=address_id,
        changes=data.model_dump(exclude_unset=True),
    )
    return AddressOut.of(address)


@bp.delete("/me/addresses/<address:address_id>")
@no_content
@login_required
async def delete_address(address_id: PydanticObjectId) -> tuple[str, int]:
    """Remove an address."""
    await service.delete_address(user_id=current_user().id, address_id=address_id)
    return "", 204
