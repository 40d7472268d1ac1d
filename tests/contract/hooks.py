"""Schemathesis hooks for the contract run: what JSON Schema cannot say, and only that.

The OpenAPI document says every rule a schema can express (lengths, patterns, enums, bounds,
`oneOf`). A few rules compare two fields, count bytes, look a value up or tell 5.0 from 5;
the document says them in prose. These hooks teach the generator those rules, so that a case
schemathesis calls "valid" is valid, and name the rejections of valid input that depend on
what the server holds (a single-use token, an empty cart): each is one documented problem
`code`, nothing broader.
Everything else, the checks judge as they are.

Loaded by `schemathesis run` through the `hooks` setting of the generated config.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import schemathesis
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData, UseAfterFree

from app.auth.passwords import MAX_BYTES, common_passwords

# --- rules the document states in prose ------------------------------------------------------

# Query parameters whose upper bound must not be below their lower bound (422 otherwise).
RANGES = {
    ("GET", "/api/v1/products"): ("min_price", "max_price", int),
    ("GET", "/api/v1/admin/products"): ("min_price", "max_price", int),
    ("GET", "/api/v1/admin/orders"): ("created_from", "created_to", "date-time"),
    ("GET", "/api/v1/admin/inventory/movements"): ("at_from", "at_to", "date-time"),
    ("GET", "/api/v1/admin/reports/sales"): ("from", "to", "date"),
    ("GET", "/api/v1/admin/reports/top-products"): ("from", "to", "date"),
}
# The reports' ranges also cover at most this many days (a description, not a schema rule).
REPORT_MAX_DAYS = 1099

# Body fields holding a password to check (at most 72 bytes of UTF-8, which a pattern cannot
# count; `maxLength` says 72 characters).
PASSWORDS = {
    ("POST", "/api/v1/auth/login"): "password",
    ("POST", "/api/v1/users/me/password"): "current_password",
}

# Body fields holding a new password, and the body field with the account's email if any.
NEW_PASSWORDS = {
    ("POST", "/api/v1/auth/register"): ("password", "email"),
    ("POST", "/api/v1/auth/reset-password"): ("password", None),
    ("POST", "/api/v1/users/me/password"): ("new_password", None),
}


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _ordered(query: dict[str, Any], low: str, high: str, kind) -> None:
    if query.get(low) is None or query.get(high) is None:
        return
    key = int if kind is int else _moment
    try:
        if key(query[high]) < key(query[low]):
            query[low], query[high] = query[high], query[low]
        if kind == "date":
            first, last = date.fromisoformat(query[low]), date.fromisoformat(query[high])
            if (last - first).days >= REPORT_MAX_DAYS:
                query[high] = (first + timedelta(days=REPORT_MAX_DAYS - 1)).isoformat()
    except (TypeError, ValueError, OverflowError):
        return  # not a value of this kind: the schema checks decide


def _password_problem(password: str, email: str | None) -> bool:
    """The password rules the schema can only describe: bytes, the common list, the email."""
    lowered = password.lower()
    if len(password.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return True
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)  # "Password2024!" is "password"
    if lowered in common_passwords() or (core and core in common_passwords()):
        return True
    local = email.split("@", 1)[0].lower() if isinstance(email, str) else ""
    return len(local) >= 3 and local in lowered


def _special_use(email: str) -> bool:
    """Whether `email` is at a special-use domain (RFC 6761), which the document excludes."""
    domain = email.rpartition("@")[2].lower().rstrip(".")
    return domain.rpartition(".")[2] in SPECIAL_USE_DOMAIN_NAMES


def _valid_password(seed: str) -> str:
    return "Contract-" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _integers(value: Any) -> Any:
    """Integers as JSON integers: JSON Schema's "integer" takes 5.0, the API does not (the
    descriptions say so), and a generator writes 5.0 where the schema allows it."""
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _integers(item) for key, item in value.items()}
    return value


# An email that must take mail (special-use domains are refused, said in the field's prose):
# a guest checkout's.
DELIVERABLE_EMAILS = {("POST", "/api/v1/orders"): "email"}


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if isinstance(case.body, dict | list):
        case.body = _integers(case.body)
    key = (case.method.upper(), case.path)
    if key in RANGES and isinstance(case.query, dict):
        _ordered(case.query, *RANGES[key])
    if key in PASSWORDS and isinstance(case.body, dict):
        password = case.body.get(PASSWORDS[key])
        if isinstance(password, str) and len(password.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            case.body[PASSWORDS[key]] = _valid_password(password)
    if key in DELIVERABLE_EMAILS and isinstance(case.body, dict):
        email = case.body.get(DELIVERABLE_EMAILS[key])
        if isinstance(email, str) and _special_use(email):
            case.body[DELIVERABLE_EMAILS[key]] = email.rpartition("@")[0] + "@example.com"
    if key in NEW_PASSWORDS and isinstance(case.body, dict):
        field, email_field = NEW_PASSWORDS[key]
        password = case.body.get(field)
        email = case.body.get(email_field) if email_field else None
        if isinstance(email, str) and _special_use(email):
            case.body[email_field] = email.rpartition("@")[0] + "@example.com"
            email = case.body[email_field]
        if isinstance(password, str) and _password_problem(password, email):
            case.body[field] = _valid_password(password)
    return case


# --- valid input the server's state refuses ---------------------------------------------------

# (method, path) -> {(status, problem code, the fields the errors blame or None)}
STATE_DEPENDENT = {
    # A checkout needs something in the cart, and an address_id names a saved address.
    ("POST", "/api/v1/orders"): {
        (422, "cart_empty", None),
        # A cart whose total the payment provider does not charge (an admin's product priced
        # under 50 cents, or a cart over $999,999.99).
        (422, "amount_out_of_range", None),
        (422, "validation_error", ("address_id",)),
        (422, "idempotency_key_reused", None),
        # Priced checkout: which shipping methods ship to the address, and whether the code
        # on the cart still applies, are the store's to know.
        (422, "shipping_method_required", None),
        (422, "shipping_method_unavailable", None),
        (422, "discount_invalid", None),
    },
    ("GET", "/api/v1/cart/quote"): {(422, "shipping_method_unavailable", None)},
    # Which codes exist, and whether one applies to this cart.
    ("POST", "/api/v1/cart/discount"): {(422, "discount_invalid", None)},
    # Which payment methods exist and which a bank declines is the provider's to know; an
    # Idempotency-Key sent before with another body is refused.
    ("POST", "/api/v1/orders/{order_id}/pay"): {
        (402, "payment_declined", None),
        (422, "idempotency_key_reused", None),
    },
    # Single-use tokens and signatures from the server: a generator cannot make one.
    ("POST", "/api/v1/auth/verify-email"): {(422, "invalid_token", None)},
    ("POST", "/api/v1/auth/reset-password"): {(422, "invalid_token", None)},
    # Nor can it know the current password.
    ("POST", "/api/v1/users/me/password"): {(422, "invalid_credentials", None)},
    ("POST", "/api/v1/payments/webhook"): {(400, "webhook_signature_invalid", None)},
    # References in a body to a category that does not exist.
    ("POST", "/api/v1/admin/categories"): {(422, "validation_error", ("parent_id",))},
    ("PATCH", "/api/v1/admin/categories/{category_id}"): {
        (422, "validation_error", ("parent_id",)),
        (422, "category_cycle", None),
    },
    ("POST", "/api/v1/admin/products"): {
        (422, "validation_error", ("category",)),
        # Variants whose option values are not the options' (or repeat one another), or a
        # stock that is not their sum: a relation between fields no schema states.
        (422, "variant_invalid", None),
    },
    ("PATCH", "/api/v1/admin/products/{product_id}"): {
        (422, "validation_error", ("category",)),
        (422, "variant_invalid", None),
        # A `stock` for a product with several variants: which one?
        (422, "variant_required", None),
    },
    # A variant's option values against the product's options and its other variants, and a
    # product's last variant (archive the product instead).
    ("POST", "/api/v1/admin/products/{product_id}/variants"): {(422, "variant_invalid", None)},
    ("PATCH", "/api/v1/admin/products/{product_id}/variants/{variant_id}"): {
        (422, "variant_invalid", None)
    },
    ("DELETE", "/api/v1/admin/products/{product_id}/variants/{variant_id}"): {
        (422, "variant_invalid", None)
    },
    # A discount's value against its type, its dates in order, a known category; a method's
    # delivery days in order; tier weights distinct (relations between fields).
    ("POST", "/api/v1/admin/discounts"): {
        (422, "validation_error", ("value",)),
        (422, "validation_error", ("ends_at",)),
        (422, "validation_error", ("category",)),
    },
    ("PATCH", "/api/v1/admin/discounts/{discount_id}"): {
        (422, "validation_error", ("value",)),
        (422, "validation_error", ("ends_at",)),
        (422, "validation_error", ("category",)),
    },
    ("POST", "/api/v1/admin/shipping-methods"): {
        (422, "validation_error", ("max_days",)),
        (422, "validation_error", ("weight_tiers",)),
    },
    ("PATCH", "/api/v1/admin/shipping-methods/{method_id}"): {
        (422, "validation_error", ("max_days",)),
        (422, "validation_error", ("weight_tiers",)),
    },
    # Which variant, for a product that has several.
    ("POST", "/api/v1/admin/products/{product_id}/stock"): {(422, "variant_required", None)},
    ("POST", "/api/v1/cart/items"): {(422, "variant_required", None)},
    # Whether a receiver's host resolves (and to what) is the DNS's to say.
    ("POST", "/api/v1/admin/webhooks"): {(422, "webhook_url_refused", None)},
    ("PATCH", "/api/v1/admin/webhooks/{endpoint_id}"): {(422, "webhook_url_refused", None)},
}


def _problem(response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _blamed(problem: dict[str, Any]) -> tuple[str, ...] | None:
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    return tuple(sorted({".".join(map(str, error.get("loc", []))) for error in errors}))


def is_state_dependent(method: str, path: str, status: int, problem: dict[str, Any]) -> bool:
    for expected_status, code, fields in STATE_DEPENDENT.get((method.upper(), path), ()):
        if status == expected_status and problem.get("code") == code:
            if fields is None or _blamed(problem) == fields:
                return True
    return False


# --- soft deletes ----------------------------------------------------------------------------

# DELETE on an admin product archives it (API.md: "archived products vanish from the catalog,
# existing orders keep them"): the public catalog answers 404 at once, while the admin keeps
# the product at its URL to read, edit, restock or restore (`PATCH {"status": "active"}`).
ARCHIVED_STAYS_ADMINS = re.compile(r"^DELETE (/api/v1/admin/products/[^/]+)$")
ADMIN_USES = re.compile(
    r"^(GET|PATCH|POST|DELETE) (/api/v1/admin/products/[^/]+)(/stock|/variants(/[^/]+)?)?$"
)


def is_admin_use_of_archived(free: str, usage: str) -> bool:
    archived, used = ARCHIVED_STAYS_ADMINS.match(free), ADMIN_USES.match(usage)
    return bool(archived and used and archived.group(1) == used.group(2))


def is_stringified_option_filter(case) -> bool:
    """A "negative" product-list case whose only fault is an option filter's value that is not
    a string (a number, a boolean): the form-exploded query carries it as its text
    (`?k=-4.5e+300`), which is a valid option filter value, so accepting it is right.
    Schemathesis sees through this for named parameters, not for an object's entries."""
    if not isinstance(case.query, dict) or case.path not in PRODUCT_LISTS:
        return False
    # Serialised as the document says (form, exploded): the entries are top-level parameters.
    entries = dict(case.query)
    nested = entries.pop("option_filters", None)
    if isinstance(nested, dict):
        entries.update(nested)
    return any(
        not isinstance(value, str)
        for name, value in entries.items()
        if name not in LIST_PARAMETERS and OPTION_NAME.fullmatch(str(name))
    )


PRODUCT_LISTS = ("/api/v1/products", "/api/v1/admin/products")
LIST_PARAMETERS = frozenset(
    {"brand", "category", "color", "facets", "in_stock", "max_price", "min_price", "page",
     "per_page", "q", "size", "sort", "status"}
)  # fmt: skip
OPTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if isinstance(failure, AcceptedNegativeData) and is_stringified_option_filter(case):
        return False
    if isinstance(failure, UseAfterFree):
        return not is_admin_use_of_archived(failure.free, failure.usage)
    if not isinstance(failure, RejectedPositiveData):
        return True
    return not is_state_dependent(case.method, case.path, response.status_code, _problem(response))
