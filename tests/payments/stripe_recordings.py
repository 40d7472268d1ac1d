"""Stripe's answers for what localstripe does not do, replayed by a small HTTP server on
127.0.0.1 that also records what the gateway sent.

localstripe ignores idempotency keys, cannot confirm an intent again after a decline, gives
no `decline_code`, `amount_received` or `payment_intent_unexpected_state`, never answers 5xx
or 429, and sends no `charge.refunded`. The bodies below follow Stripe's API reference for
API version 2026-10-28 (objects trimmed to the fields a reader would look at; Stripe sends
more, which the gateway ignores).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

INTENT_ID = "pi_3QyRecorded0001"


def intent(status: str, **fields) -> dict:
    body = {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": 3800,
        "amount_capturable": 0,
        "amount_received": 3800 if status == "succeeded" else 0,
        "capture_method": "automatic_async",
        "client_secret": f"{INTENT_ID}_secret_Xr2a9LmK0bQ7wS4eT1",
        "confirmation_method": "automatic",
        "created": 1795400000,
        "currency": "usd",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": "ch_3QyRecorded0001" if status == "succeeded" else None,
        "livemode": False,
        "metadata": {"order_id": "6b04c2496783a528ae14b14a", "order_number": "SO-261123-ABC123"},
        "next_action": None,
        "payment_method": "pm_1QyRecordedVisa" if status != "requires_payment_method" else None,
        "payment_method_types": ["card"],
        "status": status,
    }
    body.update(fields)
    return body


DECLINED_INSUFFICIENT_FUNDS = {
    "error": {
        "charge": "ch_3QyRecordedDecl",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_intent": intent(
            "requires_payment_method",
            last_payment_error={
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "type": "card_error",
            },
        ),
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_Recorded1",
        "type": "card_error",
    }
}

UNEXPECTED_STATE = {
    "error": {
        "code": "payment_intent_unexpected_state",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-unexpected-state",
        "message": "You cannot confirm this PaymentIntent because it has already succeeded "
        "after being previously confirmed.",
        "payment_intent": intent("succeeded"),
        "type": "invalid_request_error",
    }
}

ALREADY_REFUNDED = {
    "error": {
        "code": "charge_already_refunded",
        "doc_url": "https://stripe.com/docs/error-codes/charge-already-refunded",
        "message": "Charge ch_3QyRecorded0001 has already been refunded.",
        "type": "invalid_request_error",
    }
}

API_ERROR = {"error": {"message": "An unknown error occurred", "type": "api_error"}}
RATE_LIMITED = {
    "error": {
        "code": "rate_limit",
        "message": "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        "type": "invalid_request_error",
    }
}
BAD_KEY = {
    "error": {
        "message": "Invalid API Key provided: sk_test_****************cret",
        "type": "invalid_request_error",
    }
}


def refund(refund_id: str, amount: int, reference: str | None, status: str = "succeeded") -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_3QyRecorded",
        "charge": "ch_3QyRecorded0001",
        "created": 1795400100,
        "currency": "usd",
        "metadata": {"reference": reference} if reference else {},
        "payment_intent": INTENT_ID,
        "reason": None,
        "status": status,
    }


def refund_list(*refunds: dict, has_more: bool = False) -> dict:
    return {"object": "list", "data": list(refunds), "has_more": has_more, "url": "/v1/refunds"}


# A charge.refunded event as API 2026-10-28 sends it: the charge carries `amount_refunded`
# and `refunded`, and (since 2022-11-15) no `refunds` list.
CHARGE_REFUNDED_EVENT = {
    "id": "evt_3QyRecordedRefund",
    "object": "event",
    "api_version": "2026-10-28",
    "created": 1795400200,
    "data": {
        "object": {
            "id": "ch_3QyRecorded0001",
            "object": "charge",
            "amount": 3800,
            "amount_captured": 3800,
            "amount_refunded": 1000,
            "captured": True,
            "currency": "usd",
            "metadata": {},
            "paid": True,
            "payment_intent": INTENT_ID,
            "refunded": False,
            "status": "succeeded",
        },
        "previous_attributes": {"amount_refunded": 0},
    },
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": None, "idempotency_key": None},
    "type": "charge.refunded",
}


class RecordedStripe:
    """Replays queued answers per (method, path), in order; records every request."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], deque] = defaultdict(deque)
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": path,
                        "query": dict(parse_qsl(query)),
                        "form": dict(parse_qsl(body)),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )
                queued = recorder.answers.get((self.command, path))
                status, payload = queued.popleft() if queued else (404, {"error": {}})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_recorded_{len(recorder.requests)}")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, path: str, status: int, payload: dict) -> None:
        self.answers[(method, path)].append((status, payload))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
