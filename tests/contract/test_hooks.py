"""The contract run's one excuse for a lingering deleted resource, as pure cases."""

from __future__ import annotations

import pytest

from tests.contract.hooks import is_admin_use_of_archived

PRODUCT = "/api/v1/admin/products/6740c0ffee0000000000abcd"


@pytest.mark.parametrize(
    "usage",
    [
        f"GET {PRODUCT}",  # the admin reads an archived product to restore it
        f"PATCH {PRODUCT}",
        f"POST {PRODUCT}/stock",
        f"POST {PRODUCT}/variants",
        f"PATCH {PRODUCT}/variants/6740c0ffee0000000000beef",
    ],
)
def test_the_admin_keeps_an_archived_product(usage):
    assert is_admin_use_of_archived(f"DELETE {PRODUCT}", usage)


@pytest.mark.parametrize(
    "free, usage",
    [
        (f"DELETE {PRODUCT}", "GET /api/v1/products/6740c0ffee0000000000abcd"),
        (f"DELETE {PRODUCT}", "GET /api/v1/admin/products/6740c0ffee0000000000ffff"),
        ("DELETE /api/v1/admin/categories/x", "GET /api/v1/admin/categories/x"),
        (f"DELETE {PRODUCT}/variants/6740c0ffee0000000000beef", f"GET {PRODUCT}"),
    ],
)
def test_nothing_else_lingers(free, usage):
    assert not is_admin_use_of_archived(free, usage)
