"""Admin CRUD of shipping methods, tax rates and discount codes, and the public list of a
destination's shipping methods."""

from __future__ import annotations

import pytest

from app.charges.models import Discount, ShippingMethod, TaxRate

ADMIN = "/api/v1/admin"


async def test_customers_get_403_on_every_admin_list(client, customer):
    _, headers = customer
    for path in ("shipping-methods", "tax-rates", "discounts"):
        assert (await client.get(f"{ADMIN}/{path}", headers=headers)).status_code == 403
        assert (await client.post(f"{ADMIN}/{path}", headers=headers, json={})).status_code == 403
    assert await ShippingMethod.count() == 0


async def test_shipping_method_crud_and_the_public_list_for_a_destination(client, admin):
    _, headers = admin
    body = {
        "name": "Standard",
        "price": 599,
        "countries": ["us", "CA"],
        "free_over": 5000,
        "min_days": 3,
        "max_days": 5,
    }
    created = await client.post(f"{ADMIN}/shipping-methods", headers=headers, json=body)
    assert created.status_code == 201, await created.get_json()
    standard = await created.get_json()
    assert standard["countries"] == ["CA", "US"]
    assert standard["active"] is True and standard["currency"] == "usd"
    world = await client.post(
        f"{ADMIN}/shipping-methods",
        headers=headers,
        json={
            "name": "World",
            "price": 1999,
            "countries": "all",
            "min_days": 7,
            "max_days": 21,
            "weight_tiers": [
                {"up_to_grams": 2000, "price": 2999},
                {"up_to_grams": 500, "price": 1999},
            ],
        },
    )
    assert world.status_code == 201
    assert [t["up_to_grams"] for t in (await world.get_json())["weight_tiers"]] == [500, 2000]

    us = await client.get(
        "/api/v1/shipping-methods", query_string={"country": "US", "region": "CA"}
    )
    assert us.status_code == 200
    assert [(m["name"], m["price"], m["free_over"]) for m in await us.get_json()] == [
        ("Standard", 599, 5000),
        ("World", 1999, None),
    ]
    fr = await client.get("/api/v1/shipping-methods", query_string={"country": "fr"})
    assert [m["name"] for m in await fr.get_json()] == ["World"]

    patched = await client.patch(
        f"{ADMIN}/shipping-methods/{standard['id']}", headers=headers, json={"active": False}
    )
    assert patched.status_code == 200 and (await patched.get_json())["active"] is False
    us = await client.get("/api/v1/shipping-methods", query_string={"country": "US"})
    assert [m["name"] for m in await us.get_json()] == ["World"]

    bad_days = await client.patch(
        f"{ADMIN}/shipping-methods/{standard['id']}", headers=headers, json={"max_days": 1}
    )
    assert bad_days.status_code == 422
    listed = await client.get(f"{ADMIN}/shipping-methods", headers=headers)
    assert (await listed.get_json())["total"] == 2
    deleted = await client.delete(f"{ADMIN}/shipping-methods/{standard['id']}", headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(f"{ADMIN}/shipping-methods/{standard['id']}", headers=headers)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "price": -1, "countries": "all", "min_days": 1, "max_days": 2},
        {"name": "X", "price": 100, "countries": ["USA"], "min_days": 1, "max_days": 2},
        {"name": "X", "price": 100, "countries": "all", "min_days": 3, "max_days": 2},
        {
            "name": "X",
            "price": 100,
            "countries": "all",
            "min_days": 1,
            "max_days": 2,
            "weight_tiers": [{"up_to_grams": 5, "price": 1}, {"up_to_grams": 5, "price": 2}],
        },
    ],
)
async def test_bad_shipping_methods_are_422_and_change_nothing(client, admin, body):
    _, headers = admin
    response = await client.post(f"{ADMIN}/shipping-methods", headers=headers, json=body)
    assert response.status_code == 422
    assert await ShippingMethod.count() == 0


async def test_tax_rate_crud_keeps_one_rate_per_destination_and_class(client, admin):
    _, headers = admin
    ny = {"country": "US", "region": "ny", "rate_bp": 887.5, "name": "New York"}
    created = await client.post(f"{ADMIN}/tax-rates", headers=headers, json=ny)
    assert created.status_code == 201, await created.get_json()
    rate = await created.get_json()
    assert (rate["region"], rate["tax_class"], rate["rate_bp"]) == ("NY", "standard", 887.5)
    assert (await TaxRate.get(rate["id"])).rate_ppm == 88_750
    again = await client.post(f"{ADMIN}/tax-rates", headers=headers, json=ny)
    assert again.status_code == 409 and (await again.get_json())["code"] == "tax_rate_exists"
    # Kept to the hundredth of a basis point, rounded half up.
    third_decimal = await client.post(
        f"{ADMIN}/tax-rates", headers=headers, json={**ny, "region": "CA", "rate_bp": 725.125}
    )
    assert third_decimal.status_code == 201
    assert (await third_decimal.get_json())["rate_bp"] == 725.13
    reduced = await client.post(
        f"{ADMIN}/tax-rates",
        headers=headers,
        json={"country": "fr", "tax_class": "reduced", "rate_bp": 550, "name": "TVA réduite"},
    )
    assert reduced.status_code == 201
    patched = await client.patch(
        f"{ADMIN}/tax-rates/{rate['id']}", headers=headers, json={"rate_bp": 900}
    )
    assert (await patched.get_json())["rate_bp"] == 900
    listed = await client.get(f"{ADMIN}/tax-rates", headers=headers, query_string={"country": "us"})
    assert [(r["region"], r["rate_bp"]) for r in (await listed.get_json())["items"]] == [
        ("CA", 725.13),
        ("NY", 900),
    ]
    assert (
        await client.delete(f"{ADMIN}/tax-rates/{rate['id']}", headers=headers)
    ).status_code == 204
    assert await TaxRate.count() == 2


async def test_discount_crud_codes_are_case_insensitive_and_times_used_read_only(
    client, admin, make_category
):
    _, headers = admin
    mugs = await make_category("Mugs")
    created = await client.post(
        f"{ADMIN}/discounts",
        headers=headers,
        json={
            "code": "Summer10",
            "type": "percent",
            "value": 10,
            "min_subtotal": 3000,
            "usage_limit": 5,
            "usage_limit_per_customer": 1,
            "category": mugs.slug,
        },
    )
    assert created.status_code == 201, await created.get_json()
    summer = await created.get_json()
    assert summer["times_used"] == 0 and summer["category"] == str(mugs.id)
    clash = await client.post(
        f"{ADMIN}/discounts", headers=headers, json={"code": "SUMMER10", "type": "free_shipping"}
    )
    assert clash.status_code == 409 and (await clash.get_json())["code"] == "discount_code_taken"
    read_only = await client.patch(
        f"{ADMIN}/discounts/{summer['id']}", headers=headers, json={"times_used": 3}
    )
    assert read_only.status_code == 422
    # A new limit keeps the uses counted so far: 2 used, the limit goes from 5 to 3.
    await Discount.get_pymongo_collection().update_one(
        {"_id": (await Discount.get(summer["id"])).id},
        {"$inc": {"times_used": 2, "uses_left": -2}},
    )
    lowered = await client.patch(
        f"{ADMIN}/discounts/{summer['id']}", headers=headers, json={"usage_limit": 3}
    )
    assert lowered.status_code == 200
    stored = await Discount.get(summer["id"])
    assert (stored.times_used, stored.uses_left, stored.usage_limit) == (2, 1, 3)
    listed = await client.get(f"{ADMIN}/discounts", headers=headers)
    assert [d["code"] for d in (await listed.get_json())["items"]] == ["Summer10"]


@pytest.mark.parametrize(
    "body",
    [
        {"code": "A", "type": "percent"},
        {"code": "A", "type": "percent", "value": 101},
        {"code": "A", "type": "fixed"},
        {"code": "A", "type": "free_shipping", "value": 100},
        {"code": "has space", "type": "free_shipping"},
        {"code": "A", "type": "fixed", "value": 100, "category": "no-such-category"},
        {
            "code": "A",
            "type": "fixed",
            "value": 100,
            "starts_at": "2027-01-02T00:00:00Z",
            "ends_at": "2027-01-01T00:00:00Z",
        },
    ],
)
async def test_bad_discounts_are_422_and_change_nothing(client, admin, body):
    _, headers = admin
    response = await client.post(f"{ADMIN}/discounts", headers=headers, json=body)
    assert response.status_code == 422, await response.get_json()
    assert await Discount.count() == 0


async def test_a_discounts_dates_are_changed_as_dates(client, admin):
    _, headers = admin
    created = await client.post(
        f"{ADMIN}/discounts", headers=headers, json={"code": "WINDOW", "type": "free_shipping"}
    )
    discount_id = (await created.get_json())["id"]
    patched = await client.patch(
        f"{ADMIN}/discounts/{discount_id}",
        headers=headers,
        json={"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00+01:00"},
    )
    assert patched.status_code == 200, await patched.get_json()
    body = await patched.get_json()
    assert (body["starts_at"], body["ends_at"]) == ("2026-01-01T00:00:00Z", "2026-01-31T23:00:00Z")
    stored = await Discount.get(discount_id)
    assert stored.starts_at.year == 2026 and stored.ends_at.day == 31
    backwards = await client.patch(
        f"{ADMIN}/discounts/{discount_id}",
        headers=headers,
        json={"ends_at": "2025-12-31T00:00:00Z"},
    )
    assert backwards.status_code == 422
    assert (await backwards.get_json())["errors"][0]["loc"] == ["ends_at"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("discounts", {"code": "NUM", "type": "free_shipping", "starts_at": 0}),
        ("tax-rates", {"country": "US", "rate_bp": "887.5", "name": "Text"}),
        ("tax-rates", {"country": "US", "rate_bp": True, "name": "Bool"}),
        # Over the maximum, and so large that a hundred times it is infinite.
        ("tax-rates", {"country": "US", "rate_bp": 1.7976931348623157e308, "name": "Huge"}),
    ],
)
async def test_numbers_and_dates_keep_their_json_types(client, admin, path, body):
    _, headers = admin
    response = await client.post(f"{ADMIN}/{path}", headers=headers, json=body)
    assert response.status_code == 422
