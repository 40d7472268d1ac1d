"""The demo catalog's pictures are drawn and served by the app, so they show offline."""

from xml.etree import ElementTree

import pytest

from app import create_app
from app.catalog.demo import PRODUCTS, VARIANT_PRODUCTS
from app.catalog.schemas import ImageIn
from app.inventory.demo import seed_demo_catalog
from tests.support.settings import empty_real_database, make_settings

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def demo(app):
    return await seed_demo_catalog()


async def all_products(client) -> list[dict]:
    response = await client.get("/api/v1/products", query_string={"per_page": 100})
    return (await response.get_json())["items"]


async def test_every_demo_image_is_served_by_the_app(client, settings, demo):
    products = await all_products(client)
    assert len(products) == len(PRODUCTS) + len(VARIANT_PRODUCTS)
    bodies = set()
    for product in products:
        assert len(product["images"]) == 2
        for image in product["images"]:
            assert image["url"].startswith(f"{settings.public_url}/media/demo/{product['slug']}/")
            response = await client.get(image["url"].removeprefix(settings.public_url))
            assert response.status_code == 200, image["url"]
            assert response.content_type == "image/svg+xml"
            assert response.headers["Cache-Control"] == "public, max-age=86400"
            # Opened on its own, an SVG is a document: the deny-everything policy stays.
            assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
            body = await response.get_data()
            root = ElementTree.fromstring(body)  # well-formed XML
            assert root.tag == f"{SVG}svg"
            assert product["name"].split()[0] in root.find(f"{SVG}title").text
            assert b"<script" not in body and b"href" not in body
            bodies.add(body)
    assert len(bodies) == 2 * len(products)  # every product and view looks different


async def test_the_art_is_deterministic(client, demo):
    first = await (await client.get("/media/demo/cast-iron-skillet/1.svg")).get_data()
    again = await (await client.get("/media/demo/cast-iron-skillet/1.svg")).get_data()
    assert first == again


@pytest.mark.parametrize(
    "path",
    [
        "/media/demo/no-such-product/1.svg",
        "/media/demo/cast-iron-skillet/3.svg",
        "/media/demo/cast-iron-skillet/0.svg",
        "/media/demo/cast-iron-skillet/x.svg",
        "/media/demo/cast-iron-skillet.svg",
    ],
)
async def test_unknown_images_are_a_problem_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


async def test_the_urls_pass_the_admins_image_validator(client, demo, create_user):
    """An admin who edits a demo product sends its images back unchanged: they must validate."""
    _, headers = await create_user(email="boss@example.com", role="admin")
    product = (await all_products(client))[0]
    for image in product["images"]:
        ImageIn.model_validate(image)
    response = await client.patch(
        f"/api/v1/admin/products/{product['id']}",
        json={"images": product["images"]},
        headers=headers,
    )
    assert response.status_code == 200, await response.get_json()
    assert (await response.get_json())["images"] == product["images"]


async def test_the_urls_follow_the_public_address():
    settings = make_settings(PUBLIC_URL="https://shop.example")
    empty_real_database(settings)
    app = create_app(settings)
    async with app.test_app(), app.app_context():
        await seed_demo_catalog()
        response = await app.test_client().get("/api/v1/products/cast-iron-skillet")
        images = (await response.get_json())["images"]
        from app.core import db

        await db.drop_all_collections()
    assert [image["url"] for image in images] == [
        "https://shop.example/media/demo/cast-iron-skillet/1.svg",
        "https://shop.example/media/demo/cast-iron-skillet/2.svg",
    ]
