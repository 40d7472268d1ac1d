"""Finding 7: a name chosen by whoever registered is not echoed in mail to an address nobody
has proven, and names cannot carry line breaks or control characters."""

import pytest

from app.email.models import OutboxEmail

REGISTER = "/api/v1/auth/register"
PASSWORD = "Zebra-Cactus-9"
BAIT = "Refund due, claim at https://evil.example/refund"


async def register(client, email: str, name: str):
    return await client.post(REGISTER, json={"email": email, "password": PASSWORD, "name": name})


async def test_the_verification_email_does_not_echo_the_name(client):
    assert (await register(client, "victim@example.com", BAIT)).status_code == 201
    [email] = await OutboxEmail.find({"kind": "verify_email"}).to_list()
    assert "evil.example" not in email.text and "evil.example" not in (email.html or "")
    assert "evil.example" not in email.subject


async def test_a_reset_email_to_an_unverified_address_does_not_echo_the_name(client, outbox_token):
    await register(client, "victim@example.com", BAIT)
    await client.post("/api/v1/auth/forgot-password", json={"email": "victim@example.com"})
    await outbox_token("victim@example.com", "password_reset")
    [email] = await OutboxEmail.find({"kind": "password_reset"}).to_list()
    assert "evil.example" not in email.text and "evil.example" not in (email.html or "")


async def test_a_verified_owner_is_greeted_by_name(client, create_user, outbox_token):
    await create_user(email="owner@example.com", name="Ada Lovelace", email_verified=True)
    await client.post("/api/v1/auth/forgot-password", json={"email": "owner@example.com"})
    await outbox_token("owner@example.com", "password_reset")
    [email] = await OutboxEmail.find({"kind": "password_reset"}).to_list()
    assert "Ada Lovelace" in email.text


@pytest.mark.parametrize(
    "name",
    [
        "Bob\nVisit https://evil.example",
        "Bob\r\nBcc: someone@example.com",
        "Bob\tSmith",
        "Bob\u2028Smith",  # line separator
        "Bob\u202eevil",  # right-to-left override
        "Bob\x7f",
    ],
)
async def test_names_with_line_breaks_or_control_characters_are_refused(client, name):
    response = await register(client, "new@example.com", name)
    assert response.status_code == 422
    assert (await response.get_json())["errors"][0]["loc"] == ["name"]


async def test_profile_names_follow_the_same_rule(client, customer):
    _, headers = customer
    response = await client.patch(
        "/api/v1/users/me", json={"name": "Bob\nhttps://evil.example"}, headers=headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["Zoë O'Brien-Smith", "李小龙", "Ana María", "👩‍💻 Dev"])
async def test_ordinary_names_are_fine(client, name):
    assert (await register(client, "new@example.com", name)).status_code == 201
