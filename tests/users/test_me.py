"""`/users/me`: profile and password change."""

import pytest

from app.auth.models import AuthSession
from tests.support.accounts import TEST_PASSWORD

ME = "/api/v1/users/me"
PASSWORD = "/api/v1/users/me/password"
NEW_PASSWORD = "Brand-New-Secret-7"


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", ME),
        ("PATCH", ME),
        ("POST", PASSWORD),
        ("GET", f"{ME}/addresses"),
        ("POST", f"{ME}/addresses"),
        ("PATCH", f"{ME}/addresses/0123456789abcdef01234567"),
        ("DELETE", f"{ME}/addresses/0123456789abcdef01234567"),
    ],
)
async def test_every_route_requires_a_token(client, method, url):
    response = await client.open(url, method=method, json={})
    assert response.status_code == 401


async def test_get_me(client, customer):
    user, headers = customer
    response = await client.get(ME, headers=headers)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["id"] == str(user.id)
    assert {k: body[k] for k in ("email", "name", "phone", "role", "email_verified")} == {
        "email": "customer@example.com",
        "name": "Test User",
        "phone": None,
        "role": "customer",
        "email_verified": True,
    }
    assert body["created_at"].endswith("Z")
    assert "password_hash" not in body and "$2b$" not in await response.get_data(as_text=True)


async def test_patch_name_and_phone(client, customer):
    _, headers = customer
    response = await client.patch(
        ME, headers=headers, json={"name": "  Renamed  ", "phone": "+44 20 7946 0000"}
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["name"] == "Renamed" and body["phone"] == "+44 20 7946 0000"
    cleared = await client.patch(ME, headers=headers, json={"phone": None})
    assert (await cleared.get_json())["phone"] is None
    assert (await cleared.get_json())["name"] == "Renamed"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": {"$set": "x"}},
        {"phone": "not a phone"},
        {"email": "new@example.com"},
        {"role": "admin"},
        {"email_verified": True},
        {"password_hash": "x"},
    ],
)
async def test_patch_refuses_invalid_or_forbidden_fields(client, customer, payload):
    _, headers = customer
    response = await client.patch(ME, headers=headers, json=payload)
    assert response.status_code == 422
    me = await (await client.get(ME, headers=headers)).get_json()
    assert me["role"] == "customer" and me["email"] == "customer@example.com"


async def test_change_password_revokes_other_sessions_only(client, customer, login):
    current = await login("customer@example.com")
    other = await login("customer@example.com")
    response = await client.post(
        PASSWORD,
        headers=bearer(current),
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    # This session goes on...
    assert (await client.get(ME, headers=bearer(current))).status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": current["refresh_token"]}
    )
    assert refreshed.status_code == 200
    # ...the other one is over, both its tokens.
    assert (await client.get(ME, headers=bearer(other))).status_code == 401
    dead = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert dead.status_code == 401
    # The fixture's own session (customer[1]) was another session too.
    assert (await client.get(ME, headers=customer[1])).status_code == 401
    revoked = await AuthSession.find(AuthSession.revoked_at != None).to_list()  # noqa: E711
    assert len(revoked) == 2
    assert {row.revoked_reason for row in revoked} == {"password_change"}
    await login("customer@example.com", NEW_PASSWORD)


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"current_password": "Wrong-Pass-1", "new_password": NEW_PASSWORD}, "invalid_credentials"),
        ({"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD}, "weak_password"),
        ({"current_password": TEST_PASSWORD, "new_password": "Customer-123-x"}, "weak_password"),
        ({"current_password": TEST_PASSWORD, "new_password": "short"}, "validation_error"),
        ({"current_password": TEST_PASSWORD, "new_password": "Password123"}, "validation_error"),
        ({"current_password": TEST_PASSWORD}, "validation_error"),
        ({"current_password": {"$ne": ""}, "new_password": NEW_PASSWORD}, "validation_error"),
    ],
)
async def test_change_password_refusals(client, customer, login, payload, code):
    tokens = await login("customer@example.com")
    response = await client.post(PASSWORD, headers=bearer(tokens), json=payload)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == code
    await login("customer@example.com", TEST_PASSWORD)  # unchanged
