"""`?q=`: the query builder for both engines, and search through the API on this engine."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest
from pymongo.errors import OperationFailure
from quart import current_app

from app.catalog import search
from app.catalog.models import Product
from app.core import db

URL = "/api/v1/products"
PRICE = [("price", 1), ("_id", 1)]


@pytest.mark.parametrize(
    "q, terms",
    [
        ("Shoe", ["shoe"]),
        ("  trail   RUNNING shoe ", ["trail", "running", "shoe"]),
        ('"red shirt" -blue', ["red", "shirt", "blue"]),  # no phrase/negation syntax
        ("shoe shoe SHOE", ["shoe"]),
        ("a b c", []),  # one-letter words are noise
        ("the shoes and the socks", ["shoes", "socks"]),  # stop words, as the text index
        ("(((.*)))", []),
        ("t-shirt", ["shirt"]),
        ("Café crème", ["café", "crème"]),
        (" ".join(f"w{n}" for n in range(12)), [f"w{n}" for n in range(8)]),
    ],
)
def test_terms(q, terms):
    assert search.terms_of(q) == terms


@pytest.mark.parametrize(
    "term, text, found",
    [
        ("shoe", "Trail Shoes", True),
        ("shoes", "Trail Shoe", True),
        ("shoes", "Shoesmith boots", False),  # whole words only, as the text index
        ("hiking", "Hike the hills", True),
        ("hikes", "Hiking boots", True),
        ("running", "Runs fast", True),
        ("run", "Running shoes", True),
        ("batteries", "30-hour battery", True),
        ("glasses", "Glass jar", True),
        ("coffee", "COFFEE set", True),
        ("water", "Waterproof shell", False),
        ("trail", "Trailwise headlamp", False),
        ("tea", "Team kit", False),
    ],
)
def test_fallback_word_forms(term, text, found):
    pattern = re.compile(search.word_pattern(term), re.IGNORECASE)
    assert bool(pattern.search(text)) is found


def test_plan_without_terms_is_the_filter_and_sort():
    plan = search.plan(filters={"status": "active"}, terms=None, sort=PRICE, text_index=True)
    assert (plan.filter, plan.sort, plan.projection, plan.rank) == (
        {"status": "active"},
        PRICE,
        {},
        (),
    )


def test_plan_server_ranks_by_text_score():
    plan = search.plan(
        filters={"status": "active"}, terms=["red", "shoe"], sort=None, text_index=True
    )
    assert plan.filter == {"status": "active", "$text": {"$search": "red shoe"}}
    assert plan.sort == [(search.SCORE, {"$meta": "textScore"}), ("_id", 1)]
    assert plan.projection == {search.SCORE: {"$meta": "textScore"}}
    assert plan.rank == ()


def test_plan_server_with_an_explicit_sort():
    plan = search.plan(filters={"status": "active"}, terms=["shoe"], sort=PRICE, text_index=True)
    assert plan.filter == {"status": "active", "$text": {"$search": "shoe"}}
    assert (plan.sort, plan.projection, plan.rank) == (PRICE, {}, ())


def test_plan_fallback_matches_any_word_in_the_three_fields():
    plan = search.plan(
        filters={"status": "active"}, terms=["shoe", "red"], sort=PRICE, text_index=False
    )
    pattern = r"\b(?:sho|red)" + search._INFLECTION + r"\b"
    assert plan.filter == {
        "status": "active",
        "$or": [
            {"name": {"$regex": pattern, "$options": "i"}},
            {"brand": {"$regex": pattern, "$options": "i"}},
            {"description": {"$regex": pattern, "$options": "i"}},
        ],
    }
    assert (plan.sort, plan.rank, plan.projection) == (PRICE, (), {})


def test_plan_fallback_escapes_and_ranks_each_word():
    plan = search.plan(filters={}, terms=["c++", "shoe"], sort=None, text_index=False)
    assert plan.rank == (search.word_pattern("c++"), search.word_pattern("shoe"))
    assert r"\b(?:c\+\+)" in plan.rank[0]  # metacharacters of the input are escaped
    for pattern in (*plan.rank, plan.filter["$or"][0]["name"]["$regex"]):
        re.compile(pattern)


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"name": "Red Shoe", "brand": "Acme", "description": "x"}, 20),  # two words in name
        ({"name": "Shoe", "brand": "Red", "description": "red"}, 16),  # name, brand, text
        ({"name": "Boot", "brand": None, "description": "A red shoe"}, 2),
        ({"name": "Boot", "description": "nothing"}, 0),
    ],
)
def test_fallback_score_weights_name_over_brand_over_description(row, expected):
    patterns = [re.compile(search.word_pattern(t), re.I) for t in ("red", "shoe")]
    assert search.score(row, patterns) == expected


def test_relevance_needs_terms():
    with pytest.raises(ValueError):
        search.plan(filters={}, terms=None, sort=None, text_index=False)


async def test_search_mode_follows_the_engine(app):
    indexes = await Product.get_pymongo_collection().index_information()
    if db.get_db().embedded:
        assert search.mode() == "regex"
        assert "search" not in indexes, "no text index where search does not use one"
    assert search.uses_text_index() is (search.mode() == "text")
    if search.uses_text_index():
        assert "search" in indexes


async def test_a_server_that_refuses_text_indexes_gets_regex_search(
    app, settings, monkeypatch, caplog
):
    """SEARCH_MODE=auto on a server that answers a text index with CannotCreateIndex (67, as
    SecantusDB does): the other indexes are created (by the database's start-up, which
    leaves text indexes to search) and search runs on regex. `text` refuses to start
    instead, and `regex` never asks for the text index."""
    collection = Product.get_pymongo_collection()
    for name in list(await collection.index_information()):
        if name != "_id_":
            await collection.drop_index(name)
    asked = []
    kind = type(collection)
    # PyMongo's collection defines create_indexes; the embedded engine's forwards it.
    original = kind.__dict__.get("create_indexes") or (
        lambda self, *args, **kwargs: kind.__getattr__(self, "create_indexes")(*args, **kwargs)
    )

    async def refuse_text(self, indexes, *args, **kwargs):
        asked.append([index.document["name"] for index in indexes])
        if any("text" in dict(index.document["key"]).values() for index in indexes):
            raise OperationFailure("text indexes are not supported", code=67)
        return await original(self, indexes, *args, **kwargs)

    monkeypatch.setattr(kind, "create_indexes", refuse_text, raising=False)
    # As on a server (the embedded engine has no $text, so search never asks there).
    monkeypatch.setitem(
        app.extensions, db.EXTENSION, dataclasses.replace(db.get_db(), embedded=False)
    )

    def mode(name: str):
        return settings.model_copy(update={"SEARCH_MODE": name})

    await db._Initializer(database=db.get_db().database, document_models=[Product])
    created = set(await collection.index_information())
    assert {"active_price", "category_id"} <= created and "search" not in created
    assert asked and all("search" not in names for names in asked)

    asked.clear()
    with caplog.at_level(logging.WARNING, logger="app.catalog.search"):
        assert await search.init_search(app, mode("auto")) == "regex"
    assert search.mode() == "regex" and not search.uses_text_index()
    assert asked == [["search"]]
    assert "error 67: text indexes are not supported" in caplog.text

    asked.clear()
    assert await search.init_search(app, mode("regex")) == "regex"
    assert asked == []

    with pytest.raises(OperationFailure):
        await search.init_search(app, mode("text"))


@pytest.fixture
async def goods(make_category, make_product):
    gear = await make_category("Gear")
    rows = [
        # name, brand, description, price
        ("Trail Shoes", "Stride", "Light shoes for rough paths.", 5000),
        ("Rain Jacket", "Northpeak", "Keeps you dry; pairs with trail shoes.", 9000),
        ("Wool Socks", "Shoesmith", "Warm socks.", 1200),
        ("Camp Stove", "Northpeak", "Boils water in three minutes.", 4000),
        ("Shoelace Pack", "Stride", "Spare laces.", 300),
    ]
    for name, brand, description, price in rows:
        await make_product(name, gear, brand=brand, description=description, price=price)


async def _search(client, **params) -> list[str]:
    response = await client.get(URL, query_string=params)
    assert response.status_code == 200
    return [item["slug"] for item in (await response.get_json())["items"]]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("shoes", {"trail-shoes", "rain-jacket"}),  # name, description
        ("SHOES", {"trail-shoes", "rain-jacket"}),  # case-insensitive
        ("northpeak", {"rain-jacket", "camp-stove"}),  # brand
        ("water", {"camp-stove"}),  # description only
        ("stove jacket", {"camp-stove", "rain-jacket"}),  # any word
        ("helmet", set()),
        (".*", set()),  # no searchable words: nothing, not everything
        ("stove.*(", {"camp-stove"}),  # regex syntax is text, not a pattern
    ],
)
async def test_search_finds(client, goods, q, expected):
    assert set(await _search(client, q=q)) == expected


async def test_name_match_ranks_above_brand_above_description(client, goods):
    # "Stride" is the brand of two products; "stride" is nowhere else. "trail" is in one name
    # and one description.
    assert await _search(client, q="trail") == ["trail-shoes", "rain-jacket"]
    assert (await _search(client, q="stove northpeak"))[0] == "camp-stove"  # name+brand


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("price", ["trail-shoes", "rain-jacket"]),
        ("-price", ["rain-jacket", "trail-shoes"]),
        ("name", ["rain-jacket", "trail-shoes"]),
    ],
)
async def test_explicit_sort_overrides_relevance(client, goods, sort, expected):
    # By relevance the name match ("Trail Shoes") comes first; a sort asked for wins.
    assert await _search(client, q="shoes") == ["trail-shoes", "rain-jacket"]
    assert await _search(client, q="shoes", sort=sort) == expected


@pytest.mark.parametrize("q", ["shoes", "northpeak", "water", "stove jacket", "trail"])
async def test_fallback_agrees_with_text_search_on_a_server(client, goods, monkeypatch, q):
    if not search.uses_text_index():
        pytest.skip(f"compares with $text: search here is {search.mode()}")
    with_text = set(await _search(client, q=q))
    monkeypatch.setitem(current_app.extensions, search.EXTENSION, "regex")
    assert set(await _search(client, q=q)) == with_text
