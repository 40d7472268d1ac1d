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
