"""Keeps every /v1/ response inside the JSON envelope, whatever produced it: Django's
404/500 pages, CSRF failures, oversized bodies, unhandled exceptions; and takes action calls
straight to their view (``DirectActionMiddleware``)."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.exception import response_for_exception
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.module_loading import import_string

from pancake.api import envelope, versions
from pancake.api.errors import InvalidInput
from pancake.api.registry import ActionView

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


# --- the direct path of action calls --------------------------------------------------------------

API_PREFIX = "/v1/"
# Middlewares that leave an action call and its answer as they are: skipped on the direct path.
INERT_FOR_ACTIONS = {
    "whitenoise.middleware.WhiteNoiseMiddleware",  # serves STATIC_URL files only
    "django.contrib.sessions.middleware.SessionMiddleware",  # actions never touch the session
    "django.middleware.csrf.CsrfViewMiddleware",  # action views are csrf_exempt
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # a lazy request.user, unused
    "stores.middleware.KnownDeviceMiddleware",  # acts after a sign-in only: actions never do
    "django.contrib.messages.middleware.MessageMiddleware",  # no messages from actions
    "allauth.account.middleware.AccountMiddleware",  # redirects /accounts/ 404s only
    "pancake.audit.AuditContextMiddleware",  # the action view sets the audit context itself
}


def _unreachable(request):  # pragma: no cover - the direct path never calls get_response
    raise RuntimeError("the direct action path calls the view itself")


class DirectActionMiddleware:
    """Takes an action call (``POST /v1/actions/…``) or a GraphQL read (``POST /v1/graphql``,
    a view marked ``direct_api``) straight to its view, past the middlewares after this one
    that do nothing for it (``INERT_FOR_ACTIONS``: both are signed, session-less and
    CSRF-exempt). The others
    (security, locale, common, clickjacking) still run, their request and response halves in
    the chain's order, and an exception becomes a response where the handler would have made
    it one, so the answer is the same, headers included. Walking the whole chain cost about
    1 ms of CPU per call. Anything else goes down the chain as usual."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._chain, self._exception_hooks = self._build()
        self._matches: dict[tuple, object] = {}

    @staticmethod
    def _build():
        """The middlewares after this one that an action call still needs, instantiated on
        their own, and every middleware's process_exception in the handler's order; no chain
        (no direct path) when one of those middlewares is not a plain request/response one."""
        names = list(settings.MIDDLEWARE)
        me = f"{__name__}.{DirectActionMiddleware.__name__}"
        if me not in names:
            return None, []
        chain, hooks = [], []
        for position, name in enumerate(names):
            if name == me:
                continue
            factory = import_string(name)
            skipped = position < names.index(me) or name in INERT_FOR_ACTIONS
            if skipped and isinstance(factory, type) and not hasattr(factory, "process_exception"):
                continue  # nothing of it runs here
            instance = factory(_unreachable)
            hook = getattr(instance, "process_exception", None)
            if hook is not None:
                hooks.append(hook)
            if skipped:
                continue
            if any(
                hasattr(instance, h) for h in ("process_view", "process_template_response")
            ) or not (
                hasattr(instance, "process_request") or hasattr(instance, "process_response")
            ):
                return None, []
            chain.append(instance)
        return chain, hooks

    def _action_match(self, request):
        """The resolver match of an action view (or a ``direct_api`` view) for this request, or
        None."""
        if (
            self._chain is None
            or request.method != "POST"
            or not request.path_info.startswith(API_PREFIX)
        ):
            return None
        key = (get_urlconf() or settings.ROOT_URLCONF, request.path_info)
        match = self._matches.get(key)
        if match is None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return None
            view_class = getattr(match.func, "view_class", None)
            direct = getattr(match.func, "direct_api", False) or (
                isinstance(view_class, type) and issubclass(view_class, ActionView)
            )
            if not direct:
                return None
            self._matches[key] = match  # one per action path: bounded by the registry
        return match

    def __call__(self, request):
        match = self._action_match(request)
        if match is None:
            return self.get_response(request)
        chain = self._chain
        response = None
        ran = len(chain)  # the middlewares whose response half runs
        for index, middleware in enumerate(chain):
            hook = getattr(middleware, "process_request", None)
            if hook is None:
                continue
            try:
                response = hook(request)
            except Exception as exc:
                response, ran = response_for_exception(request, exc), index
                break
            if response is not None:
                ran = index + 1
                break
        if response is None:
            request.resolver_match = match
            try:
                response = match.func(request, *match.args, **match.kwargs)
            except Exception as exc:
                response = self._exception_response(request, exc)
        for middleware in reversed(chain[:ran]):
            hook = getattr(middleware, "process_response", None)
            if hook is None:
                continue
            try:
                response = hook(request, response)
            except Exception as exc:
                response = response_for_exception(request, exc)
        return response

    def _exception_response(self, request, exc):
        # BaseHandler._get_response: the middlewares' process_exception, then the handler's own.
        for hook in self._exception_hooks:
            response = hook(request, exc)
            if response is not None:
                return response
        return response_for_exception(request, exc)
