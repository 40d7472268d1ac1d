"""Finding 5: forgot-password does the same work for known and unknown emails before it
answers: it records the request; the lookup and the email happen in the worker."""

import pytest

from app.auth.models import User
from app.email.models import OutboxEmail

FORGOT = "/api/v1/auth/forgot-password"


@pytest.fixture
def user_reads(monkeypatch):
    """Every read of the users collection made through the User model, by method name."""
    calls: list[str] = []
    for name in ("find_one", "find", "get", "get_pymongo_collection"):
        real = getattr(User, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(User, name, staticmethod(spy))
    return calls


async def test_the_answer_does_not_depend_on_a_user_lookup(client, customer, user_reads):
    known = await client.post(FORGOT, json={"email": "customer@example.com"})
    unknown = await client.post(FORGOT, json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert await known.get_json() == await unknown.get_json()
    assert user_reads == []  # neither path looked the account up before answering
    assert await OutboxEmail.count() == 0  # nothing is known yet about who exists


async def test_the_worker_sends_the_reset_email_to_known_accounts_only(
    client, customer, outbox_token
):
    await client.post(FORGOT, json={"email": "customer@example.com"})
    await client.post(FORGOT, json={"email": "nobody@example.com"})
    assert await outbox_token("customer@example.com", "password_reset")  # runs the worker
    rows = await OutboxEmail.find({"kind": "password_reset"}).to_list()
    assert [row.to for row in rows] == ["customer@example.com"]


async def test_requests_survive_until_a_worker_handles_them(client, customer, app):
    """The request is stored (not an in-memory task): a worker started later still sends it."""
    from app.auth.requests import AccountEmailRequest, process_account_requests

    await client.post(FORGOT, json={"email": "customer@example.com"})
    assert await AccountEmailRequest.count() == 1
    assert await process_account_requests() == 1
    assert await AccountEmailRequest.count() == 0
    assert await OutboxEmail.find({"kind": "password_reset"}).count() == 1
    assert await process_account_requests() == 0  # handled once
