"""Keeps every /v1/ response inside the JSON envelope, whatever produced it (SPEC 3): Django's
404/500 pages, CSRF failures, oversized bodies, unhandled exceptions."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from pancake.api import envelope, versions
from pancake.api.errors import InvalidInput

logger = logging.getLogger("pancake.api")
PREFIX = "/v1/"
PASSTHROUGH = {"/v1/openapi.json"}


def is_api(request) -> bool:
    return request.path_info.startswith(PREFIX) or request.path_info == PREFIX.rstrip("/")


class ApiEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        token = versions.activate(versions.LATEST)
        try:
            requested = request.headers.get(versions.HEADER)
            if requested is not None:
                if requested.strip() not in versions.SUPPORTED:
                    return envelope.error_response(
                        InvalidInput(
                            f"Unsupported {versions.HEADER}: {requested!r}; "
                            f"supported: {', '.join(sorted(versions.SUPPORTED))}"
                        )
                    )
                versions.activate(requested.strip())
            length = request.META.get("CONTENT_LENGTH")
            if length and length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
                return envelope.generic_error_response(413, "Request body too large")
            response = self.get_response(request)
            return self._ensure_envelope(request, response)
        finally:
            versions.deactivate(token)

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return envelope.generic_error_response(413, "Request body too large")
        logger.exception("Unhandled error under /v1/", exc_info=exception)
        return envelope.generic_error_response(500, "Internal server error")

    @staticmethod
    def _ensure_envelope(request, response):
        if request.path_info in PASSTHROUGH:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json") and not getattr(
            response, "streaming", False
        ):
            if response.status_code >= 400:
                try:
                    body = json.loads(response.content or b"null")
                except ValueError:
                    body = None
                if not (isinstance(body, dict) and body.get("errors")):
                    response = envelope.generic_error_response(response.status_code)
            if versions.HEADER not in response:
                response[versions.HEADER] = versions.current()
            return response
        status = response.status_code
        if status < 400:
            # Redirects and HTML never leave /v1/: an action URL is never redirected.
            status = 404 if 300 <= status < 400 else status
            if status < 400:
                return response
        message = (
            "Forbidden: CSRF check failed"
            if status == 403 and b"CSRF" in (response.content or b"")
            else None
        )
        return envelope.generic_error_response(status, message)
