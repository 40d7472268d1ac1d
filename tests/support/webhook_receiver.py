"""A real webhook receiver on 127.0.0.1 (an asyncio HTTP/1.1 server in the test's own loop)
that verifies every request's Standard Webhooks signature with the `standardwebhooks`
package, as a store's warehouse system would.

`answers` scripts the replies: each request takes the next one (the last repeats): an int is
a status code, "hang" holds the request until `release()` (a receiver that never answers).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified: bool
    answered: int | None = None

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    answers: list[int | str] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    hanging: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._release = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def delivered(self) -> list[Received]:
        """Requests answered 2xx: what the receiver took in."""
        return [r for r in self.requests if r.answered is not None and 200 <= r.answered < 300]

    def release(self) -> None:
        self._release.set()

    def _verify(self, headers: dict[str, str], body: str) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = (await reader.readexactly(int(headers.get("content-length", "0")))).decode()
            received = Received(headers=headers, body=body, verified=self._verify(headers, body))
            self.requests.append(received)
            answer = self.answers[min(len(self.requests) - 1, len(self.answers) - 1)]
            if answer == "hang":
                self.hanging += 1
                try:
                    await self._release.wait()
                finally:
                    self.hanging -= 1
                return  # closes without an answer
            received.answered = int(answer)
            reply = f"HTTP/1.1 {answer} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            writer.write(reply.encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
            # Python 3.11's wait_closed does not wait for handlers; they end on release().
            await asyncio.sleep(0)
