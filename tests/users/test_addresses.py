"""The address book: CRUD, exactly one default, and nobody sees another user's addresses."""

import pytest

from app.users import service

URL = "/api/v1/users/me/addresses"


def address(**overrides) -> dict:
    values = {
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    }
    values.update(overrides)
    return values


async def add(client, headers, **overrides) -> dict:
    response = await client.post(URL, headers=headers, json=address(**overrides))
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def listing(client, headers) -> list[dict]:
    response = await client.get(URL, headers=headers)
    assert response.status_code == 200
    return (await response.get_json())["items"]


def defaults(items: list[dict]) -> list[str]:
    return [a["line1"] for a in items if a["is_default"]]


async def test_first_address_becomes_the_default(client, customer):
    _, headers = customer
    created = await add(client, headers, line2="Flat 2", phone="+1 555 0100")
    assert created["is_default"] is True and len(created["id"]) == 24
    assert created["line2"] == "Flat 2" and created["phone"] == "+1 555 0100"
    second = await add(client, headers, line1="2 Side St")
    assert second["is_default"] is False


async def test_list_is_paginated(client, customer):
    _, headers = customer
    for i in range(3):
        await add(client, headers, line1=f"{i} Main St")
    response = await client.get(URL, headers=headers, query_string={"per_page": 2, "page": 2})
    body = await response.get_json()
    assert (body["total"], body["pages"], body["page"]) == (3, 2, 2)
    assert [a["line1"] for a in body["items"]] == ["2 Main St"]


async def test_exactly_one_default(client, customer):
    _, headers = customer
    await add(client, headers, line1="A")
    await add(client, headers, line1="B", is_default=True)
    assert defaults(await listing(client, headers)) == ["B"]
    c = await add(client, headers, line1="C")
    response = await client.patch(f"{URL}/{c['id']}", headers=headers, json={"is_default": True})
    assert (await response.get_json())["is_default"] is True
    assert defaults(await listing(client, headers)) == ["C"]


async def test_unsetting_the_default_passes_it_on(client, customer):
    _, headers = customer
    a = await add(client, headers, line1="A")
    await add(client, headers, line1="B")
    await client.patch(f"{URL}/{a['id']}", headers=headers, json={"is_default": False})
    assert defaults(await listing(client, headers)) == ["B"]


async def test_an_only_address_stays_the_default(client, customer):
    _, headers = customer
    a = await add(client, headers, line1="A")
    response = await client.patch(f"{URL}/{a['id']}", headers=headers, json={"is_default": False})
    assert (await response.get_json())["is_default"] is True


async def test_deleting_the_default_promotes_another(client, customer):
    _, headers = customer
    a = await add(client, headers, line1="A")
    await add(client, headers, line1="B")
    response = await client.delete(f"{URL}/{a['id']}", headers=headers)
    assert response.status_code == 204
    items = await listing(client, headers)
    assert [i["line1"] for i in items] == ["B"] and defaults(items) == ["B"]


async def test_update_changes_only_the_given_fields(client, customer):
    _, headers = customer
    a = await add(client, headers, line2="Flat 1")
    response = await client.patch(
        f"{URL}/{a['id']}", headers=headers, json={"city": "Shelbyville", "line2": None}
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["city"] == "Shelbyville" and body["line2"] is None
    assert body["line1"] == "1 Main St" and body["postal_code"] == "12345"


async def test_users_never_see_each_others_addresses(client, customer, create_user):
    _, alice = customer
    _, bob = await create_user(email="bob@example.com")
    mine = await add(client, alice, line1="Alice's")
    assert await listing(client, bob) == []
    url = f"{URL}/{mine['id']}"
    patched = await client.patch(url, headers=bob, json={"city": "Stolen"})
    assert patched.status_code == 404
    assert (await client.delete(url, headers=bob)).status_code == 404
    [kept] = await listing(client, alice)
    assert kept["city"] == "Springfield"


@pytest.mark.parametrize("address_id", ["0123456789abcdef01234567", "not-an-id", "1"])
async def test_unknown_address_is_404(client, customer, address_id):
    _, headers = customer
    assert (
        await client.patch(f"{URL}/{address_id}", headers=headers, json={"city": "X"})
    ).status_code == 404
    assert (await client.delete(f"{URL}/{address_id}", headers=headers)).status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {"line1": ""},
        {"line1": None},
        {"city": {"$ne": ""}},
        {"country": "U"},
        {"postal_code": "x" * 21},
        {"is_default": "yes"},
        {"is_default": 1},
        {"phone": "nope"},
        {"user_id": "0123456789abcdef01234567"},
    ],
)
async def test_invalid_addresses_are_422(client, customer, overrides):
    _, headers = customer
    response = await client.post(URL, headers=headers, json=address(**overrides))
    assert response.status_code == 422
    assert await listing(client, headers) == []


@pytest.mark.parametrize(
    "query", [{"per_page": 101}, {"page": 0}, {"page": "true"}, {"per_page": "x"}]
)
async def test_bad_pagination_is_422(client, customer, query):
    _, headers = customer
    assert (await client.get(URL, headers=headers, query_string=query)).status_code == 422


async def test_address_book_has_a_cap(client, customer, monkeypatch):
    _, headers = customer
    monkeypatch.setattr(service, "MAX_ADDRESSES", 2)
    await add(client, headers)
    await add(client, headers)
    response = await client.post(URL, headers=headers, json=address())
    assert response.status_code == 409
