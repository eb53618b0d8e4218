"""The JSON envelope every /v1/ response wears.

Success: ``{"data": {...}}`` plus optional ``warnings``. Failure:
``{"data": null, "errors": [{"message", "layer"}, ...]}``, root cause first.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions

from pancake.api import errors, versions

logger = logging.getLogger("pancake.api")

GENERIC_MESSAGES = {
    400: "Bad request",
    401: "Missing authentication",
    403: "Insufficient permissions",
    404: "Not found",
    405: "Method not allowed: use POST",
    413: "Request body too large",
    429: "Too many requests, please retry later",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
}


def success_body(data: dict, warnings: list[dict] | None = None) -> dict:
    body: dict = {"data": data}
    if warnings:
        body["warnings"] = warnings
    return body


def error_body(errs: list[dict]) -> dict:
    return {"data": None, "errors": errs}


def error_response(exc: errors.PancakeError) -> JsonResponse:
    chain = errors.error_chain(exc)
    response = JsonResponse(error_body(errors.error_list(exc)), status=chain[0].status)
    for e in chain:
        for name, value in e.headers.items():
            response[name] = value
    response[versions.HEADER] = versions.current()
    return response


def generic_error_response(
    status: int, message: str | None = None, layer: str = "gateway"
) -> JsonResponse:
    return error_response(
        type("HttpError", (errors.PancakeError,), {"status": status})(
            message or GENERIC_MESSAGES.get(status, "Error"), layer=layer
        )
    )


def exception_handler(exc, context):
    """DRF's exception handler: every exception becomes the envelope."""
    if isinstance(exc, errors.PancakeError):
        return error_response(exc)
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return generic_error_response(405)
    if isinstance(exc, drf_exceptions.ParseError):
        return generic_error_response(400, "Invalid JSON body")
    if isinstance(exc, drf_exceptions.APIException):
        return generic_error_response(exc.status_code)
    logger.exception("Unhandled error in API view", exc_info=exc)
    return generic_error_response(500)
