"""Failed sign-ins, after OWASP's authentication guidance.

Every attempt that will reach the password check is counted *before* the check, with one
atomic `$inc` per counter, so parallel guesses cannot all slip past a limit; an attempt that
is refused is uncounted, and a success takes its own attempt back. Two counters per account
(the normalised email, known or not, so nothing tells whether an account exists):

- per account and client address: at LOGIN_LOCKOUT_ATTEMPTS that address is locked out of that
  account for LOGIN_LOCKOUT_SECONDS (429 `account_locked`). A stranger elsewhere therefore
  cannot lock the owner out of their usual address.
- per account across every address: past LOGIN_ACCOUNT_ATTEMPTS (within a window that slides
  while failures go on), attempts are slowed to one per LOGIN_SLOWDOWN_SECONDS for everyone
  (429 `rate_limited` with a short Retry-After): a distributed guesser is slowed, the owner is
  never locked out.

Admins clear every counter of an account (`clear_account`); a password reset does too.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.auth.common import settings
from app.auth.models import LoginCounter
from app.core.clock import as_utc, utcnow
from app.core.ratelimit import client_network
from app.core.security import token_digest
from app.errors import ErrorCode, RateLimited

log = logging.getLogger("app.auth")


def _account_digest(email: str) -> str:
    return token_digest(f"account:{email}")


_UPSERT_ATTEMPTS = 5


def _collection():
    return LoginCounter.get_pymongo_collection()


@dataclass(frozen=True)
class Attempt:
    """One counted attempt. A failure needs nothing more: it was counted when it began."""

    address_key: str
    account_key: str

    async def succeeded(self, session=None) -> None:
        """The password was right: this address starts afresh, and the attempt is taken off
        the account-wide count (failures from elsewhere stay counted)."""
        await _collection().delete_one({"key": self.address_key}, session=session)
        await _uncount(self.account_key, session=session)


async def begin_attempt(email: str, *, client_address: str | None) -> Attempt:
    """Count an attempt to sign in as `email` (normalised) from `client_address`, before the
    password is checked.

    Raises RateLimited(account_locked) while this address is locked out of the account,
    RateLimited(rate_limited) while the account's attempts are slowed down; a refused attempt
    is not counted.
    """
    config = settings()
    account = _account_digest(email)
    address_key = token_digest(f"address:{email}|{client_network(client_address)}")
    now = utcnow()
    window = timedelta(seconds=config.LOGIN_LOCKOUT_SECONDS)

    row = await _count(address_key, account=account, scope="address", now=now, window=window)
    locked_until = as_utc(row["locked_until"]) if row.get("locked_until") else None
    if locked_until is None and row["attempts"] > config.LOGIN_LOCKOUT_ATTEMPTS:
        locked_until = now + window
        await _collection().update_one(
            {"key": address_key, "locked_until": None},
            {"$set": {"locked_until": locked_until, "expires_at": locked_until}},
        )
        log.warning(
            "sign-in locked for one address for %ss after %s failures",
            config.LOGIN_LOCKOUT_SECONDS,
            row["attempts"] - 1,
        )
    if locked_until is not None and locked_until > now:
        await _uncount(address_key)
        raise RateLimited(
            retry_after=_seconds(locked_until - now),
            detail="Too many failed sign-in attempts; try again later.",
            code=ErrorCode.ACCOUNT_LOCKED,
        )

    row = await _count(
        _account_key(account), account=account, scope="account", now=now, window=window
    )
    if row["attempts"] > config.LOGIN_ACCOUNT_ATTEMPTS:
        wait = await _claim_slowed_slot(account, now, config.LOGIN_SLOWDOWN_SECONDS)
        if wait is not None:
            await _uncount(address_key)
            await _uncount(_account_key(account))
            raise RateLimited(
                retry_after=wait,
                detail="Sign-in attempts for this account are slowed down; try again shortly.",
                code=ErrorCode.RATE_LIMITED,
            )
    return Attempt(address_key=address_key, account_key=_account_key(account))


def _account_key(account: str) -> str:
    return f"account:{account}"


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


async def _count(key: str, *, account: str, scope: str, now: datetime, window: timedelta) -> dict:
    """`$inc` the counter (creating it); returns it as it is after this attempt."""
    collection = _collection()
    # A lapsed window or lock starts afresh (the TTL monitor may not have removed it yet).
    await collection.delete_one({"key": key, "expires_at": {"$lte": now}})
    update: dict = {
        "$inc": {"attempts": 1},
        "$setOnInsert": {
            "account": account,
            "scope": scope,
            "locked_until": None,
            "next_attempt_at": None,
        },
    }
    if scope == "account":
        # While failures go on the window slides: a slowed account stays slowed.
        update["$max"] = {"expires_at": now + window}
    else:
        update["$setOnInsert"]["expires_at"] = now + window
    for _ in range(_UPSERT_ATTEMPTS):
        try:
            row = await collection.find_one_and_update(
                {"key": key}, update, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:  # two first attempts raced on the upsert: ask again
            continue
        if row is not None:
            return row
        # A server may answer the loser of a racing upsert with no document rather than a
        # duplicate-key error (seen on SecantusDB): the counter exists now, so ask again.
    raise RuntimeError(f"could not count a sign-in attempt after {_UPSERT_ATTEMPTS} tries")


async def _uncount(key: str, session=None) -> None:
    await _collection().update_one(
        {"key": key, "attempts": {"$gt": 0}}, {"$inc": {"attempts": -1}}, session=session
    )


async def _claim_slowed_slot(account: str, now: datetime, slowdown: int) -> int | None:
    """Take the account's next slot (one per `slowdown` seconds, whoever asks); returns None
    when taken, else the seconds until the next one."""
    key = _account_key(account)
    claimed = await _collection().find_one_and_update(
        {"key": key, "$or": [{"next_attempt_at": None}, {"next_attempt_at": {"$lte": now}}]},
        {"$set": {"next_attempt_at": now + timedelta(seconds=slowdown)}},
    )
    if claimed is not None:
        return None
    row = await _collection().find_one({"key": key}, {"next_attempt_at": 1})
    next_at = row.get("next_attempt_at") if row else None
    return _seconds(as_utc(next_at) - now) if next_at else slowdown


async def clear_account(email: str, session=None) -> int:
    """Forget every counter of an account (admin unlock, password reset); returns how many."""
    result = await _collection().delete_many({"account": _account_digest(email)}, session=session)
    return result.deleted_count
