"""Assertions on the /v1/ JSON envelope shared by the API and stores tests."""

from __future__ import annotations

import json
import re
import uuid

from pancake.api import ids

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SHORT_RE = re.compile(r"^(?P<prefix>[A-Z]{2,5})_[0-9A-Za-z]{22}$")
VERSIONS = {"2026-09-23", "2026-01-15"}


def body_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


def assert_error(
    response, status: int, message: str | None = None, layer: str | None = None
) -> dict:
    """The failure envelope: ``{"data": null, "errors": [{"message", "layer"}, ...]}``."""
    assert response.status_code == status, response.content
    body = body_of(response)
    assert body["data"] is None, body
    assert isinstance(body["errors"], list) and body["errors"], body
    for err in body["errors"]:
        assert set(err) >= {"message", "layer"}, err
        assert isinstance(err["message"], str) and err["message"]
        assert err["layer"] in {
            "gateway",
            "user",
            "store",
            "product",
            "order",
            "ticket",
            "graphql",
            "resource",
            "email",
        }, err
    if message is not None:
        assert body["errors"][0]["message"] == message, body
    if layer is not None:
        assert body["errors"][0]["layer"] == layer, body
    assert response.get("Pancake-Version") in VERSIONS, dict(response.headers)
    return body["errors"][0]


def assert_ok(response) -> dict:
    """The success envelope: ``{"data": {...}}`` (plus optional ``warnings``), never ``errors``."""
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert "errors" not in body, body
    assert isinstance(body["data"], dict), body
    assert set(body) <= {"data", "warnings"}, body
    assert response.get("Pancake-Version") in VERSIONS
    return body


def short(prefix: str, value) -> str:
    return ids.encode(prefix, value)


def id_forms(prefix: str, value: uuid.UUID) -> dict[str, str]:
    """Every accepted spelling of one id: short, UUID with dashes, upper case without dashes."""
    return {
        "short": ids.encode(prefix, value),
        "uuid": str(value),
        "uuid-upper-nodash": value.hex.upper(),
    }
