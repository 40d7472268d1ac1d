"""The user loader's work per authenticated request (issue 16, checkout's CPU per flow: three
authenticated requests a flow). Counts, never timings."""

from __future__ import annotations

import jwt
import pytest

from app.auth.models import User
from app.core import security
from app.errors import Unauthenticated

ME = "/api/v1/users/me"


async def test_the_user_is_read_with_one_driver_call_and_built_once(client, customer, monkeypatch):
    """No Beanie query (its query object, projection and parsing layers) for the user: one
    read of the document, one User built from it, and only once its checks passed."""
    user, headers = customer
    queries, built = [], []

    def refuse(*args, **kwargs):
        queries.append(args)
        raise AssertionError("the user was read through a Beanie query")

    for name in ("get", "find_one", "find"):
        monkeypatch.setattr(User, name, refuse)
    real = User.model_validate.__func__

    def counting(cls, *args, **kwargs):
        built.append(1)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(User, "model_validate", classmethod(counting))
    reads = []
    collection = User.get_pymongo_collection()
    real_find_one = collection.find_one

    async def counting_find_one(*args, **kwargs):
        reads.append(args[0] if args else kwargs.get("filter"))
        return await real_find_one(*args, **kwargs)

    monkeypatch.setattr(collection, "find_one", counting_find_one)

    response = await client.get(ME, headers=headers)
    assert response.status_code == 200, await response.get_json()
    assert (await response.get_json())["email"] == user.email
    assert queries == []
    assert reads == [{"_id": user.id}]
    assert built == [1]


async def test_a_disabled_account_is_refused_before_a_model_is_built(
    client, create_user, monkeypatch
):
    user, headers = await create_user(email="off@example.com")
    await User.get_pymongo_collection().update_one({"_id": user.id}, {"$set": {"is_active": False}})
    built = []
    real = User.model_validate.__func__

    def counting(cls, *args, **kwargs):
        built.append(1)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(User, "model_validate", classmethod(counting))
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "account_disabled"
    assert built == []


async def test_a_token_is_verified_once_and_its_expiry_checked_every_time(
    client, customer, settings, monkeypatch
):
    """The same access token on every request: PyJWT verifies it once (signature, algorithm,
    issuer, fixed claims), its expiry is checked on each use, and a token verified under
    one secret says nothing under another."""
    _, headers = customer
    token = headers["Authorization"].split()[1]
    decoded = []
    real = security.jwt.decode

    def counting(*args, **kwargs):
        decoded.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(security.jwt, "decode", counting)
    for _ in range(3):
        assert (await client.get(ME, headers=headers)).status_code == 200
    assert len(decoded) == 1

    claims = jwt.decode(token, options={"verify_signature": False})
    monkeypatch.setattr(security, "_now", lambda: float(claims["exp"]))
    expired = await client.get(ME, headers=headers)
    assert expired.status_code == 401
    assert (await expired.get_json())["code"] == "token_expired"

    monkeypatch.setattr(security, "_now", lambda: float(claims["iat"]))
    assert (await client.get(ME, headers=headers)).status_code == 200
    with pytest.raises(Unauthenticated) as refused:
        security.decode_access_token(token, secret=settings.SECRET_KEY + "-rotated")
    assert refused.value.code == "invalid_token"


def test_the_claims_handed_out_are_copies(settings):
    token, _ = security.create_access_token(
        subject="u1", role="customer", secret=settings.SECRET_KEY, ttl_seconds=60
    )
    first = security.decode_access_token(token, secret=settings.SECRET_KEY)
    first["role"] = "admin"
    assert security.decode_access_token(token, secret=settings.SECRET_KEY)["role"] == "customer"
