"""Inventory fixtures: stocked products, admins to alert (tests/support/inventory.py reads
the ledger and the alerts as rows)."""

from __future__ import annotations

import pytest


@pytest.fixture
async def shelf(make_category):
    return await make_category("Shelf")


@pytest.fixture
def stocked(shelf, make_product):
    """`await stocked("Mug", stock=10, low_stock_threshold=5, **fields)` -> Product."""

    async def factory(name: str = "Stoneware Mug", **fields):
        return await make_product(name, shelf, **fields)

    return factory


@pytest.fixture
async def staff(create_user):
    """Two active admins (who get alerts), a disabled admin and a customer (who do not)."""
    first = await create_user(email="ops@example.com", role="admin")
    second = await create_user(email="buyer@example.com", role="admin")
    await create_user(email="former@example.com", role="admin", is_active=False)
    await create_user(email="shopper@example.com")
    return first, second


@pytest.fixture
def without_transactions(no_transactions):
    """As on a server without replica set: `db.transaction()` yields no session."""
