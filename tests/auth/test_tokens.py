"""Access tokens (tampering, algorithms, expiry), refresh rotation and reuse, logout."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from bson import ObjectId

from app.auth.models import AuthSession, RefreshToken, User
from app.core.security import create_access_token, token_digest

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def session_of(fixture_user) -> str:
    """The `sid` of a fixture user's genuine session, so forged tokens differ only in what a
    test changes (otherwise they would fail for want of a session)."""
    token = fixture_user[1]["Authorization"].split()[1]
    return jwt.decode(token, options={"verify_signature": False})["sid"]


async def me_status(client, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def me_code(client, token: str) -> str:
    return (await (await client.get(ME, headers=bearer(token))).get_json())["code"]


# -- access tokens ---------------------------------------------------------------------------


async def test_tampered_payload_is_rejected(client, customer, settings):
    user, _ = customer
    token, _ = create_access_token(
        subject=str(user.id),
        role="customer",
        secret=settings.SECRET_KEY,
        ttl_seconds=60,
        extra={"sid": session_of(customer)},
    )
    assert await me_status(client, token) == 200  # genuine before tampering
    header, _, signature = token.split(".")
    forged = {**jwt.decode(token, options={"verify_signature": False}), "role": "admin"}
    tampered = f"{header}.{_b64(forged)}.{signature}"
    assert await me_status(client, tampered) == 401
    assert await me_code(client, tampered) == "invalid_token"


async def test_alg_none_is_rejected(client, customer):
    user, _ = customer
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": str(user.id),
        "role": "admin",
        "jti": "x",
        "iat": now,
        "exp": now + 600,
        "iss": "shop-api",
        "typ": "access",
        "sid": session_of(customer),
    }
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert await me_status(client, unsigned) == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_algorithms_with_the_right_key_are_rejected(
    client, customer, settings, algorithm
):
    user, _ = customer
    now = datetime.now(UTC)
    token = jwt.encode(
        {
            "sub": str(user.id),
            "role": "customer",
            "jti": "j",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "iss": "shop-api",
            "typ": "access",
            "sid": session_of(customer),
        },
        settings.SECRET_KEY,
        algorithm=algorithm,
    )
    assert await me_status(client, token) == 401


async def test_token_signed_with_another_key_is_rejected(client, customer):
    user, _ = customer
    token, _ = create_access_token(
        subject=str(user.id),
        role="customer",
        secret="another-secret-key-of-32-bytes-or-more!!",
        ttl_seconds=60,
        extra={"sid": session_of(customer)},
    )
    assert await me_status(client, token) == 401


async def test_expired_access_token_is_401_token_expired(client, customer, settings):
    user, _ = customer
    token, _ = create_access_token(
        subject=str(user.id),
        role="customer",
        secret=settings.SECRET_KEY,
        ttl_seconds=-30,
        extra={"sid": session_of(customer)},
    )
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "token_expired"
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Token abc"],
)
async def test_missing_or_malformed_authorization_is_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


async def test_token_of_a_deleted_user_is_rejected(client, customer):
    user, headers = customer
    await user.delete()
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_token_of_a_deactivated_user_is_rejected(client, customer):
    user, headers = customer
    await User.get_pymongo_collection().update_one({"_id": user.id}, {"$set": {"is_active": False}})
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "account_disabled"


# -- refresh ---------------------------------------------------------------------------------


async def test_refresh_rotates_the_pair(client, customer, login):
    first = await login("customer@example.com")
    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = await response.get_json()
    assert second["token_type"] == "bearer" and second["user"]["email"] == "customer@example.com"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert await me_status(client, second["access_token"]) == 200
    # Both refresh tokens belong to one family, stored hashed.
    rows = await RefreshToken.find_all().to_list()
    assert len({row.family_id for row in rows}) == 1
    assert {row.token_hash for row in rows} == {
        token_digest(first["refresh_token"]),
        token_digest(second["refresh_token"]),
    }


async def test_reusing_a_refresh_token_revokes_the_whole_family(client, customer, login):
    first = await login("customer@example.com")
    other_login = await login("customer@example.com")
    rotated = await (
        await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    ).get_json()

    reuse = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert (await reuse.get_json())["code"] == "invalid_token"

    # Every token of that login is dead: the rotated refresh token and both access tokens...
    assert (
        await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    ).status_code == 401
    assert await me_status(client, rotated["access_token"]) == 401
    assert await me_status(client, first["access_token"]) == 401
    # ...while another login of the same user goes on.
    assert await me_status(client, other_login["access_token"]) == 200
    again = await client.post(REFRESH, json={"refresh_token": other_login["refresh_token"]})
    assert again.status_code == 200
    [revoked] = await AuthSession.find(AuthSession.revoked_at != None).to_list()  # noqa: E711
    assert revoked.revoked_reason == "refresh_token_reuse"


@pytest.mark.parametrize("token", ["unknown-token", "x" * 256])
async def test_unknown_refresh_token_is_401(client, token):
    response = await client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "invalid_token"


@pytest.mark.parametrize(
    "payload", [{}, {"refresh_token": ""}, {"refresh_token": {"$ne": ""}}, {"refresh_token": 1}]
)
async def test_malformed_refresh_is_422(client, payload):
    assert (await client.post(REFRESH, json=payload)).status_code == 422


async def test_expired_refresh_token_is_401(client, customer, login):
    tokens = await login("customer@example.com")
    await RefreshToken.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "invalid_token"


async def test_refresh_for_a_deactivated_user_is_401(client, customer, login):
    tokens = await login("customer@example.com")
    await User.get_pymongo_collection().update_one(
        {"_id": customer[0].id}, {"$set": {"is_active": False}}
    )
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401


# -- logout ----------------------------------------------------------------------------------


async def test_logout_kills_both_tokens_at_once(client, customer, login, settings):
    tokens = await login("customer@example.com")
    response = await client.post(
        LOGOUT,
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert await response.get_data() == b""
    assert await me_status(client, tokens["access_token"]) == 401
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Logout ends the token's session: that is what refuses the token from now on.
    claims = jwt.decode(
        tokens["access_token"], settings.SECRET_KEY, algorithms=["HS256"], issuer="shop-api"
    )
    ended = await AuthSession.get(ObjectId(claims["sid"]))
    assert ended.revoked_at is not None and ended.revoked_reason == "logout"


async def test_logout_with_an_unknown_refresh_token_still_ends_the_access_tokens_session(
    client, customer, login
):
    tokens = await login("customer@example.com")
    response = await client.post(
        LOGOUT, json={"refresh_token": "x" * 43}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 204
    assert await me_status(client, tokens["access_token"]) == 401
    # The refresh token of the same login is over too: it was that session's.
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def test_logout_leaves_other_logins_alone(client, customer, login):
    mine = await login("customer@example.com")
    elsewhere = await login("customer@example.com")
    await client.post(
        LOGOUT, json={"refresh_token": mine["refresh_token"]}, headers=bearer(mine["access_token"])
    )
    assert await me_status(client, elsewhere["access_token"]) == 200
    assert (
        await client.post(REFRESH, json={"refresh_token": elsewhere["refresh_token"]})
    ).status_code == 200


async def test_logout_cannot_revoke_another_users_refresh_token(
    client, customer, create_user, login
):
    await create_user(email="victim@example.com")
    victim = await login("victim@example.com")
    attacker = await login("customer@example.com")
    response = await client.post(
        LOGOUT,
        json={"refresh_token": victim["refresh_token"]},
        headers=bearer(attacker["access_token"]),
    )
    assert response.status_code == 204
    assert (
        await client.post(REFRESH, json={"refresh_token": victim["refresh_token"]})
    ).status_code == 200


async def test_logout_requires_an_access_token(client, customer, login):
    tokens = await login("customer@example.com")
    response = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert (
        await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 200


async def test_each_request_checks_its_session_without_building_models(
    client, customer, monkeypatch
):
    """Issue 16: the checks every authenticated request makes read the fields they test; the
    session's expiry, end or another owner still refuse the token at once."""
    built = []

    class Counting:
        def __init__(self, model):
            self.model, self.real = model, model.__pydantic_validator__

        def __getattr__(self, name):
            built.append(self.model.__name__)
            return getattr(self.real, name)

    monkeypatch.setattr(AuthSession, "__pydantic_validator__", Counting(AuthSession))
    token = customer[1]["Authorization"].split()[1]
    assert await me_status(client, token) == 200
    assert built == []
    monkeypatch.undo()
    session = await AuthSession.get(session_of(customer))
    session.user_id = ObjectId()
    await session.save()
    assert await me_code(client, token) == "invalid_token"
    session.user_id = customer[0].id
    session.revoked_at = datetime.now(UTC)
    await session.save()
    assert await me_code(client, token) == "invalid_token"
    session.revoked_at = None
    await session.save()
    assert await me_status(client, token) == 200
    # Expired (a TTL index removes it in time; until then the check refuses it).
    await AuthSession.get_pymongo_collection().update_one(
        {"_id": session.id}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert await me_code(client, token) == "invalid_token"
