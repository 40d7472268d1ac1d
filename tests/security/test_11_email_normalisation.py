"""Finding 11: login (and every lookup by email) normalises the address exactly as
registration does: NFKC, then the validator's normal form; mixed-script local parts are
refused at registration."""

import pytest

from app.auth.common import normalize_email

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
PASSWORD = "Zebra-Cactus-9"


@pytest.fixture
def settings_overrides():
    return {"RATE_LIMIT_ENABLED": False}


@pytest.mark.parametrize(
    "typed",
    [
        "bob@ｅｘａｍｐｌｅ.com",  # full-width domain
        "ｂｏｂ@example.com",  # full-width local part
        "  BOB@Example.COM ",
        "bob@EXAMPLE.com",
    ],
)
async def test_look_alike_spellings_log_in_to_the_same_account(client, typed):
    registered = await client.post(
        REGISTER, json={"email": "bob@example.com", "password": PASSWORD, "name": "Bob"}
    )
    assert registered.status_code == 201
    response = await client.post(LOGIN, json={"email": typed, "password": PASSWORD})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["user"]["email"] == "bob@example.com"
    taken = await client.post(REGISTER, json={"email": typed, "password": PASSWORD, "name": "X"})
    assert taken.status_code == 409


async def test_registration_stores_the_normal_form(client):
    response = await client.post(
        REGISTER, json={"email": "ｂｏｂ@ｅｘａｍｐｌｅ.com", "password": PASSWORD, "name": "Bob"}
    )
    assert response.status_code == 201
    assert (await response.get_json())["user"]["email"] == "bob@example.com"


@pytest.mark.parametrize(
    "email",
    [
        "bоb@example.com",  # Cyrillic о among Latin letters
        "pаypal@example.com",  # Cyrillic а
        "αlice@example.com",  # Greek alpha among Latin letters
    ],
)
async def test_mixed_script_local_parts_are_refused(client, email):
    response = await client.post(REGISTER, json={"email": email, "password": PASSWORD, "name": "X"})
    assert response.status_code == 422
    assert (await response.get_json())["errors"][0]["loc"] == ["email"]


@pytest.mark.parametrize("email", ["иван@example.com", "δοκιμή@example.com", "用户@example.com"])
async def test_single_script_local_parts_are_fine(client, email):
    response = await client.post(REGISTER, json={"email": email, "password": PASSWORD, "name": "X"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("bob@ｅｘａｍｐｌｅ.com", "bob@example.com"),
        ("ＢＯＢ@example.com", "bob@example.com"),
        ("bob@xn--bcher-kva.de", "bob@bücher.de"),
        ("not an email", "not an email"),
    ],
)
def test_one_normal_form(typed, expected):
    assert normalize_email(typed) == expected


class TestRateLimitKeys:
    @pytest.fixture
    def settings_overrides(self):
        return {"RATE_LIMIT_LOGIN_PER_MINUTE": 2}

    async def test_look_alike_spellings_share_one_per_account_bucket(self, client):
        spellings = ["bob@example.com", "ＢＯＢ@example.com", "bob@ｅｘａｍｐｌｅ.com"]
        statuses = []
        for n, email in enumerate(spellings):
            response = await client.post(
                LOGIN,
                json={"email": email, "password": "Wrong-Pass-1"},
                scope_base={"client": (f"10.0.0.{n}", 1)},
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 429]
