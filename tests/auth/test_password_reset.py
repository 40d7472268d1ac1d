"""Forgot password and reset: no enumeration, single-use expiring tokens, sessions revoked."""

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.models import AccountToken, User
from app.auth.requests import process_account_requests
from app.core.security import token_digest
from app.email.models import OutboxEmail
from tests.support.accounts import TEST_PASSWORD

FORGOT = "/api/v1/auth/forgot-password"
RESET = "/api/v1/auth/reset-password"
NEW_PASSWORD = "Brand-New-Secret-7"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def request_reset(client, outbox_token, email="customer@example.com") -> str:
    response = await client.post(FORGOT, json={"email": email})
    assert response.status_code == 202
    return await outbox_token(email, "password_reset")


async def test_forgot_password_answers_the_same_for_unknown_emails(client, customer):
    known = await client.post(FORGOT, json={"email": "customer@example.com"})
    unknown = await client.post(FORGOT, json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert await known.get_json() == await unknown.get_json()
    assert await process_account_requests() == 2  # the email worker's round
    assert [e.to for e in await OutboxEmail.find({"kind": "password_reset"}).to_list()] == [
        "customer@example.com"
    ]


async def test_forgot_password_sends_nothing_to_disabled_accounts(client, create_user):
    await create_user(email="gone@example.com", is_active=False)
    response = await client.post(FORGOT, json={"email": "gone@example.com"})
    assert response.status_code == 202
    assert await process_account_requests() == 1
    assert await OutboxEmail.find({"kind": "password_reset"}).count() == 0


async def test_reset_email_links_to_the_frontend_and_the_token_is_stored_hashed(
    client, customer, settings, outbox_token
):
    token = await request_reset(client, outbox_token)
    [email] = await OutboxEmail.find({"kind": "password_reset"}).to_list()
    assert f"{settings.FRONTEND_URL}/reset-password?token={token}" in email.text
    [row] = await AccountToken.find(AccountToken.purpose == "password_reset").to_list()
    assert row.token_hash == token_digest(token)
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)


async def test_reset_sets_the_new_password(client, customer, outbox_token, login):
    token = await request_reset(client, outbox_token)
    response = await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 200
    await login("customer@example.com", NEW_PASSWORD)
    old = await client.post(
        "/api/v1/auth/login", json={"email": "customer@example.com", "password": TEST_PASSWORD}
    )
    assert old.status_code == 401


async def test_reset_revokes_every_session(client, customer, outbox_token, login):
    _, fixture_headers = customer
    sessions = [await login("customer@example.com") for _ in range(2)]
    token = await request_reset(client, outbox_token)
    await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    assert (await client.get("/api/v1/users/me", headers=fixture_headers)).status_code == 401
    for tokens in sessions:
        me = await client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 401
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refresh.status_code == 401
    # A login right after the reset works (its token is not older than the reset).
    fresh = await login("customer@example.com", NEW_PASSWORD)
    me = await client.get("/api/v1/users/me", headers=bearer(fresh["access_token"]))
    assert me.status_code == 200


async def test_reset_token_is_single_use(client, customer, outbox_token):
    token = await request_reset(client, outbox_token)
    assert (
        await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    ).status_code == 200
    again = await client.post(RESET, json={"token": token, "password": "Another-Secret-8"})
    assert again.status_code == 422
    assert (await again.get_json())["code"] == "invalid_token"


async def test_a_reset_spends_the_other_outstanding_reset_tokens(client, customer, outbox_token):
    older = await request_reset(client, outbox_token)
    newer = await request_reset(client, outbox_token)
    assert older != newer
    assert (
        await client.post(RESET, json={"token": newer, "password": NEW_PASSWORD})
    ).status_code == 200
    stale = await client.post(RESET, json={"token": older, "password": "Another-Secret-8"})
    assert stale.status_code == 422


async def test_expired_reset_token_is_refused(client, customer, outbox_token):
    token = await request_reset(client, outbox_token)
    await AccountToken.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    response = await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 422
    user = await User.find_one(User.email == "customer@example.com")
    assert user.tokens_valid_after is None


async def test_verification_token_cannot_reset_a_password(client, outbox_token):
    await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": "Zebra-Cactus-9", "name": "New"},
    )
    token = await outbox_token("new@example.com", "verify_email")
    response = await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "password, code",
    [
        ("short-1A", "validation_error"),
        ("onlylowercaseletters", "validation_error"),
        ("Password123!", "validation_error"),
        ("x" * 73, "validation_error"),
        ("Customer-Is-Me-1", "weak_password"),  # contains the email's local part
    ],
)
async def test_reset_applies_the_password_rules(client, customer, outbox_token, password, code):
    token = await request_reset(client, outbox_token)
    response = await client.post(RESET, json={"token": token, "password": password})
    assert response.status_code == 422
    assert (await response.get_json())["code"] == code
    # The token was not spent by a refused attempt.
    assert (
        await client.post(RESET, json={"token": token, "password": NEW_PASSWORD})
    ).status_code == 200


@pytest.mark.parametrize(
    "url, payload",
    [
        (FORGOT, {"email": {"$gt": ""}}),
        (FORGOT, {}),
        (RESET, {"token": {"$ne": ""}, "password": NEW_PASSWORD}),
        (RESET, {"token": "t"}),
    ],
)
async def test_malformed_bodies_are_422(client, url, payload):
    assert (await client.post(url, json=payload)).status_code == 422
