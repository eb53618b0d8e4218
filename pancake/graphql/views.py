"""``POST /v1/graphql``: authenticated like the action API (the signature covers
``/v1/graphql``), rate limited, queries only, and always JSON: ``{data, errors?}``."""

from __future__ import annotations

import json
import logging
from functools import lru_cache

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)

from pancake.api import auth, envelope, ratelimit, versions
from pancake.api.errors import Forbidden, InvalidInput, MethodNotAllowed, PancakeError
from pancake.graphql.context import GraphQLContext
from pancake.graphql.execution import CompiledExecutionContext
from pancake.graphql.schema import schema
from pancake.graphql.validation import MAX_QUERY_CHARS, RULES, operation_type, rewrite_prices

logger = logging.getLogger("pancake.graphql")
LAYER = "graphql"


def _json(body: dict, status: int, version: str) -> HttpResponse:
    # orjson: compact UTF-8, what json.dumps(ensure_ascii=False, separators=(",", ":")) writes,
    # in a fifth of the time (a 100-row answer is most of a request's encoding work); the json
    # module for what orjson refuses (an integer beyond 64 bits)
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(
        content,
        status=status,
        content_type="application/json",
    )
    response[versions.HEADER] = version
    return response


def _format(error: GraphQLError) -> dict:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError | PancakeError):
        # A bug, not the caller's mistake: log it, never show its text.
        logger.error("GraphQL resolver failed", exc_info=original)
        out = {"message": "Internal server error"}
    else:
        out = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    out["layer"] = LAYER
    return out


def _errors(errors, status: int, version: str) -> HttpResponse:
    return _json({"data": None, "errors": [_format(e) for e in errors]}, status, version)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _request(raw: bytes) -> tuple[str, dict, str | None]:
    try:
        body = json.loads(raw or b"", parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("Invalid JSON body", layer=LAYER) from None
    if not isinstance(body, dict):
        raise InvalidInput("Invalid JSON body: expected a JSON object", layer=LAYER)
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("Missing required field: query", layer=LAYER)
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"Query is too long: at most {MAX_QUERY_CHARS} characters", layer=LAYER)
    variables = body.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise InvalidInput("Invalid variables: expected a JSON object", layer=LAYER)
    name = body.get("operationName")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("Invalid operationName: expected a string", layer=LAYER)
    return query, variables, name


def actor_version(request, actor) -> str:
    """The header's version if one was sent (the middleware checked it), else the credential's."""
    if request.headers.get(versions.HEADER):
        return versions.current()
    return actor.api_version or versions.LATEST


@csrf_exempt
def graphql_view(request):
    if request.method != "POST":
        return envelope.error_response(MethodNotAllowed("Method not allowed: use POST"))
    raw = request.body
    try:
        actor = auth.authenticate(request, raw)
        if actor.kind not in (auth.MERCHANT, auth.BUYER):
            raise Forbidden("Insufficient permissions")
        version = actor_version(request, actor)
        versions.activate(version)
        ratelimit.check(request, actor)
        query, variables, operation_name = _request(raw)
    except PancakeError as exc:
        return envelope.error_response(exc)
    return run(query, variables, operation_name, GraphQLContext(request, actor, version))


# Signed, session-less and CSRF-exempt like an action: DirectActionMiddleware takes it straight
# here past the browser middlewares.
graphql_view.direct_api = True


def session_view(request, actor) -> HttpResponse:
    """The dashboard's GraphiQL endpoint: a signed-in merchant's session (the caller checked it
    and the CSRF token) instead of a signature, then the same rate limit, parsing, limits and
    execution as ``/v1/graphql``. Answers in the latest API version."""
    version = versions.LATEST
    versions.activate(version)
    try:
        ratelimit.check(request, actor)
        query, variables, operation_name = _request(request.body)
    except PancakeError as exc:
        return envelope.error_response(exc)
    return run(query, variables, operation_name, GraphQLContext(request, actor, version))


DOCUMENT_CACHE_SIZE = 256


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _prepared(query: str, graphql_schema) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse, rewrite and validate a document once per (query text, schema): the same query
    sent again (what clients do) skips straight to execution. The cached document is never
    mutated after this; execution only reads it. Returns the document (None if it does not
    parse) and its parse or validation errors."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    rewrite_prices(document)
    if _mutating(document):
        # Refused before validation (see run); never validated, never executed.
        return document, ()
    return document, tuple(validate(graphql_schema, document, RULES))


def _mutating(document: DocumentNode) -> bool:
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation != OperationType.QUERY
        for d in document.definitions
    )


def run(query: str, variables: dict, operation_name: str | None, ctx: GraphQLContext):
    """Parse, refuse mutations, rewrite, validate, execute: the response for one document."""
    version = ctx.version
    graphql_schema = schema.graphql_schema
    document, problems = _prepared(query, graphql_schema)
    if document is None:
        return _errors(problems, 400, version)
    kind = operation_type(document, operation_name)
    if kind in (OperationType.MUTATION, OperationType.SUBSCRIPTION):
        message = (
            "Mutations are not supported: GraphQL is read-only, write with the action API "
            "(POST /v1/actions/…)"
        )
        return _errors([GraphQLError(message)], 403, version)
    if _mutating(document):
        # A query picked by name from a document that also holds a mutation: validate it here
        # (such documents are not validated in the cache).
        problems = validate(graphql_schema, document, RULES)
    if problems:
        return _errors(problems, 400, version)
    result = execute(
        graphql_schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=ctx,
        is_awaitable=_never_awaitable,
        execution_context_class=CompiledExecutionContext,
    )
    body: dict = {"data": result.data}
    if result.errors:
        body["errors"] = [_format(e) for e in result.errors]
    # No data at all (bad variables, unknown operation): the request itself was wrong.
    status = 400 if result.data is None and result.errors else 200
    return _json(body, status, version)


def _never_awaitable(_value) -> bool:
    """Every resolver is synchronous: spare graphql-core its per-value awaitable check."""
    return False
