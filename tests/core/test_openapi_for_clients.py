"""What a client generated from /openapi.json (openapi-typescript, clients/typescript) needs:
unique operation ids, typed arrays, request schemas without defaults (a generated type makes
a property with a default required), every always-present response field required,
timestamps as date-time, and problem bodies that match the Problem schema."""

import pytest


@pytest.fixture
async def spec(client):
    return await (await client.get("/openapi.json")).get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def schemas(spec, schema, seen=None):
    """Every (sub)schema reachable from `schema`, following $refs once each."""
    seen = set() if seen is None else seen
    if isinstance(schema, list):
        for entry in schema:
            yield from schemas(spec, entry, seen)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from schemas(spec, spec["components"]["schemas"][name], seen)
        return
    yield schema
    for key, value in schema.items():
        if key == "properties":
            for prop in value.values():
                yield from schemas(spec, prop, seen)
        elif isinstance(value, dict | list):
            yield from schemas(spec, value, seen)


def request_schemas(spec):
    for name, operation in operations(spec):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for schema in schemas(spec, content["schema"]):
                yield name, schema


def success_schemas(spec):
    for name, operation in operations(spec):
        for status, response in operation["responses"].items():
            if str(status).startswith("2"):
                for content in response.get("content", {}).values():
                    for schema in schemas(spec, content["schema"]):
                        yield f"{name} {status}", schema


async def test_operation_ids_are_unique(spec):
    ids = [operation["operationId"] for _, operation in operations(spec)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert spec["paths"]["/api/v1/admin/orders"]["get"]["operationId"] == "get_admin_list_orders"
    assert spec["paths"]["/api/v1/orders"]["get"]["operationId"] == "get_list_orders"


async def test_every_array_says_what_it_holds(spec):
    untyped = [s for s in schemas(spec, spec) if s.get("type") == "array" and "items" not in s]
    assert untyped == []


async def test_request_schemas_carry_no_defaults(spec):
    with_defaults = [
        (name, prop_name)
        for name, schema in request_schemas(spec)
        for prop_name, prop in schema.get("properties", {}).items()
        if "default" in prop
    ]
    assert with_defaults == []
    # The default is still said, in words, where it is not null.
    address = spec["components"]["schemas"]["AddressIn"]["properties"]
    assert "`false`" in address["is_default"]["description"]
    assert "is_default" not in spec["components"]["schemas"]["AddressIn"]["required"]


async def test_response_objects_require_every_property(spec):
    optional = [
        (name, sorted(set(schema["properties"]) - set(schema.get("required", []))))
        for name, schema in success_schemas(spec)
        if set(schema.get("properties", {})) - set(schema.get("required", []))
    ]
    assert optional == []
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]["200"]
    assert "token_type" in login["content"]["application/json"]["schema"]["required"]


def is_date_time(schema) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("format") == "date-time" for option in options)


async def test_timestamps_are_date_time(spec):
    timestamps = [
        (name, prop_name, prop)
        for name, schema in success_schemas(spec)
        for prop_name, prop in schema.get("properties", {}).items()
        if prop_name == "at" or prop_name.endswith("_at")
    ]
    assert {prop_name for _, prop_name, _ in timestamps} >= {"created_at", "updated_at", "at"}
    assert [t for t in timestamps if not is_date_time(t[2])] == []


def assert_is_problem(spec, body: dict) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    python_types = {"string": str, "integer": int, "array": list}
    for field in problem["required"]:
        assert field in body, field
    for field, value in body.items():
        declared = problem["properties"].get(field)
        if declared and "type" in declared:
            assert isinstance(value, python_types[declared["type"]]), (field, value)
    for error in body.get("errors", []):
        assert isinstance(error["msg"], str)
        assert all(isinstance(part, str | int) for part in error["loc"])


async def test_problem_bodies_match_the_problem_schema(
    spec, client, customer, make_category, make_product
):
    _, headers = customer
    product = await make_product("Last One", await make_category("Shoes"), stock=1)
    answers = [
        await client.get("/api/v1/no-such-route"),
        await client.delete("/api/v1/products"),
        await client.get("/api/v1/products?per_page=101"),
        await client.post(
            "/api/v1/auth/login", data=b"{", headers={"Content-Type": "application/json"}
        ),
        await client.get("/api/v1/users/me"),
        await client.post(
            "/api/v1/cart/items",
            json={"product_id": str(product.id), "quantity": 2},
            headers=headers,
        ),
    ]
    line = {"product_id": str(product.id), "quantity": 1}
    assert (await client.post("/api/v1/cart/items", json=line, headers=headers)).status_code == 200
    line["quantity"] = 99  # 100 in one line: `cart_quantity_limit`, with `errors`
    answers.append(await client.post("/api/v1/cart/items", json=line, headers=headers))
    assert [a.status_code for a in answers] == [404, 405, 422, 400, 401, 409, 409]
    for answer in answers:
        assert answer.content_type.startswith("application/problem+json")
        body = await answer.get_json()
        assert_is_problem(spec, body)
        assert body["request_id"] == answer.headers["X-Request-ID"]
    short = await answers[5].get_json()
    assert short["lines"][0]["product_id"] == str(product.id)
