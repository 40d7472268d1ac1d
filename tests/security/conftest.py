"""The orders fixtures (a stocked shop, carts, checkout, pay) for the cross-domain checks."""

from tests.support.checkout import (  # noqa: F401
    checkout,
    fill_cart,
    pay,
    placed_order,
    stock,
)
