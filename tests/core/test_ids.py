"""Typed ids at the edge (app/core/ids.py): every route whose path holds an ObjectId answers a
malformed one exactly as it answers an unknown one (the same 404 problem, with the route's own
message), and the OpenAPI document says what an id looks like.

The routes are enumerated from the URL map, so a new route with an id converter must be added
to BODIES below (a valid request body, so that the unknown id is what the answer is about).
"""

from __future__ import annotations

import re

import pytest

from app.core.ids import OBJECT_ID_PATTERN, ObjectIdConverter, parse_object_id

UNKNOWN = "0123456789abcdef01234567"
MALFORMED = ["nope", "0123456789ABCDEF01234567", UNKNOWN[:-1], UNKNOWN + "8", "1", "%24ne"]
_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")

# (method, rule) -> a body the route accepts (None: it takes none).
BODIES: dict[tuple[str, str], dict | None] = {
    ("PATCH", "/api/v1/admin/users/<user:user_id>"): {"role": "customer"},
    ("POST", "/api/v1/admin/users/<user:user_id>/unlock"): None,
    ("POST", "/api/v1/admin/products/<product:product_id>/stock"): {"delta": 1, "reason": "x"},
    ("POST", "/api/v1/admin/emails/<email:email_id>/resend"): None,
    ("GET", "/api/v1/admin/products/<product:product_id>"): None,
    ("PATCH", "/api/v1/admin/products/<product:product_id>"): {"name": "Renamed"},
    ("DELETE", "/api/v1/admin/products/<product:product_id>"): None,
    ("POST", "/api/v1/admin/products/<product:product_id>/variants"): {"stock": 1},
    ("PATCH", "/api/v1/admin/products/<product:product_id>/variants/<variant_id>"): {"stock": 1},
    ("DELETE", "/api/v1/admin/products/<product:product_id>/variants/<variant_id>"): None,
    ("PATCH", "/api/v1/admin/categories/<category:category_id>"): {"name": "Renamed"},
    ("DELETE", "/api/v1/admin/categories/<category:category_id>"): None,
    ("GET", "/api/v1/admin/orders/<order:order_id>"): None,
    ("POST", "/api/v1/admin/orders/<order:order_id>/status"): {"status": "processing"},
    ("POST", "/api/v1/admin/orders/<order:order_id>/refund"): {},
    ("PATCH", "/api/v1/cart/items/<cartline:product_id>"): {"quantity": 1},
    ("DELETE", "/api/v1/cart/items/<cartline:product_id>"): None,
    ("GET", "/api/v1/orders/<order:order_id>"): None,
    ("POST", "/api/v1/orders/<order:order_id>/pay"): {"payment_method": "pm_card_visa"},
    ("POST", "/api/v1/orders/<order:order_id>/cancel"): None,
    ("GET", "/api/v1/products/<product:product_id>/reviews"): None,
    ("POST", "/api/v1/products/<product:product_id>/reviews"): {
        "rating": 4,
        "title": "Good",
        "body": "Fine shirt.",
    },
    ("PATCH", "/api/v1/reviews/<review:review_id>"): {"rating": 1},
    ("DELETE", "/api/v1/reviews/<review:review_id>"): None,
    ("PATCH", "/api/v1/users/me/addresses/<address:address_id>"): {"city": "Elsewhere"},
    ("DELETE", "/api/v1/users/me/addresses/<address:address_id>"): None,
    ("GET", "/api/v1/admin/webhooks/<webhook:endpoint_id>"): None,
    ("PATCH", "/api/v1/admin/webhooks/<webhook:endpoint_id>"): {"description": "x"},
    ("DELETE", "/api/v1/admin/webhooks/<webhook:endpoint_id>"): None,
    ("POST", "/api/v1/admin/webhooks/<webhook:endpoint_id>/rotate-secret"): {},
    ("GET", "/api/v1/admin/webhooks/<webhook:endpoint_id>/deliveries"): None,
    ("POST", "/api/v1/admin/webhook-deliveries/<delivery:delivery_id>/redeliver"): None,
    # Priced checkout (issue 19).
    ("GET", "/api/v1/admin/shipping-methods/<shippingmethod:method_id>"): None,
    ("PATCH", "/api/v1/admin/shipping-methods/<shippingmethod:method_id>"): {"price": 100},
    ("DELETE", "/api/v1/admin/shipping-methods/<shippingmethod:method_id>"): None,
    ("GET", "/api/v1/admin/tax-rates/<taxrate:rate_id>"): None,
    ("PATCH", "/api/v1/admin/tax-rates/<taxrate:rate_id>"): {"rate_bp": 500},
    ("DELETE", "/api/v1/admin/tax-rates/<taxrate:rate_id>"): None,
    ("GET", "/api/v1/admin/discounts/<discount:discount_id>"): None,
    ("PATCH", "/api/v1/admin/discounts/<discount:discount_id>"): {"active": False},
    ("DELETE", "/api/v1/admin/discounts/<discount:discount_id>"): None,
}


def id_routes(app) -> list[tuple[str, str, type[ObjectIdConverter]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        converters = [c for c in rule._converters.values() if isinstance(c, ObjectIdConverter)]
        if not converters:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, type(converters[0])))
    return sorted(routes, key=lambda route: route[:2])


def test_every_id_route_is_listed(app):
    routes = {(method, rule) for method, rule, _ in id_routes(app)}
    assert routes == set(BODIES), "new or gone routes with an id converter: update BODIES"


def test_each_converter_answers_its_routes_message(app):
    # The message a malformed id gets is the converter's; the test above shows it is the one
    # the route's service gives an unknown id.
    for _, rule, converter in id_routes(app):
        assert converter.missing.startswith(("No such ", "This product is not in")), rule


async def _answer(client, method: str, path: str, body, headers) -> tuple[int, str, str]:
    kwargs = {"json": body} if body is not None else {}
    response = await client.open(path, method=method, headers=headers, **kwargs)
    problem = await response.get_json()
    assert response.content_type.startswith("application/problem+json"), (method, path)
    return response.status_code, problem["code"], problem["detail"]


async def test_a_malformed_id_is_the_same_404_as_an_unknown_one(client, customer, admin):
    for (method, rule), body in BODIES.items():
        headers = admin[1] if rule.startswith("/api/v1/admin/") else customer[1]
        unknown = await _answer(client, method, _PARAM.sub(UNKNOWN, rule), body, headers)
        assert unknown[:2] == (404, "not_found"), (method, rule, unknown)
        for bad in MALFORMED:
            path = _PARAM.sub(bad, rule)
            assert await _answer(client, method, path, body, headers) == unknown, (method, path)


async def test_a_malformed_id_is_404_even_before_the_body_is_read(client, customer):
    # The id is part of the URL: a malformed one is settled when the route is matched.
    response = await client.patch("/api/v1/reviews/nope", headers=customer[1], json={"x": 1})
    assert response.status_code == 404
    assert (await response.get_json())["detail"] == "No such review."


async def test_a_malformed_id_on_a_route_without_that_method_is_still_405(client, customer):
    response = await client.put("/api/v1/orders/nope", headers=customer[1], json={})
    assert response.status_code == 405


async def test_the_document_gives_every_id_path_parameter_its_pattern(client):
    document = await (await client.get("/openapi.json")).get_json()
    seen = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    seen[(path, parameter["name"])] = parameter["schema"]
    # A variant id is a string the product gives its variants (not a document's id).
    ids = {
        key: schema
        for key, schema in seen.items()
        if key[1].endswith("_id") and key[1] != "variant_id"
    }
    assert len(ids) >= len({rule for _, rule in BODIES}), ids
    for key, schema in ids.items():
        assert schema == {"type": "string", "pattern": OBJECT_ID_PATTERN}, key
    # A product page takes an id or a slug: that parameter stays a plain string.
    assert seen[("/api/v1/products/{reference}", "reference")] == {"type": "string"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNKNOWN, UNKNOWN),
        ("0123456789ABCDEF01234567", UNKNOWN),  # what ObjectId reads, as before
        ("nope", None),
        ("", None),
        (None, None),
        (12345, None),
        ({"$ne": ""}, None),
        (["0123456789abcdef01234567"], None),
    ],
)
def test_parse_object_id(value, expected):
    parsed = parse_object_id(value)
    assert (str(parsed) if parsed is not None else None) == expected
