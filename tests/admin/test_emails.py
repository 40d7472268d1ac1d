"""The admin outbox: list, filter and requeue emails."""

import pytest

from app.email import service
from app.email.models import OutboxEmail

URL = "/api/v1/admin/emails"


async def make(to: str, kind: str = "test", status: str = "pending") -> OutboxEmail:
    row = await service.enqueue(to=to, kind=kind, context={"subject": "s", "body": "b"})
    if status != "pending":
        await OutboxEmail.get_pymongo_collection().update_one(
            {"_id": row.id}, {"$set": {"status": status}}
        )
    return row


async def test_list_newest_first_with_envelope(client, admin):
    _, headers = admin
    for i in range(3):
        await make(f"u{i}@example.com")
    response = await client.get(URL, headers=headers, query_string={"per_page": 2})
    assert response.status_code == 200
    body = await response.get_json()
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (3, 2, 1, 2)
    assert [e["to"] for e in body["items"]] == ["u2@example.com", "u1@example.com"]
    assert "_id" not in body["items"][0] and len(body["items"][0]["id"]) == 24


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"to": "A@example.com"}, ["a@example.com"]),
        ({"kind": "other"}, ["b@example.com"]),
        ({"status": "failed"}, ["c@example.com"]),
    ],
)
async def test_filters(client, admin, query, expected):
    await make("a@example.com")
    await make("b@example.com", kind="other")
    await make("c@example.com", status="failed")
    response = await client.get(URL, headers=admin[1], query_string=query)
    assert [e["to"] for e in (await response.get_json())["items"]] == expected


async def test_bad_status_filter_is_422(client, admin):
    response = await client.get(URL, headers=admin[1], query_string={"status": "lost"})
    assert response.status_code == 422


@pytest.mark.parametrize("kind", ["Order Status", "order-status", "", "x" * 65, "$ne"])
async def test_a_kind_that_cannot_be_one_is_422_problem(client, admin, kind):
    response = await client.get(URL, headers=admin[1], query_string={"kind": kind})
    assert (response.status_code, response.content_type) == (422, "application/problem+json")


async def test_filter_by_kind_with_the_others(client, admin):
    await make("a@example.com", kind="test")
    await make("a@example.com", kind="other")
    await make("b@example.com", kind="test", status="failed")
    query = {"kind": "test", "to": "a@example.com"}
    response = await client.get(URL, headers=admin[1], query_string=query)
    assert [(e["to"], e["kind"]) for e in (await response.get_json())["items"]] == [
        ("a@example.com", "test")
    ]
    query = {"kind": "test", "status": "failed"}
    response = await client.get(URL, headers=admin[1], query_string=query)
    assert [e["to"] for e in (await response.get_json())["items"]] == ["b@example.com"]


@pytest.mark.parametrize("status", ["failed", "sent"])
async def test_resend_puts_the_row_back_in_the_queue(client, admin, status):
    row = await make("a@example.com", status=status)
    response = await client.post(f"{URL}/{row.id}/resend", headers=admin[1])
    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "pending" and body["attempts"] == 0


async def test_resend_of_a_queued_row_is_409(client, admin):
    row = await make("a@example.com")
    response = await client.post(f"{URL}/{row.id}/resend", headers=admin[1])
    assert response.status_code == 409


@pytest.mark.parametrize("email_id", ["0" * 24, "not-an-id"])
async def test_resend_unknown_is_404(client, admin, email_id):
    response = await client.post(f"{URL}/{email_id}/resend", headers=admin[1])
    assert response.status_code == 404


@pytest.mark.parametrize("method, path", [("get", URL), ("post", f"{URL}/{'0' * 24}/resend")])
async def test_admin_only(client, customer, method, path):
    anonymous = await getattr(client, method)(path)
    assert anonymous.status_code == 401
    as_customer = await getattr(client, method)(path, headers=customer[1])
    assert as_customer.status_code == 403


async def test_a_row_being_sent_is_reported_pending(client, admin):
    row = await make("a@example.com", status="sending")
    await make("b@example.com", status="sent")
    response = await client.get(URL, headers=admin[1], query_string={"status": "pending"})
    items = (await response.get_json())["items"]
    assert [(e["id"], e["status"]) for e in items] == [(str(row.id), "pending")]


async def test_live_tokens_are_redacted_for_support(client, admin):
    await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": "Sturdy-Pass-4242", "name": "New"},
    )
    stored = await OutboxEmail.find_one(OutboxEmail.to == "new@example.com")
    assert "token=" in stored.text and "[redacted]" not in stored.text
    response = await client.get(URL, headers=admin[1], query_string={"to": "new@example.com"})
    [item] = (await response.get_json())["items"]
    assert "verify-email?token=[redacted]" in item["text"]
    token = stored.text.split("token=")[1].split()[0]
    assert token not in item["text"] and token not in (item["html"] or "")


# -- account emails get a fresh token when resent ----------------------------------------------


async def _mark(row_id, status: str) -> None:
    await OutboxEmail.get_pymongo_collection().update_one(
        {"_id": row_id}, {"$set": {"status": status}}
    )


async def _register(client, email="new@example.com"):
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "Zebra-Cactus-9", "name": "N"}
    )
    assert response.status_code == 201


async def test_resending_a_verification_email_issues_a_fresh_token(client, admin, outbox_token):
    from datetime import UTC, datetime, timedelta

    from app.auth.models import AccountToken

    await _register(client)
    old = await outbox_token("new@example.com", "verify_email")
    # The link expired before the email could be delivered.
    await AccountToken.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    [row] = await OutboxEmail.find({"kind": "verify_email"}).to_list()
    await _mark(row.id, "failed")
    response = await client.post(f"{URL}/{row.id}/resend", headers=admin[1])
    assert response.status_code == 200
    body = await response.get_json()
    assert body["id"] == str(row.id) and body["status"] == "pending"
    assert "[redacted]" in body["text"]  # the admin still never sees the token
    fresh = await outbox_token("new@example.com", "verify_email")
    assert fresh != old
    assert (await client.post("/api/v1/auth/verify-email", json={"token": old})).status_code == 422
    verified = await client.post("/api/v1/auth/verify-email", json={"token": fresh})
    assert verified.status_code == 200


async def test_resending_a_reset_email_issues_a_fresh_token(client, admin, customer, outbox_token):
    await client.post("/api/v1/auth/forgot-password", json={"email": "customer@example.com"})
    old = await outbox_token("customer@example.com", "password_reset")
    [row] = await OutboxEmail.find({"kind": "password_reset"}).to_list()
    await _mark(row.id, "sent")
    assert (await client.post(f"{URL}/{row.id}/resend", headers=admin[1])).status_code == 200
    fresh = await outbox_token("customer@example.com", "password_reset")
    assert fresh != old
    reset = "/api/v1/auth/reset-password"
    stale = await client.post(reset, json={"token": old, "password": "Brand-New-Secret-7"})
    assert stale.status_code == 422
    ok = await client.post(reset, json={"token": fresh, "password": "Brand-New-Secret-7"})
    assert ok.status_code == 200


async def test_resending_a_verification_to_a_verified_account_is_409(client, admin, outbox_token):
    await _register(client)
    token = await outbox_token("new@example.com", "verify_email")
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 200
    [row] = await OutboxEmail.find({"kind": "verify_email"}).to_list()
    await _mark(row.id, "sent")
    response = await client.post(f"{URL}/{row.id}/resend", headers=admin[1])
    assert response.status_code == 409
    after = await OutboxEmail.get(row.id)
    assert after.status == "sent" and after.text == row.text
