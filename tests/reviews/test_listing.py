"""The public list of a product's reviews: order, pagination, author names only, indexes."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from app.reviews.models import Review
from app.users import service as users
from tests.secantus import SORTS_IN_MEMORY


@pytest.fixture
async def reviews(create_user, product):
    """Seven reviews written an hour apart (newest last), ratings with ties."""
    ratings = [3, 5, 1, 5, 2, 3, 4]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    created = []
    for n, rating in enumerate(ratings):
        user, _ = await create_user(name=f"Reviewer {n}")
        review = Review(
            product_id=product.id,
            user_id=user.id,
            rating=rating,
            title=f"Review {n}",
            body="",
            created_at=start + timedelta(hours=n),
            updated_at=start + timedelta(hours=n),
        )
        await review.insert()
        created.append(review)
    return created


async def listing(client, product, query: str = "", headers=None) -> dict:
    response = await client.get(f"/api/v1/products/{product.id}/reviews{query}", headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


def titles(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


async def test_public_read_without_auth(client, product, reviews):
    page = await listing(client, product)
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (7, 1, 20, 1)


async def test_newest_first_by_default(client, product, reviews):
    expected = [f"Review {n}" for n in reversed(range(7))]
    assert titles(await listing(client, product)) == expected
    assert titles(await listing(client, product, "?sort=-created_at")) == expected


async def test_sort_by_rating_newest_first_among_equals(client, product, reviews):
    # ratings by review number: 0:3 1:5 2:1 3:5 4:2 5:3 6:4
    best = titles(await listing(client, product, "?sort=-rating"))
    assert best == [f"Review {n}" for n in (3, 1, 6, 5, 0, 4, 2)]
    worst = titles(await listing(client, product, "?sort=rating"))
    assert worst == [f"Review {n}" for n in (2, 4, 5, 0, 6, 3, 1)]


@pytest.mark.parametrize("sort", ["-created_at", "-rating", "rating"])
async def test_pages_cover_every_review_once(client, product, reviews, sort):
    seen = []
    for number in (1, 2, 3):
        page = await listing(client, product, f"?sort={sort}&per_page=3&page={number}")
        assert (page["total"], page["pages"], page["per_page"]) == (7, 3, 3)
        seen += titles(page)
    assert len(seen) == 7 and set(seen) == {f"Review {n}" for n in range(7)}
    whole = titles(await listing(client, product, f"?sort={sort}&per_page=100"))
    assert seen == whole
    beyond = await listing(client, product, f"?sort={sort}&per_page=3&page=4")
    assert beyond["items"] == [] and beyond["total"] == 7


async def test_items_show_the_author_name_and_nothing_else_about_them(
    client, product, reviews, customer
):
    page = await listing(client, product, headers=customer[1])
    item = page["items"][0]
    assert set(item) == {
        "id",
        "product_id",
        "rating",
        "title",
        "body",
        "verified_purchase",
        "author_name",
        "created_at",
        "updated_at",
    }
    assert item["author_name"] == "Reviewer 6"
    text = str(page)
    for review in reviews:
        assert str(review.user_id) not in text
    assert "@example.com" not in text


async def test_author_names_come_in_one_query(client, product, reviews, monkeypatch):
    calls = []
    original = users.display_names

    async def counting(**kwargs):
        calls.append(list(kwargs["user_ids"]))
        return await original(**kwargs)

    monkeypatch.setattr(users, "display_names", counting)
    page = await listing(client, product, "?per_page=5")
    assert len(calls) == 1 and len(calls[0]) == 5
    assert [item["author_name"] for item in page["items"]] == [
        f"Reviewer {n}" for n in (6, 5, 4, 3, 2)
    ]


async def test_a_vanished_author_is_a_former_customer(client, product, reviews):
    from app.auth.models import User

    await User.find_one({"_id": reviews[-1].user_id}).delete()
    page = await listing(client, product)
    assert page["items"][0]["author_name"] == "Former customer"


async def test_other_products_reviews_are_not_listed(client, product, other_product, reviews):
    page = await listing(client, other_product)
    assert page["items"] == [] and page["total"] == 0 and page["pages"] == 0


async def test_unknown_or_archived_product_is_404(client, make_product, category):
    archived = await make_product("Gone Pan", category, status="archived")
    for path_id in (archived.id, "0123456789abcdef01234567", "not-an-id"):
        response = await client.get(f"/api/v1/products/{path_id}/reviews")
        assert response.status_code == 404
        assert (await response.get_json())["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    ["?sort=rating_desc", "?sort=created_at", "?per_page=101", "?page=0", "?per_page=x", "?q=1"],
)
async def test_bad_query_is_422(client, product, query):
    response = await client.get(f"/api/v1/products/{product.id}/reviews{query}")
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "validation_error"


async def test_declared_indexes_are_created(app):
    indexes = await Review.get_pymongo_collection().index_information()
    assert {"user_product", "product_newest", "product_rating_desc", "product_rating_asc"} <= set(
        indexes
    )
    assert indexes["user_product"].get("unique")


@pytest.mark.parametrize("sort", ["-created_at", "-rating", "rating"])
async def test_each_sort_has_an_index_in_its_exact_order(app, sort):
    """`product_id` then the sort's keys, forwards or backwards: the index alone yields the
    order (Beanie would silently skip an index that differs from another only in direction)."""
    from app.reviews.models import SORTS

    wanted = [("product_id", 1), *SORTS[sort]]
    backwards = [("product_id", 1), *((key, -direction) for key, direction in SORTS[sort])]
    indexes = await Review.get_pymongo_collection().index_information()
    keys = [[(key, int(direction)) for key, direction in info["key"]] for info in indexes.values()]
    assert wanted in keys or backwards in keys, keys


@pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server")
@pytest.mark.parametrize("sort", ["-created_at", "-rating", "rating"])
async def test_each_sort_uses_an_index_on_a_server(product, reviews, sort):
    from app.reviews.models import SORTS

    cursor = Review.get_pymongo_collection().find({"product_id": product.id}, sort=SORTS[sort])
    plan = str((await cursor.explain())["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in plan and "COLLSCAN" not in plan, plan


@pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="explain needs a MongoDB server")
@pytest.mark.secantus_bug(SORTS_IN_MEMORY)
@pytest.mark.parametrize("sort", ["-created_at", "-rating", "rating"])
async def test_each_sort_needs_no_blocking_sort_on_a_server(product, reviews, sort):
    """The index delivers each order by itself: no in-memory SORT stage in the plan."""
    from app.reviews.models import SORTS

    cursor = Review.get_pymongo_collection().find({"product_id": product.id}, sort=SORTS[sort])
    plan = str((await cursor.explain())["queryPlanner"]["winningPlan"])
    assert "'stage': 'SORT'" not in plan, plan
