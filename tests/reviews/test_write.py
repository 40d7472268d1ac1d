"""Writing reviews: verified purchases, one per customer, who may edit and delete, auth."""

from __future__ import annotations

import pytest

from app.reviews.models import Review
from tests.support.reviews import rating_of


async def test_create_answers_the_review(customer, product, review_of):
    _, headers = customer
    body = await review_of(headers, product, rating=5, title="  Great pan ", body="Love it.\n")
    assert set(body) == {
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
    assert body["product_id"] == str(product.id)
    assert (body["rating"], body["title"], body["body"]) == (5, "Great pan", "Love it.")
    assert body["author_name"] == "Test User"
    assert body["verified_purchase"] is False
    assert body["created_at"].endswith("Z")
    stored = await Review.get(body["id"])
    assert stored.user_id == customer[0].id and stored.product_id == product.id


async def test_body_is_optional(customer, product, client):
    _, headers = customer
    response = await client.post(
        f"/api/v1/products/{product.id}/reviews",
        json={"rating": 3, "title": "Fine"},
        headers=headers,
    )
    assert response.status_code == 201
    assert (await response.get_json())["body"] == ""


async def test_verified_when_a_delivered_order_has_the_product(
    customer, product, other_product, make_order, review_of
):
    user, headers = customer
    await make_order(user, other_product, product, status="delivered")
    assert (await review_of(headers, product))["verified_purchase"] is True


@pytest.mark.parametrize(
    "status", ["pending_payment", "paid", "processing", "shipped", "cancelled", "refunded"]
)
async def test_not_verified_until_delivered(customer, product, make_order, review_of, status):
    user, headers = customer
    await make_order(user, product, status=status)
    assert (await review_of(headers, product))["verified_purchase"] is False


async def test_not_verified_by_another_product_or_another_customer(
    customer, create_user, product, other_product, make_order, review_of
):
    user, headers = customer
    someone, _ = await create_user()
    await make_order(user, other_product, status="delivered")
    await make_order(someone, product, status="delivered")
    assert (await review_of(headers, product))["verified_purchase"] is False


async def test_edit_re_evaluates_verified_purchase(
    customer, product, make_order, review_of, client
):
    user, headers = customer
    review = await review_of(headers, product)
    assert review["verified_purchase"] is False
    await make_order(user, product, status="delivered")
    response = await client.patch(
        f"/api/v1/reviews/{review['id']}", json={"title": "Now I own it"}, headers=headers
    )
    assert response.status_code == 200
    assert (await response.get_json())["verified_purchase"] is True


async def test_second_review_of_one_product_is_409(customer, product, review_of, post_review):
    _, headers = customer
    first = await review_of(headers, product, rating=5)
    response = await post_review(headers, product, rating=1, title="Changed my mind")
    assert response.status_code == 409
    problem = await response.get_json()
    assert problem["code"] == "review_exists"
    assert problem["review_id"] == first["id"]
    assert await Review.find({"product_id": product.id}).count() == 1
    assert await rating_of(product) == {"average": 5.0, "count": 1}


async def test_concurrent_duplicates_make_one_review(customer, product, post_review):
    import asyncio

    _, headers = customer
    responses = await asyncio.gather(
        *(post_review(headers, product, rating=r) for r in (1, 2, 3, 4, 5))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409, 409]
    assert await Review.find({"product_id": product.id}).count() == 1
    assert (await rating_of(product))["count"] == 1


async def test_the_same_customer_reviews_different_products(
    customer, product, other_product, review_of
):
    _, headers = customer
    await review_of(headers, product)
    await review_of(headers, other_product)
    assert await Review.find({"user_id": customer[0].id}).count() == 2


async def test_unknown_archived_or_malformed_product_is_404(
    customer, make_product, category, post_review, client
):
    _, headers = customer
    archived = await make_product("Old Pan", category, status="archived")
    for path_id in (archived.id, "0123456789abcdef01234567", "not-an-id"):
        response = await client.post(
            f"/api/v1/products/{path_id}/reviews",
            json={"rating": 4, "title": "x"},
            headers=headers,
        )
        assert response.status_code == 404, path_id
        assert (await response.get_json())["code"] == "not_found"
    assert await Review.find_all().count() == 0


async def test_author_edits_and_rating_follows(customer, product, review_of, client):
    _, headers = customer
    review = await review_of(headers, product, rating=2)
    response = await client.patch(
        f"/api/v1/reviews/{review['id']}",
        json={"rating": 4, "body": "Better after seasoning."},
        headers=headers,
    )
    assert response.status_code == 200
    edited = await response.get_json()
    assert (edited["rating"], edited["title"], edited["body"]) == (
        4,
        review["title"],
        "Better after seasoning.",
    )
    assert edited["updated_at"] >= review["updated_at"]
    assert edited["created_at"] == review["created_at"]
    assert await rating_of(product) == {"average": 4.0, "count": 1}


async def test_another_customer_cannot_see_edit_or_delete(
    customer, create_user, product, review_of, client
):
    _, headers = customer
    review = await review_of(headers, product, rating=5)
    _, stranger = await create_user()
    path = f"/api/v1/reviews/{review['id']}"
    edit = await client.patch(path, json={"rating": 1}, headers=stranger)
    delete = await client.delete(path, headers=stranger)
    assert (edit.status_code, delete.status_code) == (404, 404)
    assert (await edit.get_json())["code"] == "not_found"
    stored = await Review.get(review["id"])
    assert stored.rating == 5
    assert await rating_of(product) == {"average": 5.0, "count": 1}


async def test_admin_can_edit_and_delete_any_review(customer, admin, product, review_of, client):
    _, headers = customer
    _, admin_headers = admin
    review = await review_of(headers, product, rating=1, title="Awful")
    path = f"/api/v1/reviews/{review['id']}"
    edit = await client.patch(path, json={"title": "Not for me"}, headers=admin_headers)
    assert edit.status_code == 200
    edited = await edit.get_json()
    # Still the customer's review: the author's name, not the admin's.
    assert (edited["title"], edited["author_name"]) == ("Not for me", "Test User")
    delete = await client.delete(path, headers=admin_headers)
    assert delete.status_code == 204
    assert await Review.get(review["id"]) is None
    assert await rating_of(product) == {"average": 0.0, "count": 0}


async def test_author_deletes_then_can_review_again(customer, product, review_of, client):
    _, headers = customer
    review = await review_of(headers, product, rating=1)
    path = f"/api/v1/reviews/{review['id']}"
    assert (await client.delete(path, headers=headers)).status_code == 204
    assert (await client.delete(path, headers=headers)).status_code == 404
    assert (await client.patch(path, json={"rating": 2}, headers=headers)).status_code == 404
    await review_of(headers, product, rating=3)
    assert await rating_of(product) == {"average": 3.0, "count": 1}


async def test_reviews_of_an_archived_product_can_still_be_edited_and_deleted(
    customer, product, review_of, client
):
    from app.catalog import products as catalog

    _, headers = customer
    review = await review_of(headers, product, rating=2)
    await catalog.archive_product(product_id=str(product.id))
    path = f"/api/v1/reviews/{review['id']}"
    assert (await client.patch(path, json={"rating": 4}, headers=headers)).status_code == 200
    assert await rating_of(product) == {"average": 4.0, "count": 1}
    assert (await client.delete(path, headers=headers)).status_code == 204
    assert await rating_of(product) == {"average": 0.0, "count": 0}


async def test_empty_edit_changes_nothing(customer, product, review_of, client):
    _, headers = customer
    review = await review_of(headers, product)
    response = await client.patch(f"/api/v1/reviews/{review['id']}", json={}, headers=headers)
    assert response.status_code == 200
    assert await response.get_json() == review


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/products/{product}/reviews", {"rating": 5, "title": "x"}),
        ("PATCH", "/api/v1/reviews/{review}", {"rating": 5}),
        ("DELETE", "/api/v1/reviews/{review}", None),
    ],
)
async def test_writes_need_a_signed_in_user(
    customer, product, review_of, client, method, path, body
):
    _, headers = customer
    review = await review_of(headers, product, rating=2)
    url = path.format(product=product.id, review=review["id"])
    for bad in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await client.open(url, method=method, json=body, headers=bad)
        assert response.status_code == 401, (bad, await response.get_data(as_text=True))
        assert (await response.get_json())["code"] in ("unauthenticated", "invalid_token")
    assert (await Review.get(review["id"])).rating == 2
    assert await Review.find_all().count() == 1


async def test_unknown_or_malformed_review_id_is_404(customer, client):
    _, headers = customer
    for review_id in ("0123456789abcdef01234567", "nope"):
        path = f"/api/v1/reviews/{review_id}"
        assert (await client.patch(path, json={"rating": 3}, headers=headers)).status_code == 404
        assert (await client.delete(path, headers=headers)).status_code == 404
