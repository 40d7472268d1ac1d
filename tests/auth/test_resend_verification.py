"""POST /auth/resend-verification: 202 for any email, the same work either way, a fresh link
(which supersedes the earlier ones) for unverified accounts only, rate limited."""

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.models import AccountToken, User
from app.email.models import OutboxEmail
from tests.support.accounts import TEST_PASSWORD

RESEND = "/api/v1/auth/resend-verification"
REGISTER = "/api/v1/auth/register"
VERIFY = "/api/v1/auth/verify-email"


async def register(client, email="new@example.com"):
    response = await client.post(
        REGISTER, json={"email": email, "password": "Zebra-Cactus-9", "name": "New"}
    )
    assert response.status_code == 201


async def verify_emails(to: str) -> int:
    return await OutboxEmail.find({"to": to, "kind": "verify_email"}).count()


@pytest.fixture
def user_reads(monkeypatch):
    calls: list[str] = []
    for name in ("find_one", "find", "get", "get_pymongo_collection"):
        real = getattr(User, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(User, name, staticmethod(spy))
    return calls


async def test_any_email_gets_the_same_answer_without_a_lookup(client, create_user, user_reads):
    await create_user(email="verified@example.com", email_verified=True)
    await create_user(email="pending@example.com", email_verified=False)
    user_reads.clear()
    answers = []
    for email in ("pending@example.com", "verified@example.com", "nobody@example.com"):
        response = await client.post(RESEND, json={"email": email})
        assert response.status_code == 202
        answers.append(await response.get_json())
    assert answers[0] == answers[1] == answers[2]
    assert user_reads == []


async def test_only_unverified_accounts_get_a_link(client, create_user, outbox_token):
    await create_user(email="verified@example.com", email_verified=True)
    await create_user(email="pending@example.com", email_verified=False)
    await create_user(email="gone@example.com", email_verified=False, is_active=False)
    for email in (
        "pending@example.com",
        "verified@example.com",
        "nobody@example.com",
        "gone@example.com",
    ):
        await client.post(RESEND, json={"email": email})
    await outbox_token("pending@example.com", "verify_email")  # runs the worker
    rows = await OutboxEmail.find({"kind": "verify_email"}).to_list()
    assert [row.to for row in rows] == ["pending@example.com"]


async def test_the_fresh_link_verifies_and_supersedes_the_old_one(client, outbox_token):
    await register(client)
    old = await outbox_token("new@example.com", "verify_email")
    await client.post(RESEND, json={"email": "  NEW@example.com"})
    fresh = await outbox_token("new@example.com", "verify_email")
    assert fresh != old
    stale = await client.post(VERIFY, json={"token": old})
    assert stale.status_code == 422 and (await stale.get_json())["code"] == "invalid_token"
    response = await client.post(VERIFY, json={"token": fresh})
    assert response.status_code == 200
    assert (await response.get_json())["user"]["email_verified"] is True


async def test_a_fresh_link_replaces_an_expired_one(client, outbox_token):
    await register(client)
    old = await outbox_token("new@example.com", "verify_email")
    await AccountToken.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert (await client.post(VERIFY, json={"token": old})).status_code == 422
    await client.post(RESEND, json={"email": "new@example.com"})
    fresh = await outbox_token("new@example.com", "verify_email")
    assert (await client.post(VERIFY, json={"token": fresh})).status_code == 200


async def test_resend_does_not_touch_password_reset_links(client, customer, outbox_token):
    await User.get_pymongo_collection().update_one(
        {"_id": customer[0].id}, {"$set": {"email_verified": False}}
    )
    await client.post("/api/v1/auth/forgot-password", json={"email": "customer@example.com"})
    reset = await outbox_token("customer@example.com", "password_reset")
    await client.post(RESEND, json={"email": "customer@example.com"})
    await outbox_token("customer@example.com", "verify_email")
    response = await client.post(
        "/api/v1/auth/reset-password", json={"token": reset, "password": "Brand-New-Secret-7"}
    )
    assert response.status_code == 200


async def test_unverified_users_keep_shopping(client, create_user, login):
    await create_user(email="pending@example.com", email_verified=False)
    tokens = await login("pending@example.com", TEST_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    address = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    response = await client.post("/api/v1/users/me/addresses", json=address, headers=headers)
    assert response.status_code == 201


@pytest.mark.parametrize(
    "payload", [{}, {"email": ""}, {"email": {"$ne": ""}}, {"email": "a@b.c", "x": 1}]
)
async def test_malformed_bodies_are_422(client, payload):
    assert (await client.post(RESEND, json=payload)).status_code == 422


async def test_resend_is_documented(client):
    spec = await (await client.get("/openapi.json")).get_json()
    operation = spec["paths"]["/api/v1/auth/resend-verification"]["post"]
    assert operation["summary"] and "202" in operation["responses"]
    assert "429" in operation["responses"]


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"RATE_LIMIT_RESEND_VERIFICATION_PER_MINUTE": 2}

    async def test_limited_per_client_address(self, client):
        for n in range(2):
            response = await client.post(RESEND, json={"email": f"u{n}@example.com"})
            assert response.status_code == 202
        limited = await client.post(RESEND, json={"email": "u9@example.com"})
        assert limited.status_code == 429 and "Retry-After" in limited.headers

    async def test_limited_per_email_across_addresses(self, client):
        for n in range(2):
            response = await client.post(
                RESEND, json={"email": "a@example.com"}, scope_base={"client": (f"10.0.0.{n}", 1)}
            )
            assert response.status_code == 202
        limited = await client.post(
            RESEND, json={"email": "A@example.com"}, scope_base={"client": ("10.0.0.9", 1)}
        )
        assert limited.status_code == 429
