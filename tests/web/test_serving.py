"""The built web app beside the API (app/web.py), on a tiny fake build: no Node needed."""

import pytest

from app import create_app
from tests.support.settings import make_settings

INDEX = (
    b'<!doctype html><html lang="en"><head><title>Shop</title>'
    b'<script type="module" crossorigin src="/assets/index-AbC123.js"></script></head>'
    b'<body><div id="root"></div></body></html>'
)
SCRIPT = b"console.log('shop');"


@pytest.fixture
def dist(tmp_path):
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "index-AbC123.js").write_bytes(SCRIPT)
    (folder / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "secret.txt").write_text("outside the build")
    return folder


@pytest.fixture
def settings_overrides(dist):
    return {"WEB_DIST_DIR": str(dist)}


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: value
        for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))
    }


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin",
        "/admin/",
        "/admin/orders/64b7f0c2a1b2c3d4e5f60718",
        "/products/merino-crew-t-shirt",
        "/cart",
        "/checkout",
        "/orders/64b7f0c2a1b2c3d4e5f60718?token=abc",
        "/account",
        "/verify-email?token=abc",
        "/reset-password?token=abc",
    ],
)
async def test_pages_and_client_routes_get_index_html(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert await response.get_data() == INDEX
    assert response.headers["Cache-Control"] == "no-cache"


async def test_head_of_a_client_route(client):
    response = await client.head("/products/anything")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"


async def test_hashed_assets_are_immutable(client):
    response = await client.get("/assets/index-AbC123.js")
    assert response.status_code == 200
    assert await response.get_data() == SCRIPT
    assert "javascript" in response.content_type
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_assets_stay_immutable_when_the_browser_sends_cookies(client):
    """A cookie set by another app on this host is no reason to refetch a hashed file."""
    response = await client.get("/assets/index-AbC123.js", headers={"Cookie": "other=app"})
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_root_files_get_a_short_cache(client):
    response = await client.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing-123.js",
        "/assets/../index.html",
        "/assets/%2e%2e/secret.txt",
        "/robots.txt",
        "/secret.txt",
        "/../secret.txt",
        "/products/x.js",
    ],
)
async def test_missing_files_are_a_404_not_the_page(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert b"outside the build" not in await response.get_data()


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/v1",
        "/api/v1/nope",
        "/api/v2/products",
        "/api/v1/products/nope/nope",
        "/docs/anything",
        "/docs-assets/nope.js",
        "/health/x",
        "/ready/x",
        "/openapi.json/x",
        "/media/nope",
        "//products",
        "/products//x",
    ],
)
async def test_server_paths_are_never_the_spa(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    body = await response.get_json()
    assert body["code"] == "not_found"


async def test_the_api_keeps_its_meaning(client):
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/openapi.json")).content_type == "application/json"
    products = await client.get("/api/v1/products")
    assert products.status_code == 200
    assert products.headers["Content-Security-Policy"].startswith("default-src 'none';")
    docs = await client.get("/docs")
    assert docs.status_code == 200 and b"swagger" in (await docs.get_data()).lower()


async def test_wrong_methods_keep_their_answers(client):
    """The fallback lives in the 404 handler: the API's 405s (with Allow) are untouched, and a
    write to an unknown path is a 404, not a 405 from some catch-all rule."""
    response = await client.put("/api/v1/products")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    unknown = await client.post("/api/v1/nope", json={})
    assert (unknown.status_code, unknown.content_type) == (404, "application/problem+json")
    page = await client.post("/products/x", json={})
    assert (page.status_code, page.content_type) == (404, "application/problem+json")


async def test_the_page_csp_allows_only_this_origin(client):
    policy = csp(await client.get("/"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no other origin
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self' data: https: http:"  # admins' image URLs
    assert policy["frame-ancestors"] == "'none'"
    assert "frame-src" not in policy
    assert "stripe" not in (await client.get("/")).headers["Content-Security-Policy"]


async def test_stripe_js_is_allowed_only_with_stripe(dist):
    settings = make_settings(
        WEB_DIST_DIR=str(dist), PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x"
    )
    app = create_app(settings)
    async with app.test_app():
        response = await app.test_client().get("/")
    policy = csp(response)
    assert policy["script-src"] == "'self' https://js.stripe.com https://*.js.stripe.com"
    assert policy["connect-src"] == "'self' https://api.stripe.com"
    assert policy["frame-src"] == (
        "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
    )
    assert policy["style-src"] == "'self'"  # Stripe's frames style themselves
    assert policy["default-src"] == "'none'"


async def test_payment_config_tells_the_spa_the_provider_and_publishable_key(client):
    """GET /api/v1/payments/config (public): the dev provider has no key to give."""
    answer = await client.get("/api/v1/payments/config")
    assert answer.status_code == 200
    assert await answer.get_json() == {"provider": "dev", "publishable_key": None}
    dev_with_key = create_app(make_settings(STRIPE_PUBLISHABLE_KEY="pk_test_x"))
    async with dev_with_key.test_app():
        answer = await dev_with_key.test_client().get("/api/v1/payments/config")
    assert await answer.get_json() == {"provider": "dev", "publishable_key": None}


async def test_payment_config_gives_stripes_publishable_key():
    settings = make_settings(
        PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_1"
    )
    app = create_app(settings)
    async with app.test_app():
        answer = await app.test_client().get("/api/v1/payments/config")
        document = await (await app.test_client().get("/openapi.json")).get_json()
    assert await answer.get_json() == {"provider": "stripe", "publishable_key": "pk_test_1"}
    assert "/api/v1/payments/config" in document["paths"]


async def test_without_a_build_the_page_says_so_and_the_api_serves(tmp_path):
    app = create_app(make_settings(WEB_DIST_DIR=str(tmp_path / "never-built")))
    async with app.test_app():
        client = app.test_client()
        for path in ("/", "/admin", "/products/x"):
            page = await client.get(path)
            assert page.status_code == 503
            assert page.content_type == "text/html; charset=utf-8"
            assert b"The web app is not built" in await page.get_data()
            assert b"Node.js 20+" in await page.get_data()
            assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert (await client.get("/api/v1/categories")).status_code == 200
        missing = await client.get("/api/v1/nope")
        assert (missing.status_code, missing.content_type) == (404, "application/problem+json")


async def test_the_web_routes_are_not_in_the_openapi_document(client):
    paths = (await (await client.get("/openapi.json")).get_json())["paths"]
    assert all(path.startswith("/api/") or path in ("/health", "/ready") for path in paths), [
        path for path in paths if not path.startswith("/api/")
    ]
