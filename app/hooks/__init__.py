"""Outgoing webhooks (issue 20): endpoints registered by admins, the event outbox and the
signed delivery worker. Split by use case; callers import the module that owns what they need:
- models.py   WebhookEndpoint, WebhookDelivery (the outbox row, one per endpoint and event,
              with its attempt log), WebhookSequence (the per-subject order of events)
- events.py   EVENT_TYPES and emit(): write an event for every subscribed endpoint in the
              caller's transaction (`session=`)
- secrets.py  signing secrets: generated (`whsec_...`), encrypted at rest, rotated
- urls.py     which receiver URLs are allowed (https and public addresses in production),
              checked at registration and again, resolved, at every delivery
- service.py  the admin's endpoints, their deliveries, redelivery
- worker.py   the delivery worker: claims due rows with a lease, per-endpoint concurrency,
              signs with `standardwebhooks`, retries with backoff and jitter, dead-letters,
              disables an endpoint that keeps failing (and emails the admins)
The domains render their payloads (orders/events.py, inventory/events.py); the admin's routes
are app/admin/webhooks.py.
"""
