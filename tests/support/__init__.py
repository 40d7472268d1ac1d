"""What the tests share besides fixtures: factories, constants, readers and real peers.

Test modules import from here, never from a conftest (ruff's banned-api, in pyproject.toml,
and tests/test_support.py keep it so); conftest files hold the fixtures, which call in here.

  settings.py   make_settings, empty_real_database: the app's settings and a clean database
  accounts.py   TEST_PASSWORD, auth_headers: test users' password and a bearer header
  client.py     IsolatedClient: the test client, one application context per request
  smtp.py       SMTPServer (aiosmtpd on 127.0.0.1) and its `smtp_server` fixture
  checkout.py   the stocked shop, filled carts, checkout and pay as fixtures, for the
                conftests of orders, payments, security and users
  orders.py     ADDRESS, stock_of, order_count, make_due, provider_refunded
  payments.py   localstripe (LocalStripe, stripe_settings, free_port, charges_of, ...),
                Stripe webhooks (sign, make_event, event_body, WEBHOOK, WEBHOOK_SECRET),
                status_emails
  inventory.py  stored, ledger, alerts, ALERTED
  reviews.py    rating_of
  cart.py       URL, quantities
"""
