"""The product's rating {average, count} is exact after every review change, concurrent ones
included; the catalog serves it."""

from __future__ import annotations

import asyncio
import random

import pytest

from app.reviews.service import average_of
from tests.support.reviews import rating_of


def expected(ratings) -> dict:
    ratings = list(ratings)
    return {"average": average_of(sum(ratings), len(ratings)), "count": len(ratings)}


@pytest.mark.parametrize(
    ("total", "count", "average"),
    [
        (0, 0, 0.0),
        (5, 1, 5.0),
        (9, 2, 4.5),
        (13, 3, 4.33),  # 4.333...
        (14, 3, 4.67),  # 4.666...
        (33, 8, 4.13),  # 4.125: half up, not to even
        (1, 8, 0.13),  # 0.125
        (7, 3, 2.33),
    ],
)
def test_average_is_rounded_half_up_to_two_decimals(total, count, average):
    assert average_of(total, count) == average


async def test_rating_after_create_edit_and_delete(create_user, product, review_of, client):
    authors = [await create_user() for _ in range(3)]
    reviews = []
    for (_, headers), rating in zip(authors, (5, 4, 4), strict=True):
        reviews.append(await review_of(headers, product, rating=rating))
    assert await rating_of(product) == {"average": 4.33, "count": 3}

    response = await client.patch(
        f"/api/v1/reviews/{reviews[0]['id']}", json={"rating": 1}, headers=authors[0][1]
    )
    assert response.status_code == 200
    assert await rating_of(product) == {"average": 3.0, "count": 3}

    response = await client.delete(f"/api/v1/reviews/{reviews[1]['id']}", headers=authors[1][1])
    assert response.status_code == 204
    assert await rating_of(product) == {"average": 2.5, "count": 2}

    # What the catalog serves, on the product page and in the list.
    page = await (await client.get(f"/api/v1/products/{product.id}")).get_json()
    assert page["rating"] == {"average": 2.5, "count": 2}
    listing = await (await client.get("/api/v1/products")).get_json()
    assert listing["items"][0]["rating"] == {"average": 2.5, "count": 2}


async def test_title_only_edit_keeps_the_rating(customer, product, review_of, client):
    _, headers = customer
    review = await review_of(headers, product, rating=3)
    response = await client.patch(
        f"/api/v1/reviews/{review['id']}", json={"title": "Retitled"}, headers=headers
    )
    assert response.status_code == 200
    assert await rating_of(product) == {"average": 3.0, "count": 1}


async def test_other_products_are_untouched(customer, product, other_product, review_of):
    _, headers = customer
    await review_of(headers, product, rating=1)
    assert await rating_of(other_product) == {"average": 0.0, "count": 0}


@pytest.fixture(params=["transactions", "no transactions"])
def transaction_mode(app, request):
    """Both paths: one transaction per review change, and a server without transactions
    (where the rating's version guard alone keeps it exact)."""
    if request.param == "no transactions":
        request.getfixturevalue("no_transactions")
    return request.param


@pytest.fixture
def latency(monkeypatch):
    """A network's uneven round trip before every embedded-engine call made outside a
    transaction. The engine otherwise answers without yielding to the event loop, so
    concurrent requests would never interleave between reading the reviews and writing the
    rating, and a rating kept without a guard would pass here and drift on a real server.
    (Against a real server, MONGODB_URI set, this patches an engine that is not in use.)"""
    from app.core.memory import Gate

    rng = random.Random(3)
    original = Gate.acquire

    async def slow_acquire(self):
        await asyncio.sleep(rng.uniform(0, 0.003))
        await original(self)

    monkeypatch.setattr(Gate, "acquire", slow_acquire)


async def test_concurrent_reviews_give_the_exact_rating(
    transaction_mode, latency, create_user, product, post_review
):
    rng = random.Random(7)
    authors = [await create_user() for _ in range(24)]
    ratings = [rng.randint(1, 5) for _ in authors]
    responses = await asyncio.gather(
        *(
            post_review(headers, product, rating=rating)
            for (_, headers), rating in zip(authors, ratings, strict=True)
        )
    )
    assert [response.status_code for response in responses] == [201] * len(authors)
    assert await rating_of(product) == expected(ratings)


async def test_concurrent_edits_and_deletes_give_the_exact_rating(
    transaction_mode, latency, create_user, product, review_of, client
):
    rng = random.Random(11)
    authors = [await create_user() for _ in range(18)]
    reviews = [
        await review_of(headers, product, rating=rng.randint(1, 5)) for _, headers in authors
    ]
    final: dict[str, int] = {}
    calls = []
    for (_, headers), review in zip(authors, reviews, strict=True):
        path = f"/api/v1/reviews/{review['id']}"
        action = rng.choice(["edit", "delete", "keep"])
        if action == "edit":
            final[review["id"]] = rng.randint(1, 5)
            calls.append(client.patch(path, json={"rating": final[review["id"]]}, headers=headers))
        elif action == "delete":
            calls.append(client.delete(path, headers=headers))
        else:
            final[review["id"]] = review["rating"]
    # New reviewers join in at the same time.
    newcomers = [await create_user() for _ in range(6)]
    new_ratings = [rng.randint(1, 5) for _ in newcomers]
    for (_, headers), rating in zip(newcomers, new_ratings, strict=True):
        calls.append(
            client.post(
                f"/api/v1/products/{product.id}/reviews",
                json={"rating": rating, "title": "Late to the party"},
                headers=headers,
            )
        )
    responses = await asyncio.gather(*calls)
    assert all(response.status_code in (200, 201, 204) for response in responses)
    assert await rating_of(product) == expected([*final.values(), *new_ratings])


@pytest.mark.parametrize("action", ["create", "edit", "delete"])
async def test_a_rating_computed_before_another_change_is_never_stored(
    no_transactions, create_user, product, review_of, post_review, client, monkeypatch, action
):
    """The race a guard exists for, played out in order: A reads the reviews, B writes a review
    and the rating, then A's (stale) rating arrives. Without transactions only the rating's
    version stops A; A then recomputes. (In a transaction A's write would conflict instead.)"""
    from app.catalog import ratings as catalog

    (_, a_headers), (_, b_headers) = await create_user(), await create_user()
    ratings = {"create": None, "edit": 2, "delete": 2}
    existing = await review_of(a_headers, product, rating=2) if ratings[action] else None

    original = catalog.set_rating
    a_has_read, b_is_done = asyncio.Event(), asyncio.Event()

    async def held_once(**kwargs):
        if not a_has_read.is_set():  # A's first rating write: hold it until B is through
            a_has_read.set()
            await b_is_done.wait()
        return await original(**kwargs)

    monkeypatch.setattr(catalog, "set_rating", held_once)
    if action == "create":
        a_call = post_review(a_headers, product, rating=1)
        expected_ratings = [1, 5]
    elif action == "edit":
        a_call = client.patch(
            f"/api/v1/reviews/{existing['id']}", json={"rating": 1}, headers=a_headers
        )
        expected_ratings = [1, 5]
    else:
        a_call = client.delete(f"/api/v1/reviews/{existing['id']}", headers=a_headers)
        expected_ratings = [5]
    a_task = asyncio.ensure_future(a_call)
    await asyncio.wait_for(a_has_read.wait(), timeout=10)
    b_response = await post_review(b_headers, product, rating=5)
    b_is_done.set()
    a_response = await asyncio.wait_for(a_task, timeout=10)
    assert b_response.status_code == 201
    assert a_response.status_code in (200, 201, 204)
    assert await rating_of(product) == expected(expected_ratings)
