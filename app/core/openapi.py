"""OpenAPI tweaks quart-schema does not make, and the offline docs page's assets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from quart import Blueprint
from quart_schema import OpenAPIProvider
from swagger_ui_bundle import swagger_ui_path
from werkzeug.routing import BaseConverter, Rule

from app.core.idempotency import HEADER, IDEMPOTENT_ATTRIBUTE, MAX_KEY_LENGTH
from app.core.ids import OBJECT_ID_PATTERN, ObjectIdConverter
from app.core.money import STORE_CURRENCY_MARK
from app.core.security import BEARER_SCHEME

_F = TypeVar("_F", bound=Callable[..., Any])

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is the stable, machine-readable part",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string", "description": "Also in the X-Request-ID header"},
        "errors": {
            "type": "array",
            "description": "Validation errors (422 `validation_error`)",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        "description": 'Where: e.g. ["password"] or ["items", 0, "qty"]',
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg"],
            },
        },
        "lines": {
            "type": "array",
            "description": "The short lines (409 `insufficient_stock`)",
            "items": {
                "type": "object",
                "properties": {
                    "product_id": {"type": "string"},
                    "name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "requested": {"type": "integer"},
                    "available": {"type": "integer"},
                },
                "required": ["product_id", "name", "requested", "available"],
            },
        },
        "decline_code": {"type": "string", "description": "Why (402 `payment_declined`)"},
        "total": {"type": "integer", "description": "The order total (422 `amount_out_of_range`)"},
        "minimum": {
            "type": "integer",
            "description": "The smallest total that can be paid (422 `amount_out_of_range`)",
        },
        "maximum": {
            "type": "integer",
            "description": "The largest total that can be paid (422 `amount_out_of_range`)",
        },
        "currency": {"type": "string", "description": "Of those amounts"},
        "limits": {
            "type": "object",
            "description": "How many unpaid orders, and units in them, one customer may hold "
            "(409 `unpaid_limit_reached`)",
            "properties": {"orders": {"type": "integer"}, "units": {"type": "integer"}},
            "required": ["orders", "units"],
        },
        "held": {
            "type": "object",
            "description": "What the customer holds unpaid now (409 `unpaid_limit_reached`)",
            "properties": {"orders": {"type": "integer"}, "units": {"type": "integer"}},
            "required": ["orders", "units"],
        },
        "requested_units": {
            "type": "integer",
            "description": "The units of the refused checkout (409 `unpaid_limit_reached`)",
        },
        # Priced checkout (issue 19).
        "reason": {
            "type": "string",
            "description": "Why the code cannot be used (422 `discount_invalid`): `unknown`, "
            "`not_started`, `expired`, `used_up`, `customer_limit`, `min_subtotal`, "
            "`no_eligible_lines`",
        },
        "discount_code": {
            "type": "string",
            "description": "The code refused (422 `discount_invalid`)",
        },
        "shipping_methods": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The ids of the methods that ship there (422 "
            "`shipping_method_required`)",
        },
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
}

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid or expired access token",
    402: "Payment declined",
    403: "Authenticated but not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Validation failed",
    429: "Rate limited (see Retry-After)",
    503: "Service unavailable",
}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }


IDEMPOTENCY_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "The same key from the same user within 24 h returns the first response "
    "and does nothing twice; reusing it for another request is a 422.",
    # What `idempotency._check_key` takes: printable ASCII, no spaces.
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x21-\\x7e]+$",
    },
}

PROBLEMS_ATTRIBUTE = "_shop_problems"
HEADERS_ATTRIBUTE = "_shop_header_parameters"


def header_parameters(*parameters: dict[str, Any]) -> Callable[[_F], _F]:
    """Document request headers a route reads (a guest's `Cart-Token`, `Order-Token`) as
    parameters, so a client generated from the document types and sends them."""

    def decorator(func: _F) -> _F:
        setattr(func, HEADERS_ATTRIBUTE, parameters)
        return func

    return decorator


def problems(*statuses: int) -> Callable[[_F], _F]:
    """Document the route's own problem responses (e.g. 409, 429) in OpenAPI."""

    def decorator(func: _F) -> _F:
        setattr(func, PROBLEMS_ATTRIBUTE, statuses)
        return func

    return decorator


LINKS_ATTRIBUTE = "_shop_links"


def links(status: int, **targets: tuple[str, str]) -> Callable[[_F], _F]:
    """Document where a response's ids lead (OpenAPI links): `Name=(operation_id, "param=
    $response.body#/pointer")`. Clients read them as "what next"; schemathesis's stateful
    phase follows them into real resources instead of drawing ids that name nothing."""

    def decorator(func: _F) -> _F:
        declared = dict(getattr(func, LINKS_ATTRIBUTE, {}))
        for name, (operation_id, binding) in targets.items():
            parameter, _, expression = binding.partition("=")
            declared[(status, name)] = {
                "operationId": operation_id,
                "parameters": {parameter: expression},
            }
        setattr(func, LINKS_ATTRIBUTE, declared)
        return func

    return decorator


NO_CONTENT_ATTRIBUTE = "_shop_no_content"


def no_content(func: _F) -> _F:
    """Document a route that answers 204 with no body (no response model to validate)."""
    setattr(func, NO_CONTENT_ATTRIBUTE, True)
    return func


CSV_ATTRIBUTE = "_shop_csv"


def also_csv(func: _F) -> _F:
    """Document that the route's 200 also comes as CSV (`Accept: text/csv`)."""
    setattr(func, CSV_ATTRIBUTE, True)
    return func


def _narrow_currency(node: Any, store: str) -> None:
    """The store sells in one currency: every request field marked as a currency takes only
    that code (lower or upper case), and the document says which."""
    if isinstance(node, dict):
        if node.pop(STORE_CURRENCY_MARK, False):
            node["enum"] = [store, store.upper()]
            node["description"] = f"The store's currency, `{store}` (ISO 4217; upper case too)"
        for value in node.values():
            _narrow_currency(value, store)
    elif isinstance(node, list):
        for value in node:
            _narrow_currency(value, store)


class ShopOpenAPIProvider(OpenAPIProvider):
    """Marks request bodies required and documents the problem responses of every route."""

    def schema(self) -> dict[str, Any]:
        schema = super().schema()
        schema["components"]["schemas"]["Problem"] = PROBLEM_SCHEMA
        _narrow_currency(schema, self._app.config["SETTINGS"].STORE_CURRENCY)
        return schema

    def operation_id(self, method: str, path: str, func: Callable[..., Any]) -> str | None:
        # Admin and shopper routes share handler names (list_orders, get_order): keep the
        # operation ids unique, as OpenAPI requires and generated clients rely on.
        operation_id = super().operation_id(method, path, func)
        if operation_id and path.startswith("/api/v1/admin/"):
            verb, _, name = operation_id.partition("_")
            return f"{verb}_admin_{name}"
        return operation_id

    def generate_rules(self) -> Iterator[Rule]:
        # Static files (the docs page's own assets) are not part of the API.
        return (rule for rule in super().generate_rules() if not rule.endpoint.endswith("static"))

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, ObjectIdConverter):
            parameter["schema"] = {"type": "string", "pattern": OBJECT_ID_PATTERN}
        return parameter

    def build_querystring_parameters(
        self, model: type[Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        # A QueryModel taking parameters beyond its own (the catalog's option filters) says so
        # with one free-form query object (style form, exploded), which quart-schema's
        # one-parameter-per-property listing leaves out.
        parameters, definitions = super().build_querystring_parameters(model)
        extra = getattr(model, "extra_parameter", None)
        parameter = extra() if callable(extra) else None
        if parameter is not None:
            parameters.append(parameter)
        return parameters, definitions

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        extra = getattr(func, PROBLEMS_ATTRIBUTE, ())
        for path, item in paths.items():
            for operation in item.values():
                if getattr(func, IDEMPOTENT_ATTRIBUTE, False):
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for parameter in getattr(func, HEADERS_ATTRIBUTE, ()):
                    operation.setdefault("parameters", []).append(parameter)
                if getattr(func, NO_CONTENT_ATTRIBUTE, False):
                    operation.setdefault("responses", {})[204] = {"description": "No Content"}
                if getattr(func, CSV_ATTRIBUTE, False):
                    ok = operation.setdefault("responses", {}).setdefault(200, {})
                    ok.setdefault("content", {})["text/csv"] = {
                        "schema": {"type": "string", "description": "The same rows as CSV"}
                    }
                for (status, name), link in getattr(func, LINKS_ATTRIBUTE, {}).items():
                    response = operation.setdefault("responses", {}).setdefault(status, {})
                    response.setdefault("links", {})[name] = link
                self._add_problems(path, operation, extra)
        return paths, components

    @staticmethod
    def _add_problems(path: str, operation: dict[str, Any], extra: Iterable[int]) -> None:
        responses = operation.setdefault("responses", {})
        statuses = set(extra)
        if "requestBody" in operation:
            operation["requestBody"]["required"] = True
            statuses |= {400, 422}
        if operation.get("parameters"):
            statuses.add(422)
        if operation.get("security") == BEARER_SCHEME:
            statuses.add(401)
            if path.startswith("/api/v1/admin"):
                statuses.add(403)
        if "{" in path:
            statuses.add(404)
        for status in sorted(statuses):
            responses.setdefault(status, _problem_response(status))


docs_assets = Blueprint(
    "docs_assets",
    __name__,
    static_folder=str(swagger_ui_path),
    static_url_path="/docs-assets",
)
