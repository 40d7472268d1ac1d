"""Findings 2 and 3: failed logins are counted before the password is checked (no race), per
account *and* client address; a higher ceiling per account across every address slows
attempts down instead of locking the owner out; admins can clear a lock."""

import asyncio

import pytest

from tests.support.accounts import TEST_PASSWORD

LOGIN = "/api/v1/auth/login"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def settings_overrides():
    return {
        "RATE_LIMIT_ENABLED": False,
        "LOGIN_LOCKOUT_ATTEMPTS": 5,
        "LOGIN_ACCOUNT_ATTEMPTS": 12,
        "LOGIN_SLOWDOWN_SECONDS": 30,
    }


async def attempt(client, password: str, ip: str, email: str = "customer@example.com"):
    return await client.post(
        LOGIN,
        json={"email": email, "password": password},
        scope_base={"client": (ip, 40000)},
    )


async def test_parallel_guesses_cannot_outrun_the_lockout(client, customer):
    """Ten logins at once, nine wrong and one right: at most five passwords are checked."""
    passwords = ["Wrong-Pass-1"] * 9 + [TEST_PASSWORD]
    responses = await asyncio.gather(*(attempt(client, p, OWNER_IP) for p in passwords))
    statuses = [r.status_code for r in responses]
    checked = [s for s in statuses if s in (200, 401)]
    assert len(checked) <= 5, statuses
    assert statuses.count(429) >= 5, statuses


async def test_a_stranger_cannot_lock_the_owner_out_of_their_usual_address(client, customer):
    for _i in range(5):
        assert (await attempt(client, "Wrong-Pass-1", "203.0.113.9")).status_code == 401
    locked = await attempt(client, TEST_PASSWORD, "203.0.113.9")
    assert locked.status_code == 429
    assert (await locked.get_json())["code"] == "account_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    # The owner, from their own address, is not affected.
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 200


async def test_an_attack_from_many_addresses_is_slowed_not_locked(client, customer):
    # Twelve failures from twelve addresses reach the per-account ceiling...
    for i in range(12):
        assert (await attempt(client, "Wrong-Pass-1", f"203.0.113.{i}")).status_code == 401
    # ...after which one attempt per slowdown period goes through, from any address,
    first = await attempt(client, "Wrong-Pass-1", "203.0.113.100")
    assert first.status_code == 401
    slowed = await attempt(client, TEST_PASSWORD, OWNER_IP)
    assert slowed.status_code == 429
    assert (await slowed.get_json())["code"] == "rate_limited"
    retry_after = int(slowed.headers["Retry-After"])
    assert 0 < retry_after <= 30  # seconds, not the fifteen-minute lock


async def test_slowdown_lets_the_owner_in_once_the_period_has_passed(client, customer):
    from datetime import timedelta

    from app.auth.models import LoginCounter
    from app.core.clock import utcnow

    for i in range(13):
        await attempt(client, "Wrong-Pass-1", f"203.0.113.{i}")
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 429
    # The period passes (moved back in the database rather than waited for).
    await LoginCounter.get_pymongo_collection().update_many(
        {"scope": "account"}, {"$set": {"next_attempt_at": utcnow() - timedelta(seconds=1)}}
    )
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 200


async def test_refused_attempts_do_not_count_towards_the_owners_address_lock(client, customer):
    for i in range(13):
        await attempt(client, "Wrong-Pass-1", f"203.0.113.{i}")
    for _ in range(6):  # the owner keeps trying while slowed down
        assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 429
    from datetime import timedelta

    from app.auth.models import LoginCounter
    from app.core.clock import utcnow

    await LoginCounter.get_pymongo_collection().update_many(
        {"scope": "account"}, {"$set": {"next_attempt_at": utcnow() - timedelta(seconds=1)}}
    )
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 200


async def test_an_admin_can_clear_a_lock(client, customer, admin):
    user, _ = customer
    for _ in range(6):
        await attempt(client, "Wrong-Pass-1", OWNER_IP)
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 429
    url = f"/api/v1/admin/users/{user.id}/unlock"
    assert (await client.post(url, headers=customer[1])).status_code == 403
    response = await client.post(url, headers=admin[1])
    assert response.status_code == 204
    assert (await attempt(client, TEST_PASSWORD, OWNER_IP)).status_code == 200


async def test_unlocking_an_unknown_user_is_404(client, admin):
    for user_id in ("0" * 24, "not-an-id"):
        response = await client.post(f"/api/v1/admin/users/{user_id}/unlock", headers=admin[1])
        assert response.status_code == 404


async def test_the_unlock_route_is_documented(client):
    spec = await (await client.get("/openapi.json")).get_json()
    operation = spec["paths"]["/api/v1/admin/users/{user_id}/unlock"]["post"]
    assert operation["summary"] and "204" in operation["responses"]
    assert {"401", "403", "404"} <= set(operation["responses"])
