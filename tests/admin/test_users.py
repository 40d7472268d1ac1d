"""Admin user management: list and filter users, change role and active flag."""

import pytest

from app.auth.models import User
from app.auth.service import ensure_admin
from tests.support.accounts import TEST_PASSWORD

URL = "/api/v1/admin/users"


async def test_customers_get_403_and_anonymous_401(client, customer):
    _, headers = customer
    assert (await client.get(URL, headers=headers)).status_code == 403
    assert (await client.get(URL)).status_code == 401
    patch = await client.patch(f"{URL}/{customer[0].id}", headers=headers, json={"role": "admin"})
    assert patch.status_code == 403
    assert (await User.get(customer[0].id)).role == "customer"


async def test_list_newest_first_without_password_hashes(client, admin, create_user):
    _, headers = admin
    for i in range(3):
        await create_user(email=f"u{i}@example.com")
    response = await client.get(URL, headers=headers, query_string={"per_page": 2})
    assert response.status_code == 200
    body = await response.get_json()
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (4, 2, 1, 2)
    assert [u["email"] for u in body["items"]] == ["u2@example.com", "u1@example.com"]
    text = await response.get_data(as_text=True)
    assert "password" not in text and "$2b$" not in text
    assert {"id", "email", "role", "is_active", "email_verified"} <= set(body["items"][0])


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"role": "admin"}, ["admin@example.com"]),
        ({"role": "customer"}, ["bob@shop.example", "alice@example.com"]),
        ({"email": "ALI"}, ["alice@example.com"]),
        ({"email": "bob@shop"}, ["bob@shop.example"]),
        ({"email": ".*"}, []),  # a pattern is matched literally
        ({"email": "alice", "role": "admin"}, []),
    ],
)
async def test_filters(client, admin, create_user, query, expected):
    await create_user(email="alice@example.com")
    await create_user(email="bob@shop.example")
    response = await client.get(URL, headers=admin[1], query_string=query)
    assert [u["email"] for u in (await response.get_json())["items"]] == expected


@pytest.mark.parametrize(
    "query",
    [
        {"role": "root"},
        {"per_page": 101},
        {"page": 0},
        {"page": "true"},
        {"per_page": "false"},
        {"x": 1},
    ],
)
async def test_bad_queries_are_422(client, admin, query):
    assert (await client.get(URL, headers=admin[1], query_string=query)).status_code == 422


async def test_promote_to_admin(client, admin, customer):
    user, customer_headers = customer
    response = await client.patch(f"{URL}/{user.id}", headers=admin[1], json={"role": "admin"})
    assert response.status_code == 200
    assert (await response.get_json())["role"] == "admin"
    # The change applies to the token already in hand (roles are read from the database).
    assert (await client.get(URL, headers=customer_headers)).status_code == 200


async def test_demotion_applies_at_once(client, admin, create_user):
    other, other_headers = await create_user(email="second.admin@example.com", role="admin")
    await client.patch(f"{URL}/{other.id}", headers=admin[1], json={"role": "customer"})
    assert (await client.get(URL, headers=other_headers)).status_code == 403


async def test_deactivation_ends_every_session(client, admin, customer, login):
    user, fixture_headers = customer
    tokens = await login("customer@example.com")
    response = await client.patch(f"{URL}/{user.id}", headers=admin[1], json={"is_active": False})
    assert response.status_code == 200 and (await response.get_json())["is_active"] is False
    assert (await client.get("/api/v1/users/me", headers=fixture_headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    again = await client.post(
        "/api/v1/auth/login", json={"email": "customer@example.com", "password": TEST_PASSWORD}
    )
    assert again.status_code == 401
    # Reactivated, the user can sign in again.
    await client.patch(f"{URL}/{user.id}", headers=admin[1], json={"is_active": True})
    await login("customer@example.com")


@pytest.mark.parametrize(
    "payload",
    [
        {"is_active": 1},
        {"is_active": "false"},
        {"role": "superuser"},
        {"role": None, "email": "x@example.com"},
        {"password_hash": "x"},
    ],
)
async def test_invalid_updates_are_422(client, admin, customer, payload):
    response = await client.patch(f"{URL}/{customer[0].id}", headers=admin[1], json=payload)
    assert response.status_code == 422
    stored = await User.get(customer[0].id)
    assert stored.is_active and stored.role == "customer"


@pytest.mark.parametrize("user_id", ["0123456789abcdef01234567", "nope"])
async def test_unknown_user_is_404(client, admin, user_id):
    response = await client.patch(f"{URL}/{user_id}", headers=admin[1], json={"role": "admin"})
    assert response.status_code == 404


@pytest.mark.parametrize("payload", [{"role": "customer"}, {"is_active": False}])
async def test_admins_cannot_lock_themselves_out(client, admin, payload):
    user, headers = admin
    response = await client.patch(f"{URL}/{user.id}", headers=headers, json=payload)
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "cannot_change_self"


async def test_ensure_admin_creates_then_promotes(app, create_user):
    created = await ensure_admin(email=" Boss@Example.com ", password="Boss-Password-1")
    assert created.role == "admin" and created.email == "boss@example.com"
    assert (await ensure_admin(email="boss@example.com", password="other")).id == created.id
    user, _ = await create_user(email="later@example.com", is_active=False)
    promoted = await ensure_admin(email="later@example.com", password="ignored")
    stored = await User.get(user.id)
    assert promoted.id == user.id and stored.role == "admin" and stored.is_active
    assert stored.password_hash == user.password_hash  # an existing password is kept
    assert await User.find(User.role == "admin").count() == 2


async def test_start_up_creates_the_configured_admin(settings):
    from app import create_app
    from app.core import db

    app = create_app(
        settings.model_copy(
            update={"ADMIN_EMAIL": "ops@example.com", "ADMIN_PASSWORD": "Ops-Password-12"}
        )
    )
    async with app.test_app():
        async with app.app_context():
            admin = await User.find_one(User.email == "ops@example.com")
            assert admin is not None and admin.role == "admin" and admin.email_verified
            await db.drop_all_collections()
