"""Time as the database keeps it: UTC, millisecond precision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, truncated to the millisecond BSON stores, so a write equals its re-read."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(moment: datetime) -> datetime:
    """MongoDB may hand back naive datetimes (a client without tz_aware): they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """A background loop's pause: `seconds`, or less when `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
