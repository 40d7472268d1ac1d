"""Extension points for the domains whose emails the outbox prepares or renews.

`email` imports no domain: a domain registers its functions here when it is imported.
- A *producer* turns stored requests into outbox rows; the sender runs every producer before
  it claims rows (e.g. accounts: "send a reset link to this address, if it has an account").
- A *refresher* renews an email's content when an admin resends it (e.g. a fresh single-use
  token instead of the expired one in the original link): `await refresher(to=, kind=,
  session=)` returns the template context, or raises an AppError when nothing should be sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Producer = Callable[[], Awaitable[int]]
Refresher = Callable[..., Awaitable[dict[str, Any]]]

_producers: list[Producer] = []
_refreshers: dict[str, Refresher] = {}


def register_producer(producer: Producer) -> None:
    if producer not in _producers:
        _producers.append(producer)


def producers() -> tuple[Producer, ...]:
    return tuple(_producers)


def register_refresher(kind: str, refresher: Refresher) -> None:
    _refreshers[kind] = refresher


def refresher(kind: str) -> Refresher | None:
    return _refreshers.get(kind)
