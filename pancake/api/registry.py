"""The action route: ``POST /v1/actions/{domain}/{action}``.

An action is a class with an ``Input`` serializer, an optional ``Output`` serializer and a
``perform(actor, data)`` that calls one service. The view around it authenticates, picks the API
version, rate-limits, parses and validates, runs the action under its idempotency key, and renders
the envelope.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import nullcontext

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpResponse
from django.urls import path as url_path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from pancake import audit
from pancake.api import auth, envelope, idempotency, openapi, ratelimit, versions
from pancake.api.errors import InvalidInput

logger = logging.getLogger("pancake.api")
REGISTRY: dict[str, type[Action]] = {}


class Action:
    path: str = ""
    auth: tuple[str, ...] = (auth.MERCHANT,)
    layer: str = "gateway"
    Input: type[serializers.Serializer] | None = None
    Output: type[serializers.Serializer] | None = None
    # Most actions are one transaction. An action that commits in steps of its own (around a
    # payment provider's call, say) sets this False and keeps its own consistency.
    atomic: bool = True

    def __init__(self, request, actor: auth.Actor):
        self.request = request
        self.actor = actor
        self.warnings: list[dict] = []

    def warn(self, message: str, layer: str | None = None) -> None:
        self.warnings.append({"message": message, "layer": layer or self.layer})

    def perform(self, actor: auth.Actor, data: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def action(path: str, *, auth: tuple[str, ...] = (auth.MERCHANT,), layer: str = "gateway"):
    def register(cls: type[Action]) -> type[Action]:
        if path in REGISTRY:
            raise RuntimeError(f"action {path} registered twice")
        cls.path, cls.auth, cls.layer = path, auth, layer
        if cls.Input is not None and cls.Input.__name__ == "Input":
            # Unique OpenAPI component names: StoreUpdateStoreInput, …
            cls.Input.__name__ = cls.Input.__qualname__ = f"{_operation_name(path)}Input"
        REGISTRY[path] = cls
        return cls

    return register


def dump_json(body: dict) -> bytes:
    return json.dumps(
        body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()


# --- validation messages ------------------------------------------------------------------------


def _first_error(errors, prefix: str = "") -> tuple[str, str, str | None]:
    """(message, field, DRF code) of the first validation failure, nested fields dotted."""
    if isinstance(errors, dict):
        for name, detail in errors.items():
            field = (
                prefix if name == "non_field_errors" else (f"{prefix}.{name}" if prefix else name)
            )
            return _first_error(detail, field)
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict | list):
            return _first_error(first, prefix)
        errors = first
    message = str(errors)
    code = getattr(errors, "code", None)
    if code in {"required", "null"} and prefix:
        return f"Missing required field: {prefix}", prefix, "required"
    field = prefix.rsplit(".", 1)[-1].lower()
    if not prefix or message.startswith(("Invalid ", "Missing ")) or field in message.lower():
        return message, prefix, code
    return f"Invalid {prefix}: {message}", prefix, code


_input_fields = threading.local()


def _reuse_fields(serializer: serializers.Serializer) -> None:
    """Give ``serializer`` the bound fields an earlier instance of its class built on this thread.

    DRF builds every serializer's fields afresh (a deepcopy of the declared ones: ~1 ms of CPU
    for a 17-field Input, more than the rest of validation). Input fields keep no state between
    validations, so each thread builds them once per class and points them at the serializer
    of the moment (their ``parent``, through which ``context`` and ``root`` are found). One
    thread validates one request at a time, so no two serializers share them at once."""
    by_class = _input_fields.__dict__.setdefault("by_class", {})
    fields = by_class.get(type(serializer))
    if fields is None:
        by_class[type(serializer)] = serializer.fields  # built and bound the usual way
        return
    for field in fields.values():
        field.parent = serializer
    serializer.__dict__["fields"] = fields  # what the cached_property would have stored


def validate(serializer_class, data: dict, layer: str, context: dict | None = None) -> dict:
    serializer = serializer_class(data=data, context=context or {})
    _reuse_fields(serializer)
    if not serializer.is_valid():
        message, field, code = _first_error(serializer.errors)
        raise InvalidInput(
            message,
            layer=layer,
            field=field or None,
            code="required" if code == "required" else "invalid",
        )
    return serializer.validated_data


# --- the view -------------------------------------------------------------------------------------


class ActionView(APIView):
    action_class: type[Action]
    # Declared for the OpenAPI document only: the view reads the raw body itself (the signature
    # covers the exact bytes), so DRF never parses it.
    parser_classes = [JSONParser]
    http_method_names = ["post", "options"]

    def options(self, request, *args, **kwargs):
        response = HttpResponse(
            dump_json({"data": {"methods": ["POST"]}}), content_type="application/json"
        )
        response[versions.HEADER] = versions.current()
        return response

    def post(self, request, *args, **kwargs):
        cls = self.action_class
        django_request = request._request
        raw = django_request.body
        actor = auth.authenticate(django_request, raw)
        auth.require_kind(actor, cls.auth)
        version = versions.current() if django_request.headers.get(versions.HEADER) else None
        version = version or actor.api_version or versions.LATEST
        versions.activate(version)
        ratelimit.check(django_request, actor)
        data = parse_body(raw)
        key = idempotency.parse_key(django_request)
        context = {"api_version": version, "actor": actor, "request": django_request}
        validated = validate(cls.Input, data, cls.layer, context) if cls.Input else data

        record = None
        if key:
            claim = idempotency.begin(
                principal=actor.principal,
                environment=actor.environment,
                path=django_request.path_info,
                key=key,
                body_hash=idempotency.request_hash(raw),
            )
            if isinstance(claim, idempotency.Replay):
                response = HttpResponse(
                    claim.body, status=claim.status, content_type="application/json"
                )
                response["Idempotent-Replayed"] = "true"
                response[versions.HEADER] = claim.version
                return response
            record = claim

        instance = cls(django_request, actor)
        # Action calls skip the page middlewares: the audit trail learns who and from where here.
        who = audit.context_from_request(django_request, actor.merchant, "api")
        try:
            with audit.acting(who), transaction.atomic() if cls.atomic else nullcontext():
                result = instance.perform(actor, validated)
                if cls.Output is not None:
                    result = cls.Output(result, context=context).data
                body = dump_json(envelope.success_body(result, instance.warnings))
                if record is not None:
                    idempotency.complete(record, status=200, body=body, version=version)
        except BaseException:
            if record is not None:
                idempotency.release(record)
            raise
        response = HttpResponse(body, status=200, content_type="application/json")
        response[versions.HEADER] = version
        return response

    def perform_content_negotiation(self, request, force=False):
        # Always JSON, whatever the Accept header says.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def parse_body(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        # Python's json takes NaN and Infinity, which JSON (and JSON.stringify) never produce.
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("Invalid JSON body") from None
    if not isinstance(data, dict):
        raise InvalidInput("Invalid JSON body: expected a JSON object")
    return data


# --- OpenAPI ------------------------------------------------------------------------------------

_ERROR = inline_serializer(
    name="ErrorEnvelope",
    fields={
        "data": serializers.JSONField(allow_null=True, default=None),
        "errors": serializers.ListField(
            child=inline_serializer(
                name="ErrorItem",
                fields={"message": serializers.CharField(), "layer": serializers.CharField()},
            )
        ),
    },
)
_HEADERS = [
    OpenApiParameter(
        "X-Idempotency-Key",
        str,
        OpenApiParameter.HEADER,
        description="Optional; ≤ 256 of [A-Za-z0-9_-]",
    ),
    OpenApiParameter(
        versions.HEADER, str, OpenApiParameter.HEADER, description="Override the key's API version"
    ),
]


def _operation_name(path: str) -> str:
    return "".join(part.capitalize() for part in path.replace("/", "-").split("-"))


def _view_for(cls: type[Action]):
    name = _operation_name(cls.path)
    data_field = cls.Output() if cls.Output else serializers.DictField()
    ok = inline_serializer(
        name=f"{name}Response",
        fields={
            "data": data_field,
            "warnings": serializers.ListField(child=serializers.DictField(), required=False),
        },
    )
    doc = (cls.__doc__ or cls.path).strip()

    def post(self, request, *args, **kwargs):
        return ActionView.post(self, request, *args, **kwargs)

    view = type(f"{name}View", (ActionView,), {"action_class": cls})
    view.post = extend_schema(
        operation_id=name[0].lower() + name[1:],
        summary=doc.splitlines()[0],
        description=doc + f"\n\nAuthentication: {', '.join(cls.auth)}.",
        tags=[cls.path.split("/")[0]],
        request=cls.Input,
        responses={
            200: ok,
            400: OpenApiResponse(_ERROR),
            401: OpenApiResponse(_ERROR),
            403: OpenApiResponse(_ERROR),
            404: OpenApiResponse(_ERROR),
            409: OpenApiResponse(_ERROR),
            422: OpenApiResponse(_ERROR),
            429: OpenApiResponse(_ERROR),
        },
        parameters=_HEADERS,
        auth=openapi.security(cls.auth),
    )(post)
    return view.as_view()


def urlpatterns():
    return [
        url_path(f"v1/actions/{p}", _view_for(cls), name=f"action-{p.replace('/', '-')}")
        for p, cls in sorted(REGISTRY.items())
    ]
