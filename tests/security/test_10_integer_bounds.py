"""Finding 10: every integer the API accepts is bounded by what the store allows and, in any
case, by int64 (a larger number cannot be stored in MongoDB: it would be a 500)."""

import pytest
from pydantic import ValidationError

from app.core.schemas import INT64_MAX, INT64_MIN, InModel, QueryModel

HUGE = 10**26


@pytest.mark.parametrize(
    "query",
    [
        {"min_price": str(HUGE)},
        {"max_price": str(HUGE)},
        {"min_price": str(2**63)},
        {"page": str(HUGE)},
        {"per_page": str(HUGE)},
        {"page": str(-(2**64))},
    ],
)
async def test_huge_numbers_in_query_strings_are_422(client, query):
    response = await client.get("/api/v1/products", query_string=query)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "field, value",
    [("price", HUGE), ("stock", HUGE), ("low_stock_threshold", 2**63), ("price", -1)],
)
async def test_huge_numbers_in_bodies_are_422(client, admin, make_category, field, value):
    category = await make_category("Shoes")
    body = {
        "name": "Boot",
        "description": "A boot.",
        "price": 1000,
        "category": str(category.id),
        "stock": 1,
        field: value,
    }
    response = await client.post("/api/v1/admin/products", json=body, headers=admin[1])
    assert response.status_code == 422


def _integers(schema, spec, path, seen):
    """Yield (path, schema) for every integer schema reachable from `schema`."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            if ref in seen:
                return
            name = ref.rsplit("/", 1)[-1]
            yield from _integers(
                spec["components"]["schemas"][name], spec, f"{path}>{name}", seen | {ref}
            )
            return
        if schema.get("type") == "integer" or (
            isinstance(schema.get("type"), list) and "integer" in schema["type"]
        ):
            yield path, schema
        for key, value in schema.items():
            if key != "$ref":
                yield from _integers(value, spec, f"{path}.{key}", seen)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _integers(value, spec, f"{path}[{i}]", seen)


async def test_every_documented_integer_input_is_bounded_within_int64(client):
    spec = await (await client.get("/openapi.json")).get_json()
    found, unbounded = 0, []
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            inputs = [p.get("schema", {}) for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {})
            inputs += [media.get("schema", {}) for media in body.values()]
            for schema in inputs:
                for where, integer in _integers(schema, spec, f"{method} {route}", frozenset()):
                    found += 1
                    low = integer.get("minimum", integer.get("exclusiveMinimum"))
                    high = integer.get("maximum", integer.get("exclusiveMaximum"))
                    if low is None or high is None or low < INT64_MIN or high > INT64_MAX:
                        unbounded.append(where)
    assert found > 5  # the walk does see the inputs
    assert unbounded == []


class Anything(InModel):
    n: int
    many: list[int] = []
    mapping: dict[str, int] = {}


class AnyQuery(QueryModel):
    n: int


@pytest.mark.parametrize(
    "values",
    [
        {"n": 2**63},
        {"n": -(2**63) - 1},
        {"n": 1, "many": [1, 2**70]},
        {"n": 1, "mapping": {"a": HUGE}},
    ],
)
def test_no_request_model_accepts_an_integer_beyond_int64(values):
    with pytest.raises(ValidationError):
        Anything.model_validate(values)


def test_query_models_are_bounded_too():
    with pytest.raises(ValidationError):
        AnyQuery.model_validate({"n": str(HUGE)})
    assert AnyQuery.model_validate({"n": str(INT64_MAX)}).n == INT64_MAX


def test_shared_bounded_types_are_available_to_every_domain():
    from pydantic import TypeAdapter

    from app.core import schemas

    for name in ("Money", "Quantity", "PositiveQuantity", "Int64", "MoneyQuery", "PageNumber"):
        assert hasattr(schemas, name), name
    with pytest.raises(ValidationError):
        TypeAdapter(schemas.Quantity).validate_python(schemas.MAX_QUANTITY + 1)
    with pytest.raises(ValidationError):
        TypeAdapter(schemas.PositiveQuantity).validate_python(0)
    with pytest.raises(ValidationError):
        TypeAdapter(schemas.Quantity).validate_python(True)
