"""`python -m bench`: catalog list latency on the embedded engine with the demo shop.

Boots the app in-process (the Quart test client: the whole request path, no network), seeds
the demo catalog, then times representative catalog requests one after another and prints
mean / p50 / p95 / max per request. The target is a few milliseconds per request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from app import create_app
from config import Settings

SCENARIOS: list[tuple[str, str, dict]] = [
    ("newest first (default)", "/api/v1/products", {}),
    ("top category, by price", "/api/v1/products", {"category": "apparel", "sort": "price"}),
    ("sub-category, by rating", "/api/v1/products", {"category": "audio", "sort": "-rating"}),
    ("brand + in stock", "/api/v1/products", {"brand": "northpeak", "in_stock": "true"}),
    (
        "colour + price range, by name",
        "/api/v1/products",
        {"color": "black", "min_price": 2000, "max_price": 20000, "sort": "name"},
    ),
    ("search, by relevance", "/api/v1/products", {"q": "waterproof jacket"}),
    (
        "search + category, by price",
        "/api/v1/products",
        {"q": "leather", "category": "bags", "sort": "price"},
    ),
    ("page 3 of 10 per page", "/api/v1/products", {"per_page": 10, "page": 3}),
    ("100 per page", "/api/v1/products", {"per_page": 100}),
    ("product page by slug", "/api/v1/products/trail-running-shoe", {}),
    ("category tree", "/api/v1/categories", {}),
]


@dataclass
class Result:
    name: str
    items: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float


def _settings() -> Settings:
    return Settings(
        APP_ENV="testing",
        MONGODB_URI=None,
        SEED_DEMO_CATALOG=True,
        EMAIL_WORKER_ENABLED=False,
        RATE_LIMIT_ENABLED=False,
        ADMIN_EMAIL=None,
        ADMIN_PASSWORD=None,
        LOG_LEVEL="WARNING",
        _env_file=None,
    )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(*, requests: int = 300, warmup: int = 20) -> list[Result]:
    """Time every scenario; raise if any request fails."""
    app = create_app(_settings())
    results = []
    async with app.test_app():
        client = app.test_client()
        for name, path, params in SCENARIOS:
            timings = []
            for n in range(warmup + requests):
                started = time.perf_counter()
                response = await client.get(path, query_string=params)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {response.status_code}")
                if n >= warmup:
                    timings.append(elapsed)
            body = await response.get_json()
            items = len(body["items"]) if isinstance(body, dict) and "items" in body else 1
            results.append(
                Result(
                    name=name,
                    items=items,
                    mean_ms=statistics.fmean(timings),
                    p50_ms=_percentile(timings, 0.50),
                    p95_ms=_percentile(timings, 0.95),
                    max_ms=max(timings),
                )
            )
    return results


def table(results: list[Result]) -> str:
    header = f"{'scenario':<32} {'items':>5} {'mean':>7} {'p50':>7} {'p95':>7} {'max':>7}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<32} {r.items:>5} {r.mean_ms:>7.2f} {r.p50_ms:>7.2f} "
            f"{r.p95_ms:>7.2f} {r.max_ms:>7.2f}"
        )
    lines.append("(milliseconds per request, sequential, embedded engine, demo catalog)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    args = parser.parse_args()
    print(table(asyncio.run(run(requests=args.requests, warmup=args.warmup))))


if __name__ == "__main__":
    main()
