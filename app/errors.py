"""Errors as RFC 9457 problem details: one exception family, one set of handlers."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response, g, json
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("app.errors")


class ErrorCode(StrEnum):
    """Stable, machine-readable error codes (the `code` member of every problem)."""

    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    UNAUTHENTICATED = "unauthenticated"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_DISABLED = "account_disabled"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    EMAIL_TAKEN = "email_taken"
    WEAK_PASSWORD = "weak_password"
    CANNOT_CHANGE_SELF = "cannot_change_self"
    SLUG_TAKEN = "slug_taken"
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNPAID_LIMIT_REACHED = "unpaid_limit_reached"
    INVALID_TRANSITION = "invalid_transition"
    CATEGORY_IN_USE = "category_in_use"
    CATEGORY_CYCLE = "category_cycle"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    CART_EMPTY = "cart_empty"
    CART_FULL = "cart_full"
    CART_QUANTITY_LIMIT = "cart_quantity_limit"
    # Guest carts and checkout (issue 18): an unknown or expired Cart-Token.
    CART_NOT_FOUND = "cart_not_found"
    # Checkout: the total is outside what the payment provider charges (review, finding 7d).
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    REVIEW_EXISTS = "review_exists"
    PAYMENT_DECLINED = "payment_declined"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PAYMENT_UNAVAILABLE = "payment_unavailable"
    REFUND_FAILED = "refund_failed"
    REFUND_EXCEEDS_PAYMENT = "refund_exceeds_payment"
    NOT_REFUNDABLE = "not_refundable"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    # Outgoing webhooks and reports (issue 20).
    WEBHOOK_URL_REFUSED = "webhook_url_refused"
    REPORT_RANGE_INVALID = "report_range_invalid"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"
    # Variants and facets (issue 18).
    SKU_TAKEN = "sku_taken"
    VARIANT_REQUIRED = "variant_required"
    VARIANT_INVALID = "variant_invalid"
    # Priced checkout: shipping, tax, discounts (issue 19)
    DISCOUNT_INVALID = "discount_invalid"
    DISCOUNT_CODE_TAKEN = "discount_code_taken"
    TAX_RATE_EXISTS = "tax_rate_exists"
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_UNAVAILABLE = "shipping_method_unavailable"


class AppError(Exception):
    """A failure the client can act on. Subclasses fix `status` and `code`."""

    status: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST
    detail: str = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: ErrorCode | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if detail is not None:
            self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)


class NotFound(AppError):
    status, code, detail = 404, ErrorCode.NOT_FOUND, "The resource was not found."


class Conflict(AppError):
    status, code, detail = 409, ErrorCode.CONFLICT, "The request conflicts with the current state."


class Unauthenticated(AppError):
    status, code, detail = 401, ErrorCode.UNAUTHENTICATED, "Authentication is required."

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="api"'})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, code, detail = 403, ErrorCode.FORBIDDEN, "You are not allowed to do this."


class Invalid(AppError):
    """A business-rule failure on well-formed input (422)."""

    status, code, detail = 422, ErrorCode.VALIDATION_ERROR, "The request is invalid."


class RateLimited(AppError):
    status, code, detail = 429, ErrorCode.RATE_LIMITED, "Too many requests; try again later."

    def __init__(self, retry_after: int, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))}, **kwargs)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Render one problem+json response."""
    body = {
        "type": f"/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": str(code),
        **extra,
    }
    if g:  # always, while a request is handled; the X-Request-ID header says the same
        g.request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        body["request_id"] = g.request_id
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_errors(error: ValidationError | Exception) -> list[dict[str, Any]]:
    """Pydantic's errors as `[{"loc": [...], "msg": "..."}]`, without echoing input values."""
    if isinstance(error, ValidationError):
        return [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
    return [{"loc": [], "msg": str(error) or "invalid input", "type": "invalid"}]


_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
}


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(AppError)
    async def _app_error(error: AppError) -> Response:
        return problem(error.status, error.code, error.detail, headers=error.headers, **error.extra)

    @app.errorhandler(RequestSchemaValidationError)
    async def _schema_error(error: RequestSchemaValidationError) -> Response:
        return problem(
            422,
            ErrorCode.VALIDATION_ERROR,
            "The request failed validation.",
            errors=validation_errors(error.validation_error),
        )

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status >= 500:
            log.error("http error %s", status, exc_info=error)
        headers = {}
        original = error.get_response() if hasattr(error, "get_response") else None
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if original is not None and name in original.headers:
                headers[name] = original.headers[name]
        code = _HTTP_CODES.get(status, ErrorCode.INTERNAL_ERROR if status >= 500 else "error")
        detail = error.description or HTTPStatus(status).description
        if status == 405:
            detail = "This method is not allowed on this resource."
        elif status == 404:
            detail = "The resource was not found."
        return problem(status, code, detail, headers=headers)

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> Response:
        # Never leak internals: the log has the traceback, the client a request id.
        log.exception("unhandled error")
        return problem(500, ErrorCode.INTERNAL_ERROR, "An unexpected error occurred.")
