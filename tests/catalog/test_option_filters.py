"""Any option name is a filter of the product lists (issue 18, API.md "Variants and facets"):
`?material=linen` finds a product with a linen variant; several option filters (with
`color`/`size`, and `in_stock=true`) must hold for the same variant. Products are built
through the admin API, as a shop would; on the embedded engine and over the wire."""

from __future__ import annotations

import os

import pytest

from app.catalog import facets as facet_module
from app.catalog import listing
from app.catalog.cache import bump_catalog_version
from app.catalog.listing import variant_filter, variant_match
from app.catalog.models import Product
from app.catalog.schemas import AdminProductQuery, CatalogQuery, ProductQuery
from tests.secantus import PLANNER_SKIPS_PARTIAL_INDEX

URL = "/api/v1/products"
ADMIN = "/api/v1/admin/products"


def product_body(category, name, options, variants, **extra):
    return {
        "name": name,
        "description": f"A {name.lower()}.",
        "price": 3000,
        "category": str(category.id),
        "options": options,
        "variants": variants,
        **extra,
    }


@pytest.fixture
async def admin_headers(create_user):
    _, headers = await create_user(email="admin@example.com", role="admin")
    return headers


@pytest.fixture
async def goods(client, admin_headers, make_category):
    """A shirt in linen (S, in stock) and cotton (M, sold out); a bag in linen (sold out)
    and canvas, with a strap option; a mug without options (its colour an attribute)."""
    shelf = await make_category("Goods")

    async def create(body):
        response = await client.post(ADMIN, json=body, headers=admin_headers)
        assert response.status_code == 201, await response.get_json()
        return await response.get_json()

    shirt = await create(
        product_body(
            shelf,
            "Summer Shirt",
            [
                {"name": "material", "values": ["Linen", "Cotton"]},
                {"name": "size", "values": ["S", "M"]},
            ],
            [
                {"sku": "SHIRT-LS", "options": {"material": "Linen", "size": "S"}, "stock": 2},
                {"sku": "SHIRT-CM", "options": {"material": "Cotton", "size": "M"}, "stock": 0},
            ],
            brand="Breeze",
        )
    )
    bag = await create(
        product_body(
            shelf,
            "Market Bag",
            [
                {"name": "material", "values": ["linen", "canvas"]},
                {"name": "strap", "values": ["long"]},
            ],
            [
                {"sku": "BAG-L", "options": {"material": "linen", "strap": "long"}, "stock": 0},
                {"sku": "BAG-C", "options": {"material": "canvas", "strap": "long"}, "stock": 5},
            ],
            brand="Carry",
        )
    )
    mug = await create(
        {
            "name": "Plain Mug",
            "description": "A mug.",
            "price": 900,
            "category": str(shelf.id),
            "attributes": {"color": "white"},
            "stock": 4,
        }
    )
    return {"shirt": shirt, "bag": bag, "mug": mug}


async def slugs(client, url=URL, headers=None, **params) -> set[str]:
    response = await client.get(url, query_string={"per_page": 100, **params}, headers=headers)
    assert response.status_code == 200, await response.get_json()
    return {item["slug"] for item in (await response.get_json())["items"]}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"material": "linen"}, {"summer-shirt", "market-bag"}),
        # Case-insensitive, as `color` and `size` are; spaces around are trimmed.
        ({"material": "LINEN"}, {"summer-shirt", "market-bag"}),
        ({"material": " Canvas "}, {"market-bag"}),
        ({"material": "silk"}, set()),
        # With `size`: the same variant has both values, or the product is not listed.
        ({"material": "linen", "size": "s"}, {"summer-shirt"}),
        ({"material": "cotton", "size": "S"}, set()),
        ({"material": "Cotton", "size": "M"}, {"summer-shirt"}),
        # Two option filters of other names, on one variant too.
        ({"material": "canvas", "strap": "long"}, {"market-bag"}),
        ({"material": "cotton", "strap": "long"}, set()),
        # In stock: that very variant must be in stock.
        ({"material": "linen", "in_stock": "true"}, {"summer-shirt"}),
        ({"material": "cotton", "in_stock": "true"}, set()),
        ({"material": "linen", "strap": "long", "in_stock": "true"}, set()),
        ({"material": "canvas", "strap": "long", "in_stock": "true"}, {"market-bag"}),
        # `false` is no stock filter, a blank value no filter at all.
        ({"material": "cotton", "in_stock": "false"}, {"summer-shirt"}),
        ({"material": ""}, {"summer-shirt", "market-bag", "plain-mug"}),
        # With the other filters, as any filter.
        ({"material": "linen", "brand": "carry"}, {"market-bag"}),
        ({"material": "linen", "q": "shirt"}, {"summer-shirt"}),
    ],
)
async def test_any_option_name_filters_the_catalog(client, goods, params, expected):
    assert await slugs(client, **params) == expected


async def test_the_admin_list_takes_option_filters_on_either_status(client, goods, admin_headers):
    assert await slugs(client, ADMIN, admin_headers, material="linen") == {
        "summer-shirt",
        "market-bag",
    }
    assert await slugs(client, ADMIN, admin_headers, material="linen", in_stock="true") == {
        "summer-shirt"
    }
    response = await client.patch(
        f"{ADMIN}/{goods['bag']['id']}", json={"status": "archived"}, headers=admin_headers
    )
    assert response.status_code == 200, await response.get_json()
    assert await slugs(client, ADMIN, admin_headers, material="linen") == {"summer-shirt"}
    archived = await slugs(client, ADMIN, admin_headers, material="linen", status="archived")
    assert archived == {"market-bag"}


async def test_editing_a_variants_options_moves_it_between_filters(client, goods, admin_headers):
    """Every variant write stores the keys of every option name, not only color and size."""
    shirt = goods["shirt"]
    linen_s = next(v for v in shirt["variants"] if v["sku"] == "SHIRT-LS")
    response = await client.patch(
        f"{ADMIN}/{shirt['id']}/variants/{linen_s['id']}",
        json={"options": {"material": "Cotton", "size": "S"}},
        headers=admin_headers,
    )
    assert response.status_code == 200, await response.get_json()
    assert await slugs(client, material="linen") == {"market-bag"}
    assert await slugs(client, material="cotton", size="s", in_stock="true") == {"summer-shirt"}
    stored = await Product.get(shirt["id"])
    assert stored is not None
    assert sorted(key for v in stored.variants for key in v.keys) == [
        "material:cotton",
        "material:cotton",
        "size:m",
        "size:s",
    ]


async def test_option_filters_narrow_the_facets(client, goods):
    """No facet of their own (the contract fixes the facet fields); they narrow the others'
    counts like any filter, one variant at a time."""
    response = await client.get(URL, query_string={"facets": "true", "material": "linen"})
    facets = (await response.get_json())["facets"]
    assert set(facets) == {"brand", "color", "size", "category", "price"}
    assert {f["value"]: f["count"] for f in facets["brand"]} == {"Breeze": 1, "Carry": 1}
    # The shirt's linen variant is an S; its cotton M does not count under material=linen.
    assert {f["value"]: f["count"] for f in facets["size"]} == {"S": 1}
    assert facets["color"] == []
    response = await client.get(
        URL, query_string={"facets": "true", "material": "linen", "in_stock": "true"}
    )
    facets = (await response.get_json())["facets"]
    assert {f["value"]: f["count"] for f in facets["brand"]} == {"Breeze": 1}
    assert facets["price"] == {"min": 3000, "max": 3000}


async def test_facet_answers_are_cached_per_option_filter(client, goods, monkeypatch):
    """The facet cache keys on every option filter (case-folded): another value is another
    answer, the same value in other case the same one."""
    runs = []
    original = facet_module._compute

    async def spy(query):
        runs.append(query.option_filters)
        return await original(query)

    monkeypatch.setattr(facet_module, "_compute", spy)
    linen = await client.get(URL, query_string={"facets": "true", "material": "linen"})
    canvas = await client.get(URL, query_string={"facets": "true", "material": "canvas"})
    brands = [
        {f["value"] for f in (await r.get_json())["facets"]["brand"]} for r in (linen, canvas)
    ]
    assert brands == [{"Breeze", "Carry"}, {"Carry"}]
    await client.get(URL, query_string={"facets": "true", "material": "LINEN", "page": 2})
    assert runs == [{"material": "linen"}, {"material": "canvas"}]
    key = facet_module.normalized
    assert key(CatalogQuery(material="linen")) == key(CatalogQuery(material="Linen"))
    assert key(CatalogQuery(material="linen")) != key(CatalogQuery(strap="linen"))
    assert key(CatalogQuery(material="linen")) != key(CatalogQuery())


async def test_the_response_cache_keys_on_the_option_filters(client, goods):
    """Cached list pages are per option filter: another value is not served the first one's
    page, and the same URL is served from the cache (a silent write shows only after a bump)."""
    assert await slugs(client, material="linen") == {"summer-shirt", "market-bag"}
    assert await slugs(client, material="canvas") == {"market-bag"}
    await Product.get_pymongo_collection().update_many(
        {"slug": "market-bag"}, {"$set": {"status": "archived"}}
    )
    assert await slugs(client, material="canvas") == {"market-bag"}  # cached
    assert await slugs(client, material="linen", strap="long") == set()  # not cached: fresh
    await bump_catalog_version()
    assert await slugs(client, material="canvas") == set()


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"Material": "linen"}, ["Material"]),  # option names are lower case
        ({"material-type": "linen"}, ["material-type"]),
        ({"1st": "linen"}, ["1st"]),
        ({"m" * 41: "linen"}, ["m" * 41]),
        ({"material": "l" * 101}, ["material"]),
        ({"material": "lin\x00en"}, ["material"]),
        # One more option filter than a product can have options.
        ({"material": "linen", "strap": "long", "fit": "slim", "finish": "matt"}, []),
    ],
)
@pytest.mark.parametrize("url", [URL, ADMIN])
async def test_bad_option_filters_are_a_422(client, admin_headers, url, params, loc):
    response = await client.get(url, query_string=params, headers=admin_headers)
    assert response.status_code == 422
    body = await response.get_json()
    assert body["code"] == "validation_error"
    errors = {tuple(error["loc"]): error["msg"] for error in body["errors"]}
    assert tuple(loc) in errors, errors
    if len(params) > 3:
        assert errors[()] == "At most 3 option filters (parameters named like an option)"
    elif not params.get("material"):
        assert errors[tuple(loc)].startswith("Unknown query parameter")


async def test_known_parameters_keep_their_meaning(client, goods):
    """A parameter of the list is never an option filter: `?sort=linen` is a bad sort, not an
    option named sort; three option filters besides color and size are fine."""
    response = await client.get(URL, query_string={"sort": "linen"})
    assert response.status_code == 422
    assert (await response.get_json())["errors"][0]["loc"] == ["sort"]
    query = ProductQuery(color="red", size="m", material="linen", strap="long", fit="slim")
    assert query.option_filters == {
        "color": "red",
        "size": "m",
        "material": "linen",
        "strap": "long",
        "fit": "slim",
    }
    assert AdminProductQuery(status="archived", material="x").option_filters == {"material": "x"}
    assert await slugs(client, color="blue", size="s", material="linen", strap="long") == set()


async def test_option_filters_are_documented_as_one_query_object(client):
    document = await (await client.get("/openapi.json")).get_json()
    for path in (URL, ADMIN):
        parameters = document["paths"][path]["get"]["parameters"]
        (options,) = [p for p in parameters if p["name"] == "option_filters"]
        assert (options["in"], options["style"], options["explode"]) == ("query", "form", True)
        schema = options["schema"]
        assert schema["type"] == "object"
        assert schema["maxProperties"] == 3
        assert schema["propertyNames"]["pattern"] == "^[a-z][a-z0-9_]{0,39}$"
        # The list's own parameters are never option filters.
        own = {p["name"] for p in parameters} - {"option_filters"}
        assert set(schema["propertyNames"]["not"]["enum"]) == own
        assert schema["additionalProperties"]["anyOf"][0]["type"] == "string"


async def test_a_listing_query_with_option_filters_runs_on_the_variant_index(
    client, goods, monkeypatch
):
    """The list query with option filters is the one `variant_options` serves: an equality
    on `variants.keys` (one filter) or an `$elemMatch` on one variant (several, or with stock)."""
    collection = Product.get_pymongo_collection()
    seen = []
    original_find = collection.find

    def spy(filter, projection=None, **kwargs):
        seen.append(filter)
        return original_find(filter, projection, **kwargs)

    monkeypatch.setattr(collection, "find", spy)
    await listing.list_products(query=ProductQuery(material="Linen"))
    await listing.list_products(query=ProductQuery(material="linen", size="S", in_stock=True))
    assert seen[0]["variants.keys"] == "material:linen"
    assert seen[1]["variants"] == {
        "$elemMatch": {"keys": {"$all": ["size:s", "material:linen"]}, "stock": {"$gt": 0}}
    }


@pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server")
@pytest.mark.parametrize(
    "params",
    [
        {"material": "linen"},
        pytest.param(
            {"material": "linen", "size": "s", "in_stock": True},
            marks=pytest.mark.secantus_bug(PLANNER_SKIPS_PARTIAL_INDEX),
        ),
    ],
)
async def test_option_filters_use_the_multikey_variant_index(goods, params):
    cursor = Product.get_pymongo_collection().find(
        {"status": "active", **variant_match(variant_filter(ProductQuery(**params)))},
        sort=[("price", 1), ("_id", 1)],
    )
    plan = str((await cursor.explain())["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in plan and "variant_options" in plan, plan
