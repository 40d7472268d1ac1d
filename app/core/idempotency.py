"""`Idempotency-Key`: the same key from the same user within 24 h returns the first response
and does nothing twice.

A record is claimed (unique index on user + key) before the work runs and holds the
response once it is done. A concurrent request with the same key waits for the winner's
response; a request with the same key and another body is refused. A failed attempt (any
error) releases the key so the client can retry with it. A record whose runner died is
taken over after its lease; work that must never happen twice (checkout) carries its own
unique guard as well (the order stores its key under a unique index).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Literal, ParamSpec

from beanie import Document, PydanticObjectId
from bson import ObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError
from quart import g, request
from werkzeug.datastructures import Headers

from app.core.clock import as_utc, utcnow
from app.errors import Conflict, ErrorCode, Invalid

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=60)
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
MAX_KEY_LENGTH = 255
IDEMPOTENT_ATTRIBUTE = "_shop_idempotent"


class IdempotencyRecord(Document):
    user_id: PydanticObjectId
    key: str
    fingerprint: str
    state: Literal["processing", "done"] = "processing"
    status_code: int | None = None
    body: Any = None
    locked_until: datetime
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime

    class Settings:
        name = "idempotency_keys"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("key", ASCENDING)], unique=True),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
        ]


def _as_json(value: Any) -> Any:
    """A view argument as the fingerprint reads it: a model as JSON, an id from the path as
    the text it came in (the fingerprint is the one stored before ids were typed)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, ObjectId):
        return str(value)
    return value


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the validated body."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_key(key: str) -> str:
    if not (0 < len(key) <= MAX_KEY_LENGTH) or not all(33 <= ord(c) <= 126 for c in key):
        raise Invalid(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            errors=[{"loc": ["header", HEADER], "msg": "invalid idempotency key"}],
        )
    return key


Work = Callable[[], Awaitable[tuple[Any, int]]]


async def run_once(
    *, user_id: PydanticObjectId, key: str, request_fingerprint: str, work: Work
) -> tuple[Any, int, bool]:
    """Run `work` once per (user, key): `(body, status, replayed)`.

    Raises Invalid `idempotency_key_reused` when the key came with another request, and
    Conflict `idempotency_conflict` when the first request is still running after a wait.
    """
    key = _check_key(key)
    collection = IdempotencyRecord.get_pymongo_collection()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        now = utcnow()
        # The record's document as IdempotencyRecord would store it, written directly: a
        # Beanie insert validates and encodes a model again for the same dict (twice per
        # checkout flow).
        record_id = ObjectId()
        try:
            await collection.insert_one(
                {
                    "_id": record_id,
                    "user_id": user_id,
                    "key": key,
                    "fingerprint": request_fingerprint,
                    "state": "processing",
                    "status_code": None,
                    "body": None,
                    "locked_until": now + LEASE,
                    "created_at": now,
                    "expires_at": now + TTL,
                }
            )
            break  # ours: run the work
        except DuplicateKeyError:
            pass
        existing = await collection.find_one({"user_id": user_id, "key": key})
        if existing is None:
            continue  # released (or expired) in between: try to claim it again
        if existing["fingerprint"] != request_fingerprint:
            raise Invalid(
                f"This {HEADER} was used for a different request.",
                code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            )
        if existing["state"] == "done":
            return existing["body"], existing["status_code"], True
        if as_utc(existing["locked_until"]) < now:
            # The first runner died mid-way: take over its lease (one taker wins).
            taken = await collection.find_one_and_update(
                {
                    "_id": existing["_id"],
                    "state": "processing",
                    "locked_until": existing["locked_until"],
                },
                {"$set": {"locked_until": now + LEASE}},
            )
            if taken is not None:
                record_id = taken["_id"]
                break
        if loop.time() >= deadline:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code=ErrorCode.IDEMPOTENCY_CONFLICT,
                headers={"Retry-After": "1"},
            )
        await asyncio.sleep(POLL_SECONDS)

    try:
        body, status = await work()
    except BaseException:
        # Nothing was done (errors change nothing): let the client retry with this key.
        await collection.delete_one({"_id": record_id, "state": "processing"})
        raise
    # A field marked NOT_REPLAYED (a guest's order_token, shown once) is not kept: the record
    # holds no secret in clear, and a replay answers without it.
    if isinstance(body, BaseModel):
        stored = body.model_dump(mode="json", exclude=set(getattr(body, "NOT_REPLAYED", ())))
    else:
        stored = body
    await collection.update_one(
        {"_id": record_id},
        {"$set": {"state": "done", "status_code": status, "body": stored}},
    )
    # The first answer as the work gave it (a response model is not validated again); a
    # replay gives the stored JSON.
    return body, status, False


_P = ParamSpec("_P")


def idempotent(func: Callable[_P, Awaitable[Any]]) -> Callable[_P, Awaitable[Any]]:
    """Honour `Idempotency-Key` on a route that returns `(model, status)`. Put it under
    `validate_request` (the body it fingerprints is the validated one) and under an auth
    decorator (keys belong to the signed-in user, or to what the route put in
    `g.idempotency_owner`: a guest's cart)."""

    @wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return await func(*args, **kwargs)
        body = {name: _as_json(value) for name, value in kwargs.items()}

        async def work() -> Any:
            return await func(*args, **kwargs)

        result, status, replayed = await run_once(
            # A guest's keys belong to the guest cart (set by the route before this runs).
            user_id=g.get("idempotency_owner") or g.user.id,
            key=key,
            request_fingerprint=fingerprint(request.method, request.path, body),
            work=work,
        )
        # Headers, not a dict: quart-schema builds a pydantic TypeAdapter for every dict it
        # converts (about as costly as the rest of a small request's conversion).
        return result, status, Headers({"Idempotent-Replayed": "true" if replayed else "false"})

    setattr(wrapper, IDEMPOTENT_ATTRIBUTE, True)
    return wrapper
