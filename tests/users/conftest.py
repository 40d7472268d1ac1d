"""Users fixtures: the orders' stocked shop and cart, for checkout's shipping name."""

from tests.orders.conftest import fill_cart, stock  # noqa: F401
