"""Admin catalog writes: products (create, update, archive) and categories."""

from __future__ import annotations

import pytest

from app.catalog.models import Category, Product

PRODUCTS = "/api/v1/admin/products"
CATEGORIES = "/api/v1/admin/categories"
ZERO_ID = "0" * 24


@pytest.fixture
async def category(make_category):
    return await make_category("Shirts")


def product_body(category, /, **overrides) -> dict:
    body = {
        "name": "Oxford Shirt",
        "description": "A crisp cotton shirt.",
        "price": 4500,
        "currency": "usd",
        "category": str(category.id),
        "stock": 12,
    }
    body.update(overrides)
    return body


async def create(client, headers, category, /, **overrides):
    response = await client.post(
        PRODUCTS, json=product_body(category, **overrides), headers=headers
    )
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()


# -- who may write ------------------------------------------------------------------------------

WRITES = [
    ("post", PRODUCTS),
    ("patch", f"{PRODUCTS}/{ZERO_ID}"),
    ("delete", f"{PRODUCTS}/{ZERO_ID}"),
    ("post", CATEGORIES),
    ("patch", f"{CATEGORIES}/{ZERO_ID}"),
    ("delete", f"{CATEGORIES}/{ZERO_ID}"),
]


@pytest.mark.parametrize("method, url", WRITES)
async def test_writes_need_authentication(client, method, url):
    response = await getattr(client, method)(url, json={"name": "x"})
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "unauthenticated"


@pytest.mark.parametrize("method, url", WRITES)
async def test_writes_are_admin_only(client, customer, method, url):
    _, headers = customer
    response = await getattr(client, method)(url, json={"name": "x"}, headers=headers)
    assert response.status_code == 403
    assert (await response.get_json())["code"] == "forbidden"
    assert await Product.count() == 0 and await Category.count() == 0


# -- create ---------------------------------------------------------------------------------------


async def test_create_product(client, admin, category):
    _, headers = admin
    body = await create(
        client,
        headers,
        category,
        currency="USD",
        brand="Oxford Mills",
        attributes={"color": "Blue", "size": "M"},
        images=[{"url": "https://img.example/1.jpg", "alt": "front"}],
    )
    assert body["slug"] == "oxford-shirt" and "_id" not in body and len(body["id"]) == 24
    assert body["currency"] == "usd"
    assert body["low_stock_threshold"] == 5 and body["stock_status"] == "in_stock"
    assert body["category"] == {"id": str(category.id), "slug": "shirts", "name": "Shirts"}
    assert body["rating"] == {"average": 0.0, "count": 0}
    assert body["images"] == [{"url": "https://img.example/1.jpg", "alt": "front"}]
    # It is in the catalog, with its facets filterable case-insensitively.
    listed = await client.get("/api/v1/products", query_string={"color": "blue", "size": "m"})
    assert [i["id"] for i in (await listed.get_json())["items"]] == [body["id"]]


async def test_create_product_with_category_slug(client, admin, category):
    _, headers = admin
    body = await create(client, headers, category, category="shirts")
    assert body["category"]["slug"] == "shirts"


@pytest.mark.parametrize(
    "names, slugs",
    [
        (["Oxford Shirt"] * 3, ["oxford-shirt", "oxford-shirt-2", "oxford-shirt-3"]),
        (["Oxford Shirt", "oxford  SHIRT!"], ["oxford-shirt", "oxford-shirt-2"]),
        (["Widget 2", "Widget", "Widget"], ["widget-2", "widget", "widget-3"]),
        (["Café Crème"], ["cafe-creme"]),
        (["!!!", "???"], ["product", "product-2"]),
    ],
)
async def test_slugs_are_generated_and_unique(client, admin, category, names, slugs):
    _, headers = admin
    made = [(await create(client, headers, category, name=name))["slug"] for name in names]
    assert made == slugs


async def test_free_slug_past_a_batch_of_taken_suffixes(make_category, make_product):
    from app.catalog.models import Product
    from app.catalog.slugs import SLUG_BATCH, free_slug

    home = await make_category("Home")
    taken = ["tee", *(f"tee-{n}" for n in range(2, SLUG_BATCH + 3))]
    for slug in taken:
        await make_product("Tee", home, slug=slug)
    assert await free_slug(Product, "tee") == f"tee-{SLUG_BATCH + 3}"
    gap = await Product.find_one({"slug": "tee-30"})
    await gap.delete()
    assert await free_slug(Product, "tee") == "tee-30"


async def test_slug_collision_with_an_archived_product(client, admin, category):
    _, headers = admin
    first = await create(client, headers, category)
    assert (await client.delete(f"{PRODUCTS}/{first['id']}", headers=headers)).status_code == 204
    assert (await create(client, headers, category))["slug"] == "oxford-shirt-2"


@pytest.mark.parametrize(
    "overrides, loc",
    [
        ({"price": -1}, ["price"]),
        ({"price": "4500"}, ["price"]),
        ({"price": 45.5}, ["price"]),
        ({"price": True}, ["price"]),
        ({"price": None}, ["price"]),
        ({"stock": -1}, ["stock"]),
        ({"stock": False}, ["stock"]),
        ({"stock": "3"}, ["stock"]),
        ({"low_stock_threshold": -2}, ["low_stock_threshold"]),
        ({"currency": "us"}, ["currency"]),
        ({"currency": "usd1"}, ["currency"]),
        ({"currency": "xyz"}, ["currency"]),  # three letters, but not ISO 4217
        ({"name": "   "}, ["name"]),
        ({"name": "x" * 201}, ["name"]),
        ({"category": "no-such-category"}, ["category"]),
        ({"category": ZERO_ID}, ["category"]),
        ({"attributes": {"Colour!": "red"}}, ["attributes", "Colour!", "[key]"]),
        ({"attributes": {"color": 5}}, ["attributes", "color"]),
        ({"images": [{"url": "javascript:alert(1)"}]}, ["images", 0, "url"]),
        ({"images": [{"url": "http://[0"}]}, ["images", 0, "url"]),  # not a host
        ({"images": [{"url": "https://user:pw@cdn.example/a.jpg"}]}, ["images", 0, "url"]),
        ({"images": [{"url": "https://cdn.example/a b.jpg"}]}, ["images", 0, "url"]),
        ({"images": [{"url": "https://x.example/a.jpg", "title": "x"}]},
         ["images", 0, "title"]),
        ({"sku": "X-1"}, ["sku"]),  # unknown field
        ({"slug": "chosen"}, ["slug"]),  # generated, not chosen
    ],
)  # fmt: skip
async def test_create_product_validation(client, admin, category, overrides, loc):
    _, headers = admin
    response = await client.post(
        PRODUCTS, json=product_body(category, **overrides), headers=headers
    )
    assert response.status_code == 422
    body = await response.get_json()
    assert body["code"] == "validation_error"
    assert loc in [error["loc"] for error in body["errors"]]
    assert await Product.count() == 0


@pytest.mark.parametrize("missing", ["name", "description", "price", "category", "stock"])
async def test_create_product_required_fields(client, admin, category, missing):
    _, headers = admin
    body = product_body(category)
    del body[missing]
    response = await client.post(PRODUCTS, json=body, headers=headers)
    assert response.status_code == 422
    assert [missing] in [e["loc"] for e in (await response.get_json())["errors"]]


# -- update ---------------------------------------------------------------------------------------


async def test_patch_changes_only_what_is_sent(client, admin, category):
    _, headers = admin
    made = await create(client, headers, category, brand="Oxford Mills")
    response = await client.patch(f"{PRODUCTS}/{made['id']}", json={"price": 3900}, headers=headers)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["price"] == 3900
    unchanged = {k: v for k, v in made.items() if k not in ("price", "updated_at", "variants")}
    assert {k: body[k] for k in unchanged} == unchanged
    assert body["updated_at"] >= made["updated_at"]
    stored = await Product.get(made["id"])
    assert stored.price == 3900 and stored.revision_id is not None


@pytest.mark.parametrize(
    "change, field, expected",
    [
        ({"stock": 0}, "stock_status", "out_of_stock"),
        ({"stock": 4}, "stock_status", "low_stock"),
        ({"stock": 4, "low_stock_threshold": 3}, "stock_status", "in_stock"),
        ({"name": "Renamed Shirt"}, "slug", "oxford-shirt"),  # URLs stay stable
        ({"slug": "renamed-shirt"}, "slug", "renamed-shirt"),
        ({"brand": None}, "brand", None),
        ({"currency": "USD"}, "currency", "usd"),
        ({"attributes": {"color": "green"}}, "attributes", {"color": "green"}),
        ({"images": []}, "images", []),
        ({"description": ""}, "description", ""),
    ],
)
async def test_patch_fields(client, admin, category, change, field, expected):
    _, headers = admin
    made = await create(client, headers, category, brand="Oxford Mills")
    response = await client.patch(f"{PRODUCTS}/{made['id']}", json=change, headers=headers)
    assert response.status_code == 200, await response.get_json()
    assert (await response.get_json())[field] == expected


async def test_patch_keeps_filters_in_step(client, admin, category, make_category):
    _, headers = admin
    shoes = await make_category("Shoes")
    made = await create(client, headers, category, brand="Old", attributes={"color": "red"})
    change = {"brand": "New Brand", "attributes": {"color": "Black"}, "category": "shoes"}
    response = await client.patch(f"{PRODUCTS}/{made['id']}", json=change, headers=headers)
    assert response.status_code == 200
    assert (await response.get_json())["category"]["id"] == str(shoes.id)

    async def found(**params):
        listed = await client.get("/api/v1/products", query_string=params)
        return [i["id"] for i in (await listed.get_json())["items"]]

    assert await found(brand="new brand", color="black", category="shoes") == [made["id"]]
    assert await found(brand="old") == [] and await found(category="shirts") == []


@pytest.mark.parametrize(
    "change, loc",
    [
        ({"price": -5}, ["price"]),
        ({"price": "10"}, ["price"]),
        ({"price": 9.99}, ["price"]),
        ({"stock": -1}, ["stock"]),
        ({"stock": True}, ["stock"]),
        ({"stock": None}, ["stock"]),
        ({"name": None}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"status": "deleted"}, ["status"]),
        ({"slug": "Not A Slug"}, ["slug"]),
        ({"category": "nowhere"}, ["category"]),
        ({"colour": "red"}, ["colour"]),
    ],
)
async def test_patch_validation(client, admin, category, change, loc):
    _, headers = admin
    made = await create(client, headers, category)
    response = await client.patch(f"{PRODUCTS}/{made['id']}", json=change, headers=headers)
    assert response.status_code == 422
    assert loc in [e["loc"] for e in (await response.get_json())["errors"]]
    stored = await Product.get(made["id"])
    assert (stored.price, stored.stock, stored.name) == (4500, 12, "Oxford Shirt")


async def test_patch_slug_taken_is_409(client, admin, category):
    _, headers = admin
    await create(client, headers, category, name="First")
    second = await create(client, headers, category, name="Second")
    response = await client.patch(
        f"{PRODUCTS}/{second['id']}", json={"slug": "first"}, headers=headers
    )
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "slug_taken"


@pytest.mark.parametrize("product_id", [ZERO_ID, "nope"])
async def test_patch_unknown_product_is_404(client, admin, product_id):
    _, headers = admin
    response = await client.patch(f"{PRODUCTS}/{product_id}", json={"price": 1}, headers=headers)
    assert response.status_code == 404


# -- archive --------------------------------------------------------------------------------------


async def test_delete_archives(client, admin, category):
    _, headers = admin
    made = await create(client, headers, category)
    response = await client.delete(f"{PRODUCTS}/{made['id']}", headers=headers)
    assert response.status_code == 204
    assert (await client.get(f"/api/v1/products/{made['id']}")).status_code == 404
    listed = await (await client.get("/api/v1/products")).get_json()
    assert listed["total"] == 0
    stored = await Product.get(made["id"])
    assert stored is not None and stored.status == "archived"  # orders keep pointing at it
    again = await client.delete(f"{PRODUCTS}/{made['id']}", headers=headers)
    assert again.status_code == 204


async def test_archived_product_can_be_restored(client, admin, category):
    _, headers = admin
    made = await create(client, headers, category)
    await client.delete(f"{PRODUCTS}/{made['id']}", headers=headers)
    response = await client.patch(
        f"{PRODUCTS}/{made['id']}", json={"status": "active"}, headers=headers
    )
    assert response.status_code == 200
    assert (await client.get(f"/api/v1/products/{made['slug']}")).status_code == 200


async def test_admin_lists_products_by_status_with_stock(client, admin, customer, category):
    _, headers = admin
    kept = await create(client, headers, category, name="Kept Shirt", stock=7)
    gone = await create(client, headers, category, name="Gone Shirt", low_stock_threshold=2)
    await client.delete(f"{PRODUCTS}/{gone['id']}", headers=headers)

    active = await (await client.get(PRODUCTS, headers=headers)).get_json()
    assert [item["id"] for item in active["items"]] == [kept["id"]]
    assert active["items"][0]["stock"] == 7
    assert active["items"][0]["status"] == "active"
    archived = await (
        await client.get(PRODUCTS, query_string={"status": "archived"}, headers=headers)
    ).get_json()
    assert [item["id"] for item in archived["items"]] == [gone["id"]]
    assert archived["items"][0]["low_stock_threshold"] == 2
    assert archived["items"][0]["status"] == "archived"
    found = await (
        await client.get(
            PRODUCTS, query_string={"status": "archived", "q": "gone"}, headers=headers
        )
    ).get_json()
    assert found["total"] == 1
    missed = await (
        await client.get(PRODUCTS, query_string={"q": "gone"}, headers=headers)
    ).get_json()
    assert missed["total"] == 0
    bad = await client.get(PRODUCTS, query_string={"status": "deleted"}, headers=headers)
    assert bad.status_code == 422

    # One product by id, archived included; customers are refused.
    one = await client.get(f"{PRODUCTS}/{gone['id']}", headers=headers)
    assert one.status_code == 200
    assert (await one.get_json())["status"] == "archived"
    assert (await client.get(f"{PRODUCTS}/{ZERO_ID}", headers=headers)).status_code == 404
    _, customer_headers = customer
    assert (await client.get(PRODUCTS, headers=customer_headers)).status_code == 403
    refused = await client.get(f"{PRODUCTS}/{gone['id']}", headers=customer_headers)
    assert refused.status_code == 403


@pytest.mark.parametrize("product_id", [ZERO_ID, "nope"])
async def test_delete_unknown_product_is_404(client, admin, product_id):
    _, headers = admin
    response = await client.delete(f"{PRODUCTS}/{product_id}", headers=headers)
    assert response.status_code == 404


# -- categories -----------------------------------------------------------------------------------


async def post_category(client, headers, **body):
    response = await client.post(CATEGORIES, json=body, headers=headers)
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()


async def test_create_categories(client, admin):
    _, headers = admin
    root = await post_category(client, headers, name="Home & Garden", description="All of it")
    assert (root["slug"], root["parent_id"], root["ancestors"]) == ("home-garden", None, [])
    assert "_id" not in root and root["description"] == "All of it"
    child = await post_category(client, headers, name="Tools", parent_id=root["id"])
    grandchild = await post_category(
        client, headers, name="Hammers", slug="hammers-and-mallets", parent_id=child["id"]
    )
    assert child["parent_id"] == root["id"] and child["ancestors"] == [root["id"]]
    assert grandchild["slug"] == "hammers-and-mallets"
    assert grandchild["ancestors"] == [root["id"], child["id"]]


async def test_category_slugs(client, admin):
    _, headers = admin
    assert (await post_category(client, headers, name="Tools"))["slug"] == "tools"
    assert (await post_category(client, headers, name="Tools"))["slug"] == "tools-2"
    response = await client.post(
        CATEGORIES, json={"name": "Other", "slug": "tools"}, headers=headers
    )
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "slug_taken"


@pytest.mark.parametrize(
    "body, loc",
    [
        ({}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"name": "A", "slug": "Bad Slug"}, ["slug"]),
        ({"name": "A", "parent_id": "nope"}, ["parent_id"]),
        ({"name": "A", "parent_id": ZERO_ID}, ["parent_id"]),  # no such parent
        ({"name": "A", "colour": "red"}, ["colour"]),
    ],
)
async def test_create_category_validation(client, admin, body, loc):
    _, headers = admin
    response = await client.post(CATEGORIES, json=body, headers=headers)
    assert response.status_code == 422
    assert loc in [e["loc"] for e in (await response.get_json())["errors"]]
    assert await Category.count() == 0


@pytest.fixture
async def tree(make_category, make_product):
    """clothing > shirts > flannel, clothing > pants, shoes; one product in flannel."""
    clothing = await make_category("Clothing")
    shirts = await make_category("Shirts", parent=clothing)
    flannel = await make_category("Flannel", parent=shirts)
    pants = await make_category("Pants", parent=clothing)
    shoes = await make_category("Shoes")
    await make_product("Check Shirt", flannel)
    return {c.slug: c for c in (clothing, shirts, flannel, pants, shoes)}


async def listed(client, category) -> list[str]:
    response = await client.get("/api/v1/products", query_string={"category": category})
    return [i["slug"] for i in (await response.get_json())["items"]]


async def test_rename_and_reslug_category(client, admin, tree):
    _, headers = admin
    response = await client.patch(
        f"{CATEGORIES}/{tree['shirts'].id}",
        json={"name": "Tops", "slug": "tops"},
        headers=headers,
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert (body["name"], body["slug"]) == ("Tops", "tops")
    assert await listed(client, "tops") == ["check-shirt"]
    product = await client.get("/api/v1/products/check-shirt")
    assert (await product.get_json())["category"]["slug"] == "flannel"


async def test_move_category_moves_its_subtree(client, admin, tree):
    _, headers = admin
    shirts, shoes = tree["shirts"], tree["shoes"]
    response = await client.patch(
        f"{CATEGORIES}/{shirts.id}", json={"parent_id": str(shoes.id)}, headers=headers
    )
    assert response.status_code == 200
    assert (await response.get_json())["ancestors"] == [str(shoes.id)]
    flannel = await Category.get(tree["flannel"].id)
    assert flannel.ancestors == [shoes.id, shirts.id]  # the descendant followed
    assert await listed(client, "shoes") == ["check-shirt"]
    assert await listed(client, "clothing") == []
    assert await listed(client, "flannel") == ["check-shirt"]

    # And to the root.
    response = await client.patch(
        f"{CATEGORIES}/{shirts.id}", json={"parent_id": None}, headers=headers
    )
    assert (await response.get_json())["parent_id"] is None
    assert (await Category.get(tree["flannel"].id)).ancestors == [shirts.id]
    assert await listed(client, "shoes") == [] and await listed(client, "shirts") == ["check-shirt"]
    roots = [n["slug"] for n in await (await client.get("/api/v1/categories")).get_json()]
    assert roots == ["clothing", "shirts", "shoes"]


@pytest.mark.parametrize("new_parent", ["shirts", "flannel"])
async def test_moving_under_itself_is_refused(client, admin, tree, new_parent):
    _, headers = admin
    response = await client.patch(
        f"{CATEGORIES}/{tree['shirts'].id}",
        json={"parent_id": str(tree[new_parent].id)},
        headers=headers,
    )
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "category_cycle"
    assert (await Category.get(tree["shirts"].id)).parent_id == tree["clothing"].id


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"slug": "shoes"}, 409, "slug_taken"),
        ({"parent_id": ZERO_ID}, 422, "validation_error"),
        ({"name": None}, 422, "validation_error"),
        ({"ancestors": []}, 422, "validation_error"),
    ],
)
async def test_update_category_errors(client, admin, tree, body, status, code):
    _, headers = admin
    response = await client.patch(f"{CATEGORIES}/{tree['pants'].id}", json=body, headers=headers)
    assert response.status_code == status
    assert (await response.get_json())["code"] == code


@pytest.mark.parametrize("slug", ["clothing", "shirts", "flannel"])
async def test_delete_category_in_use_is_409(client, admin, tree, slug):
    _, headers = admin
    response = await client.delete(f"{CATEGORIES}/{tree[slug].id}", headers=headers)
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "category_in_use"
    assert await Category.get(tree[slug].id) is not None


async def test_delete_category_with_only_archived_products_is_409(client, admin, tree):
    _, headers = admin
    product = await Product.find_one({"slug": "check-shirt"})
    await client.delete(f"{PRODUCTS}/{product.id}", headers=headers)
    response = await client.delete(f"{CATEGORIES}/{tree['flannel'].id}", headers=headers)
    assert response.status_code == 409


async def test_delete_empty_category(client, admin, tree):
    _, headers = admin
    response = await client.delete(f"{CATEGORIES}/{tree['pants'].id}", headers=headers)
    assert response.status_code == 204
    assert await Category.get(tree["pants"].id) is None
    again = await client.delete(f"{CATEGORIES}/{tree['pants'].id}", headers=headers)
    assert again.status_code == 404


async def test_create_without_currency_takes_the_store_currency(client, admin, category):
    body = product_body(category)
    del body["currency"]
    response = await client.post(PRODUCTS, json=body, headers=admin[1])
    assert response.status_code == 201
    assert (await response.get_json())["currency"] == "usd"


@pytest.mark.parametrize("method", ["post", "patch"])
async def test_other_currencies_than_the_stores_are_refused(client, admin, category, method):
    _, headers = admin
    made = await create(client, headers, category)
    if method == "post":
        response = await client.post(
            PRODUCTS, json=product_body(category, currency="eur"), headers=headers
        )
    else:
        response = await client.patch(
            f"{PRODUCTS}/{made['id']}", json={"currency": "eur"}, headers=headers
        )
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "currency_not_supported"
    assert await Product.count() == 1
    assert (await Product.find_one()).currency == "usd"


@pytest.mark.parametrize("settings_overrides", [{"STORE_CURRENCY": "EUR"}])
async def test_a_store_can_sell_in_another_currency(client, admin, category):
    response = await client.post(
        PRODUCTS, json=product_body(category, currency="eur"), headers=admin[1]
    )
    assert response.status_code == 201
    assert (await response.get_json())["currency"] == "eur"
