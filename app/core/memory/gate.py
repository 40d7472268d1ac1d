"""The transaction gate: one transaction at a time on the embedded engine.

mongomock-ng keeps one snapshot per collection, not per session, so two interleaved
transactions could wipe each other's writes. The gate is held from `start_transaction()` until
commit or abort; operations outside the running transaction wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pymongo.errors

if TYPE_CHECKING:
    from app.core.memory.facade import MemorySession

GATE_TIMEOUT_SECONDS = 30.0
# What a server answers when an operation runs out of time (MaxTimeMSExpired).
_MAX_TIME_EXPIRED = 50

T = TypeVar("T")


class TransactionMisuse(RuntimeError):
    """An operation inside a transaction forgot `session=`."""


class TransactionWaitTimeout(pymongo.errors.ExecutionTimeout, TimeoutError):
    """An operation waited longer than GATE_TIMEOUT_SECONDS for another transaction to end.

    A timeout, not a misuse: it is PyMongo's ExecutionTimeout (what a server raises when an
    operation runs out of time, so callers that handle the database's errors handle this one
    alike) and a TimeoutError."""

    def __init__(self, message: str) -> None:
        super().__init__(message, _MAX_TIME_EXPIRED, {"errmsg": message, "code": 50})


class Gate:
    """One transaction at a time; everyone else waits until it ends."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.owner: MemorySession | None = None
        self.owner_task: asyncio.Task[object] | None = None

    def _check_not_owner(self) -> None:
        if self.owner is not None and self.owner_task is asyncio.current_task():
            raise TransactionMisuse(
                "operation without the transaction's session= inside a transaction: "
                "pass session= to every operation in the transaction"
            )

    async def acquire(self) -> None:
        self._check_not_owner()
        if not self._lock.locked() and not self._lock._waiters:
            # Free with nobody queued: asyncio.Lock takes it at once, so no timer is armed
            # (one per database call, about ten times the cost of taking the lock).
            await self._lock.acquire()
            return
        try:
            async with asyncio.timeout(GATE_TIMEOUT_SECONDS):
                await self._lock.acquire()
        except TimeoutError:
            raise TransactionWaitTimeout(
                f"waited too long ({GATE_TIMEOUT_SECONDS:g} s) for a transaction to end on "
                "the embedded engine"
            ) from None

    def release(self) -> None:
        self._lock.release()

    async def run(
        self,
        session: MemorySession | None,
        fn: Callable[..., T],
        *args: object,
        enroll: bool = True,
        **kwargs: object,
    ) -> T:
        """Run a synchronous mongomock call, outside or inside the running transaction.

        `enroll=False` is for calls that only read and refuse a session on mongomock-ng.
        """
        if session is not None and session is self.owner:
            if enroll:
                return fn(*args, session=session.inner, **kwargs)
            return fn(*args, **kwargs)
        await self.acquire()
        try:
            return fn(*args, **kwargs)
        finally:
            self.release()
