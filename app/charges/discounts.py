"""Discount codes: admin CRUD, the checks a code must pass, and its usage counter.

Uses are counted with guarded conditional updates, so they hold even without transactions:
a code with a limit keeps `uses_left`, and a use is `$inc: -1` on the condition `uses_left >
0`; a per-customer limit is the same on that customer's `DiscountUse.uses`. Checkout counts
the use inside its transaction (a refused checkout counts nothing); a cancelled or fully
refunded order gives its use back once (`release`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from beanie import PydanticObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.catalog.categories import find_category
from app.charges.models import Discount, DiscountUse
from app.charges.schemas import DiscountIn, DiscountOut, check_value
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.pricing.engine import DiscountInput

Reason = Literal[
    "unknown",
    "not_started",
    "expired",
    "used_up",
    "customer_limit",
    "min_subtotal",
    "no_eligible_lines",
]
REASONS: dict[str, str] = {
    "unknown": "No such discount code.",
    "not_started": "This code is not valid yet.",
    "expired": "This code has expired.",
    "used_up": "This code has been used up.",
    "customer_limit": "You have used this code as often as it allows.",
    "min_subtotal": "The cart's subtotal is below this code's minimum.",
    "no_eligible_lines": "This code applies to nothing in the cart.",
}


class DiscountInvalid(Invalid):
    code = ErrorCode.DISCOUNT_INVALID

    def __init__(self, reason: str, code_text: str | None = None) -> None:
        fields: dict[str, Any] = {"reason": reason}
        if code_text:
            fields["discount_code"] = code_text
        super().__init__(
            REASONS.get(reason, "This code cannot be used."),
            errors=[{"loc": ["code"], "msg": REASONS.get(reason, reason)}],
            **fields,
        )


def code_key(code: str) -> str:
    return code.strip().casefold()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


# -- admin ------------------------------------------------------------------------------------


def out(discount: Discount) -> DiscountOut:
    return DiscountOut(
        id=str(discount.id),
        code=discount.code,
        type=discount.type,
        value=None if discount.type == "free_shipping" else discount.value,
        min_subtotal=discount.min_subtotal,
        starts_at=_aware(discount.starts_at),
        ends_at=_aware(discount.ends_at),
        usage_limit=discount.usage_limit,
        usage_limit_per_customer=discount.usage_limit_per_customer,
        product_ids=[str(p) for p in discount.product_ids],
        category=str(discount.category_id) if discount.category_id else None,
        active=discount.active,
        times_used=discount.times_used,
        created_at=discount.created_at,
        updated_at=discount.updated_at,
    )


def _code_taken() -> Conflict:
    return Conflict("A discount with this code exists already.", code=ErrorCode.DISCOUNT_CODE_TAKEN)


async def _category_id(reference: str | None) -> PydanticObjectId | None:
    if reference is None:
        return None
    category = await find_category(reference)
    if category is None:
        raise Invalid(
            "No such category.", errors=[{"loc": ["category"], "msg": "no such category"}]
        )
    return category.id


def _check_terms(
    kind: str, value: int | None, starts_at: datetime | None, ends_at: datetime | None
) -> None:
    try:
        check_value(kind, value)
    except ValueError as error:
        raise Invalid(str(error), errors=[{"loc": ["value"], "msg": str(error)}]) from None
    starts, ends = _aware(starts_at), _aware(ends_at)
    if starts and ends and ends <= starts:
        raise Invalid(
            "ends_at must be after starts_at.",
            errors=[{"loc": ["ends_at"], "msg": "must be after starts_at"}],
        )


async def create_discount(*, data: DiscountIn) -> Discount:
    """Create a code. Raises Conflict `discount_code_taken`, Invalid (a value that does not
    fit the type, an end before the start, unknown category)."""
    _check_terms(data.type, data.value, data.starts_at, data.ends_at)
    discount = Discount(
        code=data.code,
        code_key=code_key(data.code),
        type=data.type,
        value=data.value or 0,
        min_subtotal=data.min_subtotal,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        usage_limit=data.usage_limit,
        usage_limit_per_customer=data.usage_limit_per_customer,
        product_ids=[PydanticObjectId(p) for p in data.product_ids or []],
        category_id=await _category_id(data.category),
        active=True if data.active is None else data.active,
        uses_left=data.usage_limit,
    )
    try:
        await discount.insert()
    except DuplicateKeyError:
        raise _code_taken() from None
    return discount


async def get_discount(*, discount_id: PydanticObjectId) -> Discount:
    discount = await Discount.get(discount_id)
    if discount is None:
        raise NotFound("No such discount.")
    return discount


async def update_discount(*, discount_id: PydanticObjectId, changes: dict[str, Any]) -> Discount:
    """Change a code. A new `usage_limit` moves `uses_left` by the difference, guarded on the
    limit read, so uses counted meanwhile are kept. Raises NotFound, Conflict
    `discount_code_taken`, Invalid (a value that does not fit the type, unknown category,
    an end before the start), Conflict when the code kept changing."""
    discount = await get_discount(discount_id=discount_id)
    kind = changes.get("type", discount.type)
    value = (
        changes["value"]
        if "value" in changes
        else (None if discount.type == "free_shipping" else discount.value)
    )
    if "type" in changes and changes["type"] == "free_shipping" and "value" not in changes:
        value = None
    _check_terms(
        kind,
        value,
        changes.get("starts_at", discount.starts_at),
        changes.get("ends_at", discount.ends_at),
    )
    update: dict[str, Any] = {"value": value or 0, "updated_at": utcnow()}
    for name, given in changes.items():
        if name == "code":
            update["code"], update["code_key"] = given, code_key(given)
        elif name == "product_ids":
            update["product_ids"] = [PydanticObjectId(p) for p in given or []]
        elif name == "category":
            update["category_id"] = await _category_id(given)
        elif name not in ("value", "usage_limit"):
            update[name] = given
    guard: dict[str, Any] = {"_id": discount.id}
    inc: dict[str, Any] = {}
    if "usage_limit" in changes and changes["usage_limit"] != discount.usage_limit:
        guard["usage_limit"] = discount.usage_limit
        new_limit = changes["usage_limit"]
        update["usage_limit"] = new_limit
        if new_limit is None:
            update["uses_left"] = None
        elif discount.usage_limit is None:
            # From unlimited: what is left is the new limit less the uses so far, read under
            # the guard of `times_used` (a use meanwhile fails the guard: try again).
            guard["times_used"] = discount.times_used
            update["uses_left"] = max(0, new_limit - discount.times_used)
        else:
            # Uses left may go below 0 here (a limit under the uses so far): no more uses.
            inc["uses_left"] = new_limit - discount.usage_limit
    try:
        done = await Discount.get_pymongo_collection().update_one(
            guard, {"$set": update, **({"$inc": inc} if inc else {})}
        )
    except DuplicateKeyError:
        raise _code_taken() from None
    if not done.matched_count:
        raise Conflict("The code was used while it was being changed; try again.")
    return await get_discount(discount_id=discount_id)


async def delete_discount(*, discount_id: PydanticObjectId) -> None:
    """Delete a code (placed orders keep their copy of it)."""
    deleted = await Discount.get_pymongo_collection().delete_one({"_id": discount_id})
    if not deleted.deleted_count:
        raise NotFound("No such discount.")


async def list_discounts(*, query: PageQuery) -> Page[DiscountOut]:
    total = await Discount.find({}).count()
    found = (
        await Discount.find({})
        .sort([("created_at", ASCENDING), ("_id", ASCENDING)])  # type: ignore[list-item]
        .skip(query.skip)
        .limit(query.per_page)
        .to_list()
    )
    return Page.build([out(d) for d in found], query=query, total=total)


# -- shopping ---------------------------------------------------------------------------------


async def find_code(code: str, *, session: Any = None) -> Discount | None:
    return await Discount.find_one({"code_key": code_key(code), "active": True}, session=session)


async def usable(
    code: str, *, customer: str | None, now: datetime | None = None, session: Any = None
) -> Discount:
    """The code if it can be used now by `customer` (the cart's own checks, minimum and
    eligible lines, are the pricing function's). Raises DiscountInvalid with its `reason`."""
    discount = await find_code(code, session=session)
    if discount is None:
        raise DiscountInvalid("unknown", code)
    now = now or utcnow()
    starts, ends = _aware(discount.starts_at), _aware(discount.ends_at)
    if starts is not None and now < starts:
        raise DiscountInvalid("not_started", discount.code)
    if ends is not None and now >= ends:
        raise DiscountInvalid("expired", discount.code)
    if discount.uses_left is not None and discount.uses_left <= 0:
        raise DiscountInvalid("used_up", discount.code)
    if customer is not None and discount.usage_limit_per_customer is not None:
        use = await DiscountUse.find_one(
            {"discount_id": discount.id, "customer": customer}, session=session
        )
        if use is not None and use.uses >= discount.usage_limit_per_customer:
            raise DiscountInvalid("customer_limit", discount.code)
    return discount


def terms(discount: Discount) -> DiscountInput:
    """The code as the pricing function takes it."""
    return DiscountInput(
        code=discount.code,
        type=discount.type,
        value=discount.value,
        min_subtotal=discount.min_subtotal,
        product_ids=frozenset(str(p) for p in discount.product_ids),
        category_ids=frozenset({str(discount.category_id)} if discount.category_id else ()),
    )


async def redeem(
    discount: Discount, *, order_id: PydanticObjectId, customer: str, session: Any = None
) -> None:
    """Count one use of `discount` by `customer` for `order_id`, guarded: raises
    DiscountInvalid `used_up` or `customer_limit` when none is left (nothing counted; without
    a transaction the global use already taken is given back)."""
    collection = Discount.get_pymongo_collection()
    if discount.usage_limit is not None:
        guard: dict[str, Any] = {"_id": discount.id, "active": True, "uses_left": {"$gt": 0}}
        inc = {"times_used": 1, "uses_left": -1}
    else:
        guard = {"_id": discount.id, "active": True, "uses_left": None}
        inc = {"times_used": 1}
    taken = await collection.update_one(guard, {"$inc": inc}, session=session)
    if not taken.matched_count:
        raise DiscountInvalid("used_up", discount.code)
    limit = discount.usage_limit_per_customer
    if limit is None:
        return
    try:
        await _count_customer_use(discount, customer, order_id, limit, session=session)
    except BaseException:
        if session is None:
            back = {k: -v for k, v in inc.items()}
            await collection.update_one({"_id": discount.id}, {"$inc": back})
        raise


async def _count_customer_use(
    discount: Discount, customer: str, order_id: PydanticObjectId, limit: int, *, session: Any
) -> None:
    uses = DiscountUse.get_pymongo_collection()
    key = {"discount_id": discount.id, "customer": customer}
    try:
        await uses.update_one(
            key, {"$setOnInsert": {"uses": 0, "orders": []}}, upsert=True, session=session
        )
    except DuplicateKeyError:
        pass  # a concurrent first use created it: count on that one
    counted = await uses.update_one(
        {**key, "uses": {"$lt": limit}},
        {"$inc": {"uses": 1}, "$push": {"orders": order_id}},
        session=session,
    )
    if not counted.matched_count:
        raise DiscountInvalid("customer_limit", discount.code)


async def release(
    *,
    discount_id: PydanticObjectId,
    customer: str | None,
    order_id: PydanticObjectId,
    session: Any = None,
) -> None:
    """Give back one use taken by `order_id` (the caller makes sure it happens once)."""
    collection = Discount.get_pymongo_collection()
    limited = await collection.update_one(
        {"_id": discount_id, "uses_left": {"$ne": None}},
        {"$inc": {"times_used": -1, "uses_left": 1}},
        session=session,
    )
    if not limited.matched_count:
        await collection.update_one(
            {"_id": discount_id}, {"$inc": {"times_used": -1}}, session=session
        )
    if customer is not None:
        await DiscountUse.get_pymongo_collection().update_one(
            {"discount_id": discount_id, "customer": customer, "orders": order_id},
            {"$inc": {"uses": -1}, "$pull": {"orders": order_id}},
            session=session,
        )
