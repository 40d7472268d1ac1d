"""Users fixtures: the orders' stocked shop and cart, for checkout's shipping name."""

from tests.support.checkout import fill_cart, stock  # noqa: F401
