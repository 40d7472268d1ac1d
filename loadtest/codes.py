"""The last uses of a discount code: 50 shoppers, each with the code on their cart, check out
at once while the code has 5 uses left. Exactly 5 orders carry it; the other 45 get 422
`discount_invalid` and nothing of theirs changed (cart, code and stock as they were).

The code is used up to 5 uses left first (a limit of 12, seven orders placed with it), so
the race is for the last uses of a code in use, not the first uses of a new one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import httpx

SHOPPERS = 50
LIMIT = 12
LEFT = 5


async def run(main) -> list:
    """`main` is the load test module (its Server, Result and helpers)."""
    result = main.Result(f"{SHOPPERS} checkouts for a code's last {LEFT} uses")
    with main.Server() as server:
        limits = httpx.Limits(max_connections=SHOPPERS + 20)
        async with httpx.AsyncClient(base_url=server.base, timeout=120, limits=limits) as client:
            admin = (await main.login(client, *main.ADMIN)).json()["access_token"]
            used = LIMIT - LEFT
            shoppers = await main.set_up_shoppers(client, SHOPPERS + used)
            product_id = await main.scarce_product(client, admin, SHOPPERS + used)
            code = f"LAST-{secrets.token_hex(3)}"
            created = await client.post(
                "/api/v1/admin/discounts",
                json={"code": code, "type": "percent", "value": 10, "usage_limit": LIMIT},
                headers=main.bearer(admin),
            )
            created.raise_for_status()
            discount_id = created.json()["id"]

            async def fill(token: str) -> bool:
                headers = main.bearer(token)
                added = await client.post(
                    "/api/v1/cart/items",
                    json={"product_id": product_id, "quantity": 1},
                    headers=headers,
                )
                applied = await client.post(
                    "/api/v1/cart/discount", json={"code": code.lower()}, headers=headers
                )
                return added.status_code == 200 and applied.status_code == 200

            filled = await main.bounded(16, [fill(token) for _, token in shoppers])
            result.check("every cart took the item and the code", all(filled))
            for n, (_, token) in enumerate(shoppers[:used]):
                placed = await client.post(
                    "/api/v1/orders",
                    json={"shipping_address": main.ADDRESS},
                    headers={**main.bearer(token), "Idempotency-Key": f"early-{n}"},
                )
                placed.raise_for_status()
            racers = shoppers[used:]
            stock_before = (await client.get(f"/api/v1/products/{product_id}")).json()["stock"]
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(
                    main.timed(
                        result,
                        client.post(
                            "/api/v1/orders",
                            json={"shipping_address": main.ADDRESS},
                            headers={**main.bearer(token), "Idempotency-Key": f"code-{n}"},
                        ),
                    )
                    for n, (_, token) in enumerate(racers)
                )
            )
            result.wall = time.perf_counter() - started
            codes = Counter(r.status_code for r in responses)
            won = [r.json() for r in responses if r.status_code == 201]
            refused = [r.json() for r in responses if r.status_code == 422]
            result.check(f"exactly {LEFT} orders (201)", codes[201] == LEFT)
            result.check(
                "each of them carries the code and its discount",
                all(
                    o["discount"] and o["discount"]["code"] == code and o["discount_total"] > 0
                    for o in won
                ),
            )
            result.check(
                f"the other {SHOPPERS - LEFT} are 422 discount_invalid",
                len(refused) == SHOPPERS - LEFT
                and all(p["code"] == "discount_invalid" for p in refused),
            )
            result.check("no 5xx", not any(code >= 500 for code in codes))
            discount = await client.get(
                f"/api/v1/admin/discounts/{discount_id}", headers=main.bearer(admin)
            )
            result.check(f"times_used is {LIMIT}", discount.json()["times_used"] == LIMIT)
            stock_after = (await client.get(f"/api/v1/products/{product_id}")).json()["stock"]
            result.check(f"stock fell by {LEFT} exactly", stock_before - stock_after == LEFT)
            losers = [
                token
                for (_, token), r in zip(racers, responses, strict=True)
                if r.status_code == 422
            ]
            carts = await main.bounded(
                16, [client.get("/api/v1/cart", headers=main.bearer(token)) for token in losers]
            )
            result.check(
                "the refused carts still hold their line",
                all(c.json()["item_count"] == 1 for c in carts),
            )
            result.figures = {"statuses": dict(codes), "times_used": discount.json()["times_used"]}
    return [result]
