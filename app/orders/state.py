"""The order state machine: which status may follow which. A pure table, no I/O: the one way
to move an order along is `lifecycle.move`, which asks it.

    pending_payment -> paid -> processing -> shipped -> delivered
    pending_payment | paid | processing -> cancelled
    paid | processing | shipped | delivered -> refunded
"""

from __future__ import annotations

from app.errors import Conflict, ErrorCode
from app.orders.models import OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"processing", "cancelled", "refunded"}),
    "processing": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
CANCELLABLE: frozenset[OrderStatus] = frozenset(
    status for status, targets in TRANSITIONS.items() if "cancelled" in targets
)
# Paid and standing: what a refund may be asked of (a cancelled or refunded order only when
# it still owes money: app/orders/refunds.py).
REFUNDABLE: frozenset[OrderStatus] = frozenset(
    status for status, targets in TRANSITIONS.items() if "refunded" in targets
)
# Goods not yet handed to the carrier: cancelling or refunding puts them back on the shelf.
NOT_SHIPPED: frozenset[OrderStatus] = frozenset({"pending_payment", "paid", "processing"})
# Orders that give back every cent they took: what is not given back is owed.
GIVE_ALL_BACK: frozenset[OrderStatus] = frozenset({"cancelled", "refunded"})


def can_move(current: str, target: str) -> bool:
    return any(status == current and target in targets for status, targets in TRANSITIONS.items())


def invalid_transition(current: str, target: str) -> Conflict:
    return Conflict(
        f"An order that is {current} cannot become {target}.",
        code=ErrorCode.INVALID_TRANSITION,
        current_status=current,
        requested_status=target,
    )
