"""The ASGI entry point: `uvicorn wsgi:app` (Dockerfile, Procfile) or `hypercorn wsgi:app`."""

from app import create_app
from app.core.heap import freeze_after_start

app = create_app()
freeze_after_start(app)
