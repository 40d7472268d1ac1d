"""Rate limits on the auth routes: per client IP and per account, state kept in MongoDB."""

import pytest

from app.core.ratelimit import RateLimitBucket
from tests.support.accounts import TEST_PASSWORD

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def settings_overrides():
    return {
        "RATE_LIMIT_LOGIN_PER_MINUTE": 2,
        "RATE_LIMIT_REGISTER_PER_MINUTE": 2,
        "RATE_LIMIT_FORGOT_PASSWORD_PER_MINUTE": 2,
        "RATE_LIMIT_REFRESH_PER_MINUTE": 2,
        "LOGIN_LOCKOUT_ATTEMPTS": 100,
    }


def from_ip(ip: str) -> dict:
    return {"scope_base": {"client": (ip, 40000)}}


async def post(client, url, payload, ip="10.0.0.1"):
    return await client.post(url, json=payload, **from_ip(ip))


async def assert_limited(response):
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert (await response.get_json())["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_login_is_limited_per_client_ip(client, customer):
    for i in range(2):
        response = await post(client, LOGIN, {"email": f"u{i}@example.com", "password": "x"})
        assert response.status_code == 401
    await assert_limited(await post(client, LOGIN, {"email": "u9@example.com", "password": "x"}))
    # Another client is not affected.
    other = await post(
        client, LOGIN, {"email": "customer@example.com", "password": TEST_PASSWORD}, ip="10.0.0.2"
    )
    assert other.status_code == 200


async def test_login_is_limited_per_email_across_ips(client, customer):
    payload = {"email": "customer@example.com", "password": "Wrong-Pass-1"}
    for ip in ("10.0.0.1", "10.0.0.2"):
        assert (await post(client, LOGIN, payload, ip=ip)).status_code == 401
    # The email key is normalised: case and spaces do not make a new bucket.
    payload["email"] = "  CUSTOMER@example.com"
    await assert_limited(await post(client, LOGIN, payload, ip="10.0.0.3"))


@pytest.mark.parametrize(
    "url, payload",
    [
        ("/api/v1/auth/register", {"email": "a@example.com", "password": "x", "name": "A"}),
        ("/api/v1/auth/forgot-password", {"email": "a@example.com"}),
        ("/api/v1/auth/refresh", {"refresh_token": "not-a-token"}),
    ],
)
async def test_other_auth_routes_are_limited(client, url, payload):
    for _ in range(2):
        assert (await post(client, url, payload)).status_code != 429
    await assert_limited(await post(client, url, payload))


async def test_refresh_is_limited_per_account_across_ips(client, customer, login):
    tokens = await login("customer@example.com")
    token = tokens["refresh_token"]
    for ip in ("10.0.0.1", "10.0.0.2"):
        response = await post(client, "/api/v1/auth/refresh", {"refresh_token": token}, ip=ip)
        assert response.status_code == 200
        token = (await response.get_json())["refresh_token"]
    await assert_limited(
        await post(client, "/api/v1/auth/refresh", {"refresh_token": token}, ip="10.0.0.3")
    )


async def test_limits_are_kept_in_the_database_without_clear_keys(client):
    await post(client, LOGIN, {"email": "secret.person@example.com", "password": "x"})
    buckets = await RateLimitBucket.find_all().to_list()
    assert len(buckets) == 2  # one per IP, one per email
    assert all("secret.person" not in b.key and "10.0.0.1" not in b.key for b in buckets)


async def test_forwarded_for_header_does_not_dodge_the_limit(client):
    for i in range(2):
        await client.post(
            LOGIN,
            json={"email": f"u{i}@example.com", "password": "x"},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
            **from_ip("10.0.0.1"),
        )
    response = await client.post(
        LOGIN,
        json={"email": "u5@example.com", "password": "x"},
        headers={"X-Forwarded-For": "192.0.2.99"},
        **from_ip("10.0.0.1"),
    )
    await assert_limited(response)


class TestDisabled:
    @pytest.fixture
    def settings_overrides(self):
        return {"RATE_LIMIT_ENABLED": False, "RATE_LIMIT_LOGIN_PER_MINUTE": 1}

    async def test_no_limits_when_disabled(self, client):
        for i in range(5):
            response = await post(client, LOGIN, {"email": f"u{i}@example.com", "password": "x"})
            assert response.status_code == 401
        assert await RateLimitBucket.count() == 0


class TestDefaults:
    @pytest.fixture
    def settings_overrides(self):
        return {}

    async def test_default_limits_leave_room_for_normal_traffic(self, client, customer, login):
        for _ in range(5):
            await login("customer@example.com")


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        (b'{"email": ', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"email=a", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_unreadable_bodies_on_limited_routes_are_problems(client, data, content_type, status):
    response = await client.post(LOGIN, data=data, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.content_type == "application/problem+json"


async def test_429_carries_a_request_id(client):
    for i in range(3):
        response = await post(client, LOGIN, {"email": f"u{i}@example.com", "password": "x"})
    await assert_limited(response)
    assert (await response.get_json())["request_id"] == response.headers["X-Request-ID"]
