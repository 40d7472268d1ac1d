"""Finding 1: no public signing key; tokens must name a live session of their own subject and
live no longer than ACCESS_TOKEN_TTL; production artefacts run in production mode."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from beanie import PydanticObjectId
from pydantic import ValidationError

from app.auth.models import AuthSession
from config import Settings

ROOT = Path(__file__).resolve().parents[2]
URI = "mongodb://db:27017/?replicaSet=rs0"
GOOD_SECRET = "k" * 48
# The development key that used to be the default: it is public (it is in the git history).
PUBLIC_KEY = "dev-insecure-secret-key-change-me-0123456789"
ME = "/api/v1/users/me"


# What a test does not set is unset, whatever this machine's environment holds (the suite
# also runs with MONGODB_URI set, against a real server).
UNSET = {"MONGODB_URI": None, "SECRET_KEY": None, "SMTP_HOST": None, "EMAIL_BACKEND": None}


def settings(**values) -> Settings:
    return Settings(_env_file=None, **{**UNSET, **values})


def test_without_a_secret_key_the_embedded_engine_gets_a_random_key_per_start():
    first, second = settings(), settings()
    assert first.SECRET_KEY and second.SECRET_KEY
    assert first.SECRET_KEY != second.SECRET_KEY
    assert len(first.SECRET_KEY) >= 32
    assert PUBLIC_KEY not in (first.SECRET_KEY, second.SECRET_KEY)


@pytest.mark.parametrize("app_env", ["development", "testing", "production"])
def test_a_real_database_requires_a_secret_key_in_every_mode(app_env):
    with pytest.raises(ValidationError) as error:
        settings(APP_ENV=app_env, MONGODB_URI=URI)
    assert "SECRET_KEY" in str(error.value)


@pytest.mark.parametrize("secret", [PUBLIC_KEY, "short"])
@pytest.mark.parametrize("database", [None, URI])
def test_the_public_or_a_short_key_is_refused_in_every_mode(secret, database):
    with pytest.raises(ValidationError) as error:
        settings(SECRET_KEY=secret, MONGODB_URI=database)
    assert "SECRET_KEY" in str(error.value)


def test_a_configured_key_is_kept():
    assert settings(SECRET_KEY=GOOD_SECRET, MONGODB_URI=URI).SECRET_KEY == GOOD_SECRET


@pytest.mark.parametrize("name", ["Dockerfile", "Procfile"])
def test_production_artefacts_run_in_production_mode(name):
    text = (ROOT / name).read_text()
    assert "APP_ENV=production" in text.replace(" ", "").replace('"', "")


def _forge(settings, **claims) -> dict[str, str]:
    now = datetime.now(UTC)
    values = {
        "role": "admin",
        "jti": "forged",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.ACCESS_TOKEN_TTL),
        "iss": "shop-api",
        "typ": "access",
        **claims,
    }
    token = jwt.encode({k: v for k, v in values.items() if v is not None}, settings.SECRET_KEY)
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_without_a_session_is_refused(client, admin, settings):
    user, _ = admin
    response = await client.get(ME, headers=_forge(settings, sub=str(user.id)))
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "invalid_token"


async def test_a_token_naming_another_users_session_is_refused(
    client, admin, customer, settings, login
):
    admin_user, _ = admin
    tokens = await login("customer@example.com")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = _forge(settings, sub=str(admin_user.id), sid=claims["sid"])
    assert (await client.get(ME, headers=forged)).status_code == 401
    # The same claims with the session's own subject pass: the check is the ownership.
    own = _forge(settings, sub=claims["sub"], sid=claims["sid"], role="customer")
    assert (await client.get(ME, headers=own)).status_code == 200


async def test_a_token_living_longer_than_the_access_ttl_is_refused(
    client, customer, settings, login
):
    tokens = await login("customer@example.com")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    now = datetime.now(UTC)
    forged = _forge(
        settings,
        sub=claims["sub"],
        sid=claims["sid"],
        role="customer",
        exp=now + timedelta(seconds=settings.ACCESS_TOKEN_TTL + 60),
    )
    response = await client.get(ME, headers=forged)
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "invalid_token"


async def test_the_fixture_tokens_are_genuine_sessions(client, customer):
    user, headers = customer
    token = headers["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    auth_session = await AuthSession.get(PydanticObjectId(claims["sid"]))
    assert auth_session is not None and auth_session.user_id == user.id
    assert (await client.get(ME, headers=headers)).status_code == 200
