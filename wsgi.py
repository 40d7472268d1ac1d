"""The ASGI entry point: `hypercorn wsgi:app`."""

from app import create_app

app = create_app()
