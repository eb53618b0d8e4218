"""API versions (docs/api-versions.md). The version changes presentation only: ids and money are
rendered by the field classes in ``pancake.api.fields`` from the version in effect for the
request."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db import models

SDK = "2026-09-23"  # short ids, display-string amounts
DOCS = "2026-01-15"  # UUIDs, integer minor units
LATEST = SDK
HEADER = "Pancake-Version"


class ApiVersion(models.TextChoices):
    V2026_09_23 = SDK, "2026-09-23 — SDK format (short ids, display amounts)"
    V2026_01_15 = DOCS, "2026-01-15 — documentation format (UUIDs, integer amounts)"


SUPPORTED = {SDK, DOCS}
_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "pancake_api_version", default=LATEST
)


def current() -> str:
    return _current.get()


def uses_short_ids(version: str | None = None) -> bool:
    return (version or current()) == SDK


def uses_display_amounts(version: str | None = None) -> bool:
    return (version or current()) == SDK


@contextmanager
def rendering(version: str):
    token = _current.set(version)
    try:
        yield
    finally:
        _current.reset(token)


def activate(version: str) -> contextvars.Token:
    return _current.set(version)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)
