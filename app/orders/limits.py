"""The rate limits of the shopper's order routes, per client IP and per account: checkout and
cancel each queue emails and move stock, so a loop of them must not run unbounded."""

from __future__ import annotations

from app.core.ratelimit import per_ip_and_account

CHECKOUT = per_ip_and_account("RATE_LIMIT_CHECKOUT_PER_MINUTE")
CANCEL = per_ip_and_account("RATE_LIMIT_CANCEL_PER_MINUTE")
