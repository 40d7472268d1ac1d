"""`python -m app.serve`: serve the shop with Hypercorn on HOST:PORT (what `make run` does).

One process, because the embedded engine lives in memory. With MONGODB_URI set you can also
run `hypercorn --config hypercorn.toml wsgi:app --workers N` instead.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config

from config import get_settings

HYPERCORN_TOML = Path(__file__).resolve().parents[1] / "hypercorn.toml"


def hypercorn_config(*, bind: str) -> Config:
    """The deployment's hypercorn settings (hypercorn.toml: no Server header) bound to `bind`."""
    config = Config.from_toml(HYPERCORN_TOML)
    config.bind = [bind]
    config.accesslog = None  # the app logs one structured line per request itself
    return config


def main() -> None:
    settings = get_settings()
    from app import create_app
    from app.core.heap import freeze_after_start

    app = create_app(settings)
    freeze_after_start(app)
    config = hypercorn_config(bind=f"{settings.HOST}:{settings.PORT}")
    engine = "embedded in-memory engine" if settings.use_embedded_db else "MongoDB"
    print(f"Shop API on http://{settings.HOST}:{settings.PORT} ({engine}); docs at /docs")

    stop = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(run())


if __name__ == "__main__":
    main()
