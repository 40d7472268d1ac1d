"""Review input: strict ratings, lengths, plain one-line titles, plain-text bodies."""

from __future__ import annotations

import pytest

from app.reviews.models import Review

VALID = {"rating": 4, "title": "Solid", "body": "Works well."}


async def post(client, headers, product, body):
    return await client.post(f"/api/v1/products/{product.id}/reviews", json=body, headers=headers)


def loc_of(problem: dict) -> list:
    return [error["loc"] for error in problem["errors"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": -1}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": True}, "rating"),
        ({"rating": 5.5}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({"rating": 5.0}, "rating"),
        ({"rating": None}, "rating"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": 7}, "title"),
        ({"title": None}, "title"),
        ({"body": "x" * 5001}, "body"),
        ({"body": ["text"]}, "body"),
        ({"extra": "field"}, "extra"),
    ],
)
async def test_bad_fields_are_422_and_nothing_is_written(customer, product, client, changes, field):
    _, headers = customer
    response = await post(client, headers, product, {**VALID, **changes})
    assert response.status_code == 422, changes
    problem = await response.get_json()
    assert problem["code"] == "validation_error"
    assert [field] in loc_of(problem)
    assert await Review.find_all().count() == 0


@pytest.mark.parametrize("missing", ["rating", "title"])
async def test_rating_and_title_are_required(customer, product, client, missing):
    _, headers = customer
    body = {k: v for k, v in VALID.items() if k != missing}
    response = await post(client, headers, product, body)
    assert response.status_code == 422
    assert [missing] in loc_of(await response.get_json())


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
async def test_every_star_is_accepted(create_user, product, client, rating):
    _, headers = await create_user()
    response = await post(client, headers, product, {**VALID, "rating": rating})
    assert response.status_code == 201


async def test_lengths_at_the_limits_are_accepted(customer, product, client):
    _, headers = customer
    # Counted in characters, not bytes: 120 accented letters and 5000 emoji fit.
    body = {"rating": 5, "title": "é" * 120, "body": "🍳" * 5000}
    response = await post(client, headers, product, body)
    assert response.status_code == 201
    created = await response.get_json()
    assert (len(created["title"]), len(created["body"])) == (120, 5000)


async def test_lengths_count_normalised_characters(customer, product, client):
    _, headers = customer
    # "e" + combining acute is one character once NFC-normalised.
    response = await post(client, headers, product, {**VALID, "title": "e\u0301" * 120})
    assert response.status_code == 201
    assert (await response.get_json())["title"] == "é" * 120


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("title", "<b>Great</b>"),
        ("title", "Great <script>alert(1)</script>"),
        ("body", "<img src=x onerror=alert(1)>"),
        ("body", "fine</p>"),
        ("body", "hidden <!-- comment -->"),
        ("body", "<!DOCTYPE html>"),
        ("body", "<?xml version='1.0'?>"),
        ("body", "<scr<script>ipt>alert(1)</script>"),
        ("body", "<a href='javascript:alert(1)'>click</a>"),
        ("body", "<svg/onload=alert(1)>"),
    ],
)
async def test_markup_is_refused(customer, product, client, field, text):
    _, headers = customer
    response = await post(client, headers, product, {**VALID, field: text})
    assert response.status_code == 422, text
    problem = await response.get_json()
    assert [field] in loc_of(problem)
    assert "plain text" in " ".join(error["msg"] for error in problem["errors"])
    assert await Review.find_all().count() == 0


@pytest.mark.parametrize(
    "text",
    [
        "5 < 6 and 7 > 3",
        "I <3 this pan",
        "a <= b",
        "Tom & Jerry &lt;tag&gt; &amp;",
        "Pay < $40 >:(",
        "Ünïcödé ✓ 👍🏽 👨‍👩‍👧",  # emoji with a zero-width joiner stays valid
    ],
)
async def test_plain_text_with_angle_brackets_and_ampersands_is_kept(
    create_user, product, client, text
):
    _, headers = await create_user()
    response = await post(client, headers, product, {**VALID, "title": text, "body": text})
    assert response.status_code == 201, await response.get_data(as_text=True)
    created = await response.get_json()
    assert (created["title"], created["body"]) == (text, text)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("title", "two\nlines"),
        ("title", "two\r\nlines"),
        ("title", "tab\there"),
        ("title", "line\u2028separator"),
        ("title", "bell\x07"),
        ("title", "nul\x00"),
        ("body", "escape \x1b[31mred"),
        ("body", "nul\x00byte"),
        ("body", "del\x7f"),
        ("body", "c1\x85control"),
        ("body", "rtl \u202eoverride"),
        ("title", "isolate \u2066x\u2069"),
        ("body", "lone \ud800 surrogate"),
    ],
)
async def test_control_characters_are_refused(customer, product, client, field, text):
    _, headers = customer
    response = await post(client, headers, product, {**VALID, field: text})
    assert response.status_code == 422, repr(text)
    assert [field] in loc_of(await response.get_json())
    assert await Review.find_all().count() == 0


async def test_body_keeps_newlines_and_tabs_and_unifies_line_ends(customer, product, client):
    _, headers = customer
    text = "First line\r\nSecond\tline\rThird"
    response = await post(client, headers, product, {**VALID, "body": text})
    assert response.status_code == 201
    assert (await response.get_json())["body"] == "First line\nSecond\tline\nThird"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": "3"}, "rating"),
        ({"rating": None}, "rating"),
        ({"title": None}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"body": None}, "body"),
        ({"body": "<i>x</i>"}, "body"),
        ({"user_id": "0123456789abcdef01234567"}, "user_id"),
        ({"verified_purchase": True}, "verified_purchase"),
    ],
)
async def test_bad_edits_are_422_and_change_nothing(
    customer, product, client, review_of, changes, field
):
    _, headers = customer
    review = await review_of(headers, product, rating=2)
    response = await client.patch(f"/api/v1/reviews/{review['id']}", json=changes, headers=headers)
    assert response.status_code == 422, changes
    assert [field] in loc_of(await response.get_json())
    stored = await Review.get(review["id"])
    assert (stored.rating, stored.title, stored.body) == (2, review["title"], review["body"])


async def test_malformed_json_is_400(customer, product, client):
    _, headers = customer
    response = await client.post(
        f"/api/v1/products/{product.id}/reviews",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert (await response.get_json())["code"] == "malformed_json"
