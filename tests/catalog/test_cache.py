"""HTTP caching of public catalog reads: ETags, 304s, Cache-Control, and the per-worker
response cache keyed by the catalog version. Correctness first: every change is visible on the
next read, through the response cache, through a revalidating client, and in another worker.
"""

import pytest

from app.catalog.cache import CACHE_CONTROL, bump_catalog_version, current_version
from app.catalog.models import CatalogVersion, Product

PRODUCTS = "/api/v1/products"
READS = [PRODUCTS, f"{PRODUCTS}?sort=price&in_stock=true", "/api/v1/categories"]


@pytest.fixture
async def product(make_category, make_product):
    category = await make_category("Shirts")
    await make_product("Blue Shirt", category, price=2500, stock=40)
    return await make_product("Red Shirt", category, price=3000, stock=40)


async def _get(client, path, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    response = await client.get(path, headers=headers)
    return response, (await response.get_json() if response.status_code == 200 else None)


def _price(body, slug):
    items = body["items"] if "items" in body else [body]
    return next(item["price"] for item in items if item["slug"] == slug)


@pytest.mark.parametrize("path", [*READS, f"{PRODUCTS}/red-shirt"])
async def test_reads_carry_etag_and_revalidate_to_304(client, product, path):
    response, body = await _get(client, path)
    assert response.status_code == 200 and body
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert response.headers["Cache-Control"] == CACHE_CONTROL
    for validator in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again, _ = await _get(client, path, validator)
        assert again.status_code == 304, validator
        assert await again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == CACHE_CONTROL
    stale, body_again = await _get(client, path, '"not-it"')
    assert stale.status_code == 200 and body_again == body


async def test_errors_are_not_cached_and_carry_no_etag(client, product):
    response = await client.get(f"{PRODUCTS}/no-such-product")
    assert response.status_code == 404 and "ETag" not in response.headers
    invalid = await client.get(f"{PRODUCTS}?per_page=1000")
    assert invalid.status_code == 422 and "ETag" not in invalid.headers


async def test_price_change_is_visible_on_the_next_read_everywhere(client, admin, product):
    _, headers = admin
    paths = [PRODUCTS, f"{PRODUCTS}/red-shirt", f"{PRODUCTS}/{product.id}"]
    etags = {}
    for path in paths:  # warm the cache, keep the validators a browser or CDN would keep
        response, body = await _get(client, path)
        etags[path] = response.headers["ETag"]
        assert _price(body, "red-shirt") == 3000
    changed = await client.patch(
        f"/api/v1/admin/products/{product.id}", json={"price": 3500}, headers=headers
    )
    assert changed.status_code == 200
    for path in paths:
        response, body = await _get(client, path, etags[path])
        assert response.status_code == 200, path  # the old ETag no longer matches
        assert _price(body, "red-shirt") == 3500
        assert response.headers["ETag"] != etags[path]


async def test_stock_change_is_visible_on_the_next_read(client, admin, product):
    _, headers = admin
    page = f"{PRODUCTS}/red-shirt"
    in_stock = f"{PRODUCTS}?in_stock=true"
    response, body = await _get(client, page)
    assert body["stock"] == 40
    _, listed = await _get(client, in_stock)
    assert "red-shirt" in [item["slug"] for item in listed["items"]]

    # 40 -> 39: the same stock status, so list pages stay cached; the product page follows.
    version = await current_version()
    patch = f"/api/v1/admin/products/{product.id}"
    assert (await client.patch(patch, json={"stock": 39}, headers=headers)).status_code == 200
    _, body = await _get(client, page, response.headers["ETag"])
    assert body["stock"] == 39

    # 39 -> 0: out of stock, so every list page changes too.
    assert (await client.patch(patch, json={"stock": 0}, headers=headers)).status_code == 200
    _, body = await _get(client, page)
    assert body["stock"] == 0 and body["stock_status"] == "out_of_stock"
    _, listed = await _get(client, in_stock)
    assert "red-shirt" not in [item["slug"] for item in listed["items"]]
    assert (await current_version())[1] > version[1]


async def test_stock_taken_behind_the_catalogs_back_still_shows_on_the_product_page(
    client, product
):
    """Inventory moves stock with its own guarded update (and sets updated_at): the product
    page does not depend on anyone remembering to bump the version for that."""
    from app.inventory.stock import take_stock

    _, body = await _get(client, f"{PRODUCTS}/red-shirt")
    assert body["stock"] == 40
    assert await take_stock(product_id=product.id, quantity=3) is not None
    _, body = await _get(client, f"{PRODUCTS}/red-shirt")
    assert body["stock"] == 37


async def test_archived_product_leaves_every_read_at_once(client, admin, product):
    _, headers = admin
    await _get(client, f"{PRODUCTS}/red-shirt")
    await _get(client, PRODUCTS)
    deleted = await client.delete(f"/api/v1/admin/products/{product.id}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{PRODUCTS}/red-shirt")).status_code == 404
    _, listed = await _get(client, PRODUCTS)
    assert [item["slug"] for item in listed["items"]] == ["blue-shirt"]


async def test_category_rename_reaches_the_tree_lists_and_product_pages(client, admin, product):
    _, headers = admin
    for path in ["/api/v1/categories", PRODUCTS, f"{PRODUCTS}/red-shirt"]:
        await _get(client, path)
    renamed = await client.patch(
        f"/api/v1/admin/categories/{product.category_id}", json={"name": "Tops"}, headers=headers
    )
    assert renamed.status_code == 200
    _, tree = await _get(client, "/api/v1/categories")
    assert tree[0]["name"] == "Tops"
    _, listed = await _get(client, PRODUCTS)
    assert {item["category"]["name"] for item in listed["items"]} == {"Tops"}
    _, page = await _get(client, f"{PRODUCTS}/red-shirt")
    assert page["category"]["name"] == "Tops"


async def test_the_response_cache_really_serves_and_the_version_really_invalidates(client, product):
    """A change written straight to the database, without the hook, is not seen by cached
    list pages (the cache is real); bumping the version, as any worker would after its
    write, makes it visible on the next read."""
    _, before = await _get(client, PRODUCTS)
    await Product.get_pymongo_collection().update_one(
        {"_id": product.id}, {"$set": {"name": "Renamed Shirt"}}
    )
    _, cached = await _get(client, PRODUCTS)
    assert cached == before
    await bump_catalog_version()
    _, fresh = await _get(client, PRODUCTS)
    assert "Renamed Shirt" in [item["name"] for item in fresh["items"]]


async def test_a_change_through_one_worker_reaches_another(app, client, admin, product):
    """Two workers are two processes with their own response caches and one database:
    swapping the cache in and out of the app plays both."""
    _, headers = admin
    worker_a, worker_b = {}, {}

    async def as_worker(cache, call):
        app.extensions.pop("catalog_cache", None)
        if cache:
            app.extensions["catalog_cache"] = cache["cache"]
        result = await call()
        cache["cache"] = app.extensions["catalog_cache"]
        return result

    for worker in (worker_a, worker_b):
        _, body = await as_worker(worker, lambda: _get(client, PRODUCTS))
        assert _price(body, "red-shirt") == 3000
    patch = f"/api/v1/admin/products/{product.id}"
    changed = await as_worker(
        worker_a, lambda: client.patch(patch, json={"price": 990}, headers=headers)
    )
    assert changed.status_code == 200
    _, body = await as_worker(worker_b, lambda: _get(client, PRODUCTS))
    assert _price(body, "red-shirt") == 990


async def test_a_reset_database_starts_a_new_epoch(client, product):
    epoch, _ = await current_version()
    await _get(client, PRODUCTS)
    await CatalogVersion.get_pymongo_collection().delete_many({})
    await Product.get_pymongo_collection().delete_many({})
    _, body = await _get(client, PRODUCTS)
    assert body["items"] == [] and (await current_version())[0] != epoch


@pytest.mark.parametrize("settings_overrides", [{"CATALOG_CACHE_MB": 0}])
async def test_without_the_response_cache_etags_still_work(client, admin, product):
    _, headers = admin
    response, _ = await _get(client, PRODUCTS)
    assert (await _get(client, PRODUCTS, response.headers["ETag"]))[0].status_code == 304
    patch = f"/api/v1/admin/products/{product.id}"
    assert (await client.patch(patch, json={"price": 990}, headers=headers)).status_code == 200
    again, body = await _get(client, PRODUCTS, response.headers["ETag"])
    assert again.status_code == 200 and _price(body, "red-shirt") == 990


async def test_a_review_reaches_the_cached_list_pages(client, customer, product):
    _, listed = await _get(client, f"{PRODUCTS}?sort=-rating")
    assert listed["items"][0]["rating"]["count"] == 0

    review = await client.post(
        f"{PRODUCTS}/{product.id}/reviews",
        json={"rating": 5, "title": "Lovely"},
        headers=customer[1],
    )
    assert review.status_code == 201

    _, listed = await _get(client, f"{PRODUCTS}?sort=-rating")
    assert listed["items"][0]["slug"] == "red-shirt"
    assert listed["items"][0]["rating"] == {"average": 5.0, "count": 1}


async def test_a_checkout_that_sells_out_reaches_the_cached_list_pages(client, customer, product):
    _, headers = customer
    in_stock = f"{PRODUCTS}?in_stock=true"
    _, listed = await _get(client, in_stock)
    assert "red-shirt" in [item["slug"] for item in listed["items"]]
    added = await client.post(
        "/api/v1/cart/items", json={"product_id": str(product.id), "quantity": 40}, headers=headers
    )
    assert added.status_code == 200
    address = {"line1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"}
    placed = await client.post(
        "/api/v1/orders", json={"shipping_address": address}, headers=headers
    )
    assert placed.status_code == 201

    _, listed = await _get(client, in_stock)
    assert "red-shirt" not in [item["slug"] for item in listed["items"]]
    order_id = (await placed.get_json())["id"]
    assert (
        await client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
    ).status_code == 200
    _, listed = await _get(client, in_stock)
    assert "red-shirt" in [item["slug"] for item in listed["items"]]
