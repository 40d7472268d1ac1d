"""Links asked for by address (forgot password, resend verification) reach a real inbox
through the sender: it answers the stored requests before it delivers."""

import re

from app.email.backends import backend_from_settings
from app.email.sender import EmailSender


async def test_the_sender_answers_link_requests_and_delivers_them(
    client, settings, smtp_server, create_user
):
    await create_user(email="owner@example.com", email_verified=False)
    for url in ("/api/v1/auth/forgot-password", "/api/v1/auth/resend-verification"):
        for email in ("owner@example.com", "nobody@example.com"):
            assert (await client.post(url, json={"email": email})).status_code == 202
    assert smtp_server.inbox.messages == []  # nothing is sent on the request path

    sender = EmailSender(backend=backend_from_settings(settings), settings=settings)
    assert await sender.process_due() == 2
    received = smtp_server.inbox.to("owner@example.com")
    assert sorted(m["Subject"] for m in received) == [
        "Confirm your email address",
        "Reset your password",
    ]
    assert smtp_server.inbox.to("nobody@example.com") == []
    body = received[0].get_body(("plain",)).get_content()
    assert re.search(r"http://frontend\.test/(verify-email|reset-password)\?token=\S+", body)


def _token(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    found = re.search(rf"http://frontend\.test/{path}\?token=(\S+)", body)
    assert found, body
    return found.group(1)


async def test_the_links_that_arrive_reset_the_password_and_verify_the_email(
    client, settings, smtp_server, create_user
):
    await create_user(email="owner@example.com", email_verified=False)
    for url in ("/api/v1/auth/forgot-password", "/api/v1/auth/resend-verification"):
        assert (await client.post(url, json={"email": "owner@example.com"})).status_code == 202
    sender = EmailSender(backend=backend_from_settings(settings), settings=settings)
    assert await sender.process_due() == 2
    by_subject = {m["Subject"]: m for m in smtp_server.inbox.to("owner@example.com")}

    reset = _token(by_subject["Reset your password"], "reset-password")
    answer = await client.post(
        "/api/v1/auth/reset-password", json={"token": reset, "password": "Brand-New-Pass-77"}
    )
    assert answer.status_code == 200
    login = await client.post(
        "/api/v1/auth/login", json={"email": "owner@example.com", "password": "Brand-New-Pass-77"}
    )
    assert login.status_code == 200
    access = (await login.get_json())["access_token"]

    verify = _token(by_subject["Confirm your email address"], "verify-email")
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": verify})
    ).status_code == 200
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
    assert (await me.get_json())["email_verified"] is True
    # Each link works once.
    again = await client.post("/api/v1/auth/verify-email", json={"token": verify})
    assert (again.status_code, (await again.get_json())["code"]) == (422, "invalid_token")
