"""Profile and address book of one user (embedded in the User document).

Address changes are read-modify-write of the embedded list, guarded by `addresses_version`
(optimistic concurrency): two concurrent edits never lose one another, and exactly one
address is the default whenever there is any.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.auth.models import Address, User
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.email import service as email
from app.errors import AppError, Conflict, ErrorCode, NotFound

log = logging.getLogger("app.users")

MAX_ADDRESSES = 20
_ATTEMPTS = 5


async def get_profile(*, user_id: PydanticObjectId, session=None) -> User:
    """Raises NotFound when the user is gone."""
    user = await User.get(user_id, session=session)
    if user is None:
        raise NotFound("No such user.")
    return user


async def display_names(*, user_ids, session=None) -> dict[PydanticObjectId, str]:
    """The names of many users in one `$in` query (list pages: no N+1), and nothing else
    about them. Users that no longer exist are simply absent."""
    wanted = list({PydanticObjectId(i) for i in user_ids})
    if not wanted:
        return {}
    cursor = User.get_pymongo_collection().find(
        {"_id": {"$in": wanted}}, {"name": 1}, session=session
    )
    return {row["_id"]: row.get("name") or "" for row in await cursor.to_list()}


async def update_profile(
    *, user_id: PydanticObjectId, changes: dict[str, Any], session=None
) -> User:
    """Apply `changes` (only `name` and `phone`; `phone: None` clears it). Raises NotFound."""
    allowed = {key: value for key, value in changes.items() if key in ("name", "phone")}
    if allowed.get("name", "") is None:
        allowed.pop("name")  # the name is required: null leaves it as it is
    if not allowed:
        return await get_profile(user_id=user_id, session=session)
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user_id},
        {"$set": {**allowed, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if updated is None:
        raise NotFound("No such user.")
    return User.model_validate(updated)


async def list_addresses(*, user_id: PydanticObjectId, query: PageQuery, session=None) -> Page:
    user = await get_profile(user_id=user_id, session=session)
    items = user.addresses[query.skip : query.skip + query.per_page]
    return Page.build(items, query=query, total=len(user.addresses))


def _normalise_defaults(addresses: list[Address], preferred: PydanticObjectId | None) -> None:
    """Exactly one default: `preferred` when given, else the current one, else the first."""
    if not addresses:
        return
    if preferred is None:
        current = [a.id for a in addresses if a.is_default]
        preferred = current[0] if current else addresses[0].id
    for address in addresses:
        address.is_default = address.id == preferred


async def _edit_addresses(
    user_id: PydanticObjectId, edit: Callable[[list[Address]], Any], session=None
) -> Any:
    """Run `edit` on a fresh copy of the list and save it unless it changed meanwhile."""
    collection = User.get_pymongo_collection()
    for _ in range(_ATTEMPTS):
        user = await get_profile(user_id=user_id, session=session)
        version = user.addresses_version
        addresses = [a.model_copy() for a in user.addresses]
        result = edit(addresses)
        saved = await collection.update_one(
            # A missing field (older documents) matches `None`, i.e. version 0.
            {"_id": user_id, "addresses_version": version if version else {"$in": [0, None]}},
            {
                "$set": {
                    "addresses": [a.model_dump() for a in addresses],
                    "updated_at": utcnow(),
                },
                "$inc": {"addresses_version": 1},
            },
            session=session,
        )
        if saved.matched_count:
            return result
    raise AppError("The address book is busy; try again.", status=409, code=ErrorCode.CONFLICT)


async def add_address(
    *, user_id: PydanticObjectId, fields: dict[str, Any], session=None
) -> Address:
    """Add an address; the first one (or one sent with `is_default`) becomes the default.

    Raises Conflict when the address book is full, NotFound when the user is gone.
    """

    def edit(addresses: list[Address]) -> Address:
        if len(addresses) >= MAX_ADDRESSES:
            raise Conflict(f"At most {MAX_ADDRESSES} addresses can be saved.")
        address = Address(**fields)
        addresses.append(address)
        _normalise_defaults(addresses, address.id if address.is_default else None)
        return address

    return await _edit_addresses(user_id, edit, session)


def _find(addresses: list[Address], address_id: PydanticObjectId) -> Address:
    for address in addresses:
        if address.id == address_id:
            return address
    raise NotFound("No such address.")


async def update_address(
    *,
    user_id: PydanticObjectId,
    address_id: PydanticObjectId,
    changes: dict[str, Any],
    session=None,
) -> Address:
    """Change an address. `is_default: true` makes it the default; `false` on the default
    passes that to another address (an only address stays the default). Raises NotFound."""

    def edit(addresses: list[Address]) -> Address:
        address = _find(addresses, address_id)
        make_default = changes.get("is_default")
        for key, value in changes.items():
            if key == "is_default":
                continue
            if value is None and key in ("line1", "city", "postal_code", "country"):
                continue  # required fields: null leaves them as they are
            setattr(address, key, value)
        if make_default is True:
            _normalise_defaults(addresses, address.id)
        elif make_default is False and address.is_default:
            others = [a.id for a in addresses if a.id != address.id]
            _normalise_defaults(addresses, others[0] if others else address.id)
        return address

    return await _edit_addresses(user_id, edit, session)


async def delete_address(
    *, user_id: PydanticObjectId, address_id: PydanticObjectId, session=None
) -> None:
    """Remove an address; when it was the default, the first remaining one takes over.
    Raises NotFound."""

    def edit(addresses: list[Address]) -> None:
        address = _find(addresses, address_id)
        addresses.remove(address)
        _normalise_defaults(addresses, None)

    await _edit_addresses(user_id, edit, session)


async def active_admin_emails(*, session=None) -> list[str]:
    """The addresses of every active admin (low-stock alerts and other notices to staff).
    Served by the users' `(role, created_at)` index."""
    cursor = User.get_pymongo_collection().find(
        {"role": "admin", "is_active": True}, {"email": 1, "_id": 0}, session=session
    )
    return [row["email"] for row in await cursor.to_list()]


async def email_admins(*, kind: str, context: dict, about: str, session=None) -> int:
    """One `kind` email to every active admin (an alert to staff), in the caller's
    transaction. With no active admin nothing is sent and `about` is logged. Returns how many
    were queued."""
    recipients = await active_admin_emails(session=session)
    if not recipients:
        log.warning("%s, and there is no active admin to tell", about)
        return 0
    return await email.enqueue_many(
        recipients=recipients, kind=kind, context=context, session=session
    )
