"""Registration and email verification."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.auth.models import AccountToken, User
from app.core.security import token_digest
from app.email.models import OutboxEmail

REGISTER = "/api/v1/auth/register"
VERIFY = "/api/v1/auth/verify-email"
PROBLEM = "application/problem+json"
GOOD_PASSWORD = "Zebra-Cactus-9"


def body(**overrides) -> dict:
    values = {"email": "new@example.com", "password": GOOD_PASSWORD, "name": "New Person"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not ...}


async def test_register_creates_an_unverified_customer(client):
    response = await client.post(REGISTER, json=body(phone="+1 555 0100"))
    assert response.status_code == 201
    user = (await response.get_json())["user"]
    assert user["email"] == "new@example.com"
    assert user["name"] == "New Person" and user["phone"] == "+1 555 0100"
    assert user["role"] == "customer" and user["email_verified"] is False
    assert len(user["id"]) == 24 and user["created_at"].endswith("Z")
    text = await response.get_data(as_text=True)
    assert "password" not in text and "$2b$" not in text
    stored = await User.find_one(User.email == "new@example.com")
    assert stored.password_hash.startswith("$2b$") and GOOD_PASSWORD not in stored.password_hash


async def test_register_queues_a_verification_link(client, settings, outbox_token):
    await client.post(REGISTER, json=body())
    [email] = await OutboxEmail.find({"kind": "verify_email"}).to_list()
    assert email.to == "new@example.com" and email.status == "pending"
    token = await outbox_token("new@example.com", "verify_email")
    assert f"{settings.FRONTEND_URL}/verify-email?token={token}" in email.text
    assert email.html and token in email.html
    # Stored as its digest only: a database leak reveals no usable token.
    row = await AccountToken.find_one(AccountToken.purpose == "verify_email")
    assert row.token_hash == token_digest(token) and row.token_hash != token


async def test_register_with_an_address_makes_it_the_default(client):
    address = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    response = await client.post(REGISTER, json=body(address=address))
    assert response.status_code == 201
    user = await User.find_one(User.email == "new@example.com")
    assert len(user.addresses) == 1 and user.addresses[0].is_default


async def test_email_is_normalised_and_unique_case_insensitively(client):
    first = await client.post(REGISTER, json=body(email="  Mixed.Case@Example.COM "))
    assert (await first.get_json())["user"]["email"] == "mixed.case@example.com"
    second = await client.post(REGISTER, json=body(email="MIXED.CASE@example.com"))
    assert second.status_code == 409
    assert second.content_type == PROBLEM
    assert (await second.get_json())["code"] == "email_taken"
    assert await User.find(User.email == "mixed.case@example.com").count() == 1


async def test_concurrent_registrations_with_one_email_make_one_account(client):
    responses = await asyncio.gather(
        *(client.post(REGISTER, json=body(name=f"Racer {i}")) for i in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409]
    assert await User.find(User.email == "new@example.com").count() == 1
    assert await OutboxEmail.find({"kind": "verify_email"}).count() == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": {"$gt": ""}}, "email"),
        ({"email": ["a@example.com"]}, "email"),
        ({"email": ...}, "email"),
        ({"password": "Short-1"}, "password"),  # under 10 characters
        ({"password": "alllowercaseletters"}, "password"),  # one character class
        ({"password": "12345678901234"}, "password"),  # one character class
        ({"password": "Password123"}, "password"),  # common
        ({"password": "Qwerty2024!"}, "password"),  # common word, decorated
        ({"password": "New-Secret-99"}, "password"),  # contains the email's local part
        ({"password": "Ä" * 37}, "password"),  # 74 bytes: over bcrypt's 72
        ({"password": {"$ne": ""}}, "password"),
        ({"password": ...}, "password"),
        ({"name": ""}, "name"),
        ({"name": ...}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"role": "admin"}, "role"),  # unknown fields are refused, not ignored
        ({"email_verified": True}, "email_verified"),
        ({"address": {"line1": "x"}}, "address"),
    ],
)
async def test_invalid_registrations_are_422(client, overrides, field):
    response = await client.post(REGISTER, json=body(**overrides))
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    problem = await response.get_json()
    assert problem["code"] == "validation_error"
    if field:
        assert any(error["loc"][:1] == [field] for error in problem["errors"]), problem
    assert await User.count() == 0


async def test_password_is_taken_exactly_as_typed(client, login):
    spaced = "  Zebra-Cactus-9  "
    await client.post(REGISTER, json=body(password=spaced))
    await login("new@example.com", spaced)
    trimmed = await client.post(
        "/api/v1/auth/login", json={"email": "new@example.com", "password": spaced.strip()}
    )
    assert trimmed.status_code == 401


async def test_verify_email_marks_the_user_verified(client, outbox_token):
    await client.post(REGISTER, json=body())
    token = await outbox_token("new@example.com", "verify_email")
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 200
    answer = await response.get_json()
    assert answer["email_verified"] is True and answer["user"]["email_verified"] is True
    assert (await User.find_one(User.email == "new@example.com")).email_verified


async def test_verification_token_is_single_use(client, outbox_token):
    await client.post(REGISTER, json=body())
    token = await outbox_token("new@example.com", "verify_email")
    assert (await client.post(VERIFY, json={"token": token})).status_code == 200
    again = await client.post(VERIFY, json={"token": token})
    assert again.status_code == 422
    assert (await again.get_json())["code"] == "invalid_token"


async def test_expired_verification_token_is_refused(client, outbox_token):
    await client.post(REGISTER, json=body())
    token = await outbox_token("new@example.com", "verify_email")
    await AccountToken.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 422
    assert not (await User.find_one(User.email == "new@example.com")).email_verified


async def test_reset_token_cannot_verify_an_email(client, customer, outbox_token):
    await client.post("/api/v1/auth/forgot-password", json={"email": "customer@example.com"})
    token = await outbox_token("customer@example.com", "password_reset")
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 422


@pytest.mark.parametrize("token", ["", "nope", {"$ne": ""}, None, 12345])
async def test_bad_verification_tokens(client, token):
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 422
