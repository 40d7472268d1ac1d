"""The order state machine as a table: pure, no app and no database (the moves themselves, with
their effects, are tests/orders/test_transitions.py)."""

from __future__ import annotations

from typing import get_args

import pytest

from app.errors import ErrorCode
from app.orders import state
from app.orders.models import Order, OrderStatus, Payment

ALL: list[str] = list(get_args(OrderStatus))
# The lifecycle as the README draws it, spelled out: every move that exists.
EXPECTED = {
    ("pending_payment", "paid"),
    ("pending_payment", "cancelled"),
    ("paid", "processing"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("processing", "shipped"),
    ("processing", "cancelled"),
    ("processing", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "refunded"),
    ("delivered", "refunded"),
}


def test_the_table_names_every_status_and_only_statuses():
    assert set(state.TRANSITIONS) == set(ALL)
    assert all(targets <= set(ALL) for targets in state.TRANSITIONS.values())


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_can_move_exactly_along_the_lifecycle(current, target):
    assert state.can_move(current, target) is ((current, target) in EXPECTED)


@pytest.mark.parametrize("current", ["", "unknown", "PAID"])
def test_an_unknown_status_moves_nowhere(current):
    assert not any(state.can_move(current, target) for target in ALL)
    assert not state.can_move("paid", current)


def test_cancelled_and_refunded_are_final():
    for final in ("cancelled", "refunded"):
        assert not any(state.can_move(final, target) for target in ALL)


def test_the_derived_sets():
    assert state.CANCELLABLE == {"pending_payment", "paid", "processing"}
    assert state.REFUNDABLE == {"paid", "processing", "shipped", "delivered"}
    assert state.NOT_SHIPPED == {"pending_payment", "paid", "processing"}
    assert state.GIVE_ALL_BACK == {"cancelled", "refunded"}


def test_no_status_reaches_itself():
    assert not any(state.can_move(status, status) for status in ALL)


def test_every_status_is_reachable_from_pending_payment():
    reached, frontier = {"pending_payment"}, ["pending_payment"]
    while frontier:
        for target in state.TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(ALL)


def test_invalid_transition_is_the_409_the_api_documents():
    error = state.invalid_transition("shipped", "cancelled")
    assert error.status == 409
    assert error.code == ErrorCode.INVALID_TRANSITION
    assert "shipped" in error.detail and "cancelled" in error.detail
    assert error.extra == {"current_status": "shipped", "requested_status": "cancelled"}


# `Order.refundable` (and `taken`), pure too: built without a database (no validation).
@pytest.mark.parametrize(
    ("received", "refunded", "taken", "refundable"),
    [
        (None, 0, 3800, 3800),  # paid the total, nothing given back
        (None, 800, 3800, 3000),  # a partial refund booked (pending ones count)
        (None, 3800, 3800, 0),  # everything given back
        (3000, 0, 3000, 3000),  # an underpayment (`amount_mismatch`): what was taken
        (4500, 1000, 4500, 3500),  # an overpayment: all of it is owed back
    ],
)
def test_refundable_is_what_was_taken_less_what_was_given_back(
    received, refunded, taken, refundable
):
    order = Order.model_construct(
        total=3800,
        payment=Payment(provider="dev", amount_received=received, amount_refunded=refunded),
    )
    assert order.taken == taken
    assert order.refundable == refundable
