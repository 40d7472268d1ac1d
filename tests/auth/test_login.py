"""Login: credentials, identical failures, disabled accounts, lockout after failures."""

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.models import LoginCounter
from app.core import security
from tests.support.accounts import TEST_PASSWORD

LOGIN = "/api/v1/auth/login"
PROBLEM = "application/problem+json"


@pytest.fixture
def settings_overrides():
    # Rate limits are tested in test_rate_limits.py; here they must not interfere.
    return {"LOGIN_LOCKOUT_ATTEMPTS": 3, "RATE_LIMIT_ENABLED": False}


async def test_login_returns_a_token_pair_and_the_user(client, customer, settings):
    response = await client.post(
        LOGIN, json={"email": "customer@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_TTL
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["email"] == "customer@example.com"
    assert "password_hash" not in body["user"]
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200


async def test_access_token_claims(client, customer, settings, login):
    tokens = await login("customer@example.com")
    claims = security.decode_access_token(tokens["access_token"], secret=settings.SECRET_KEY)
    assert claims["sub"] == str(customer[0].id) and claims["role"] == "customer"
    assert claims["iss"] == "shop-api" and claims["jti"] and claims["sid"]
    assert claims["exp"] - int(claims["iat"]) == settings.ACCESS_TOKEN_TTL


async def test_login_email_is_case_insensitive(client, customer, login):
    assert (await login("  CUSTOMER@Example.com "))["user"]["email"] == "customer@example.com"


async def _problem(response) -> dict:
    body = await response.get_json()
    body.pop("request_id", None)
    return body


async def test_unknown_email_and_wrong_password_answer_identically(client, customer):
    unknown = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": TEST_PASSWORD}
    )
    wrong = await client.post(
        LOGIN, json={"email": "customer@example.com", "password": "Wrong-Pass-1"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content_type == wrong.content_type == PROBLEM
    assert await _problem(unknown) == await _problem(wrong)
    assert (await _problem(wrong))["code"] == "invalid_credentials"


async def test_unknown_email_still_checks_a_hash(client, monkeypatch):
    """The bcrypt work is done for unknown emails too, so timing does not tell them apart."""
    calls = []
    real = security.bcrypt.checkpw
    monkeypatch.setattr(
        security.bcrypt, "checkpw", lambda pw, hashed: calls.append(hashed) or real(pw, hashed)
    )
    response = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": "X-whatever-1"}
    )
    assert response.status_code == 401
    assert len(calls) == 1 and calls[0].startswith(b"$2b$")


async def test_disabled_account_cannot_log_in(client, create_user):
    await create_user(email="gone@example.com", is_active=False)
    response = await client.post(
        LOGIN, json={"email": "gone@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 401
    body = await response.get_json()
    assert body["code"] == "account_disabled" and "access_token" not in body


@pytest.mark.parametrize(
    "payload",
    [
        {"email": {"$gt": ""}, "password": TEST_PASSWORD},
        {"email": "customer@example.com", "password": {"$ne": None}},
        {"email": {"$regex": ".*"}, "password": {"$gt": ""}},
        {"email": ["customer@example.com"], "password": TEST_PASSWORD},
        {"email": "customer@example.com"},
        {"password": TEST_PASSWORD},
        {"email": "", "password": TEST_PASSWORD},
        {"email": "customer@example.com", "password": "x" * 73},
        {"email": "customer@example.com", "password": TEST_PASSWORD, "remember": True},
    ],
)
async def test_malformed_logins_are_422(client, customer, payload):
    response = await client.post(LOGIN, json=payload)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "validation_error"


async def _fail(client, email: str):
    return await client.post(LOGIN, json={"email": email, "password": "Wrong-Pass-1"})


@pytest.mark.parametrize("email", ["customer@example.com", "nobody@example.com"])
async def test_repeated_failures_lock_the_email(client, customer, email):
    for _ in range(3):
        assert (await _fail(client, email)).status_code == 401
    locked = await client.post(LOGIN, json={"email": email, "password": TEST_PASSWORD})
    assert locked.status_code == 429
    assert locked.content_type == PROBLEM
    assert (await locked.get_json())["code"] == "account_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60


async def test_lockout_looks_the_same_for_known_and_unknown_emails(client, customer):
    answers = []
    for email in ("customer@example.com", "nobody@example.com"):
        for _ in range(4):
            last = await _fail(client, email)
        answers.append((last.status_code, (await _problem(last))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429


async def test_lock_is_per_email(client, customer, create_user):
    await create_user(email="other@example.com")
    for _ in range(3):
        await _fail(client, "customer@example.com")
    other = await client.post(LOGIN, json={"email": "other@example.com", "password": TEST_PASSWORD})
    assert other.status_code == 200


async def test_lock_ends_after_the_lockout_period(client, customer):
    for _ in range(3):
        await _fail(client, "customer@example.com")
    await LoginCounter.get_pymongo_collection().update_many(
        {"scope": "address"},
        {
            "$set": {
                "locked_until": datetime.now(UTC) - timedelta(seconds=1),
                "expires_at": datetime.now(UTC) - timedelta(seconds=1),
            }
        },
    )
    response = await client.post(
        LOGIN, json={"email": "customer@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200


async def test_success_resets_the_failure_count(client, customer, login):
    for _ in range(2):
        await _fail(client, "customer@example.com")
    await login("customer@example.com")
    for _ in range(2):
        assert (await _fail(client, "customer@example.com")).status_code == 401
    await login("customer@example.com")


async def test_failures_store_no_email_in_clear(client):
    await _fail(client, "secret.person@example.com")
    rows = await LoginCounter.get_pymongo_collection().find({}).to_list()
    assert {row["scope"] for row in rows} == {"address", "account"}
    assert all("secret.person" not in str(row) and "127.0.0.1" not in str(row) for row in rows)
