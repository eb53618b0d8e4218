"""Serializer fields that render ids, money and time by API version
(docs/api-versions.md).

This is the one place where versions are looked at: business code hands out UUIDs and integers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pancake import money
from pancake.api import ids, versions
from pancake.api.errors import InvalidInput


def _version(field: serializers.Field) -> str:
    root = getattr(field, "root", None)
    ctx = getattr(root, "_context", None) or {}
    return ctx.get("api_version") or versions.current()


def format_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds: 2026-01-15T10:30:00.000Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    if value.year >= 1000:
        # isoformat truncates to milliseconds as the slow path below does, in a tenth of the
        # time (GraphQL lists render hundreds per request); its "+00:00" becomes "Z".
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def render_id(value: uuid.UUID | str | None, prefix: str | None, version: str | None = None):
    if value is None:
        return None
    if prefix and versions.uses_short_ids(version):
        return ids.encode(prefix, value)
    return str(value)


def render_amount(minor: int | None, currency: str, version: str | None = None):
    if minor is None:
        return None
    return money.to_display(minor, currency) if versions.uses_display_amounts(version) else minor


@extend_schema_field(
    {"type": "string", "description": "A UUID, or PREFIX_base62 short id (by API version)"}
)
class IdField(serializers.Field):
    """Accepts both id forms; renders short or UUID by version. ``prefix=None`` = plain UUID."""

    def __init__(self, prefix: str | None = None, **kwargs):
        self.prefix = prefix
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return ids.parse_id(data, self.prefix, field=self.field_name or "id")
        except InvalidInput as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return render_id(value, self.prefix, _version(self))

    def bind_and_render(self, value, context: dict):
        """Render one id outside a serializer, with the request's context."""
        return render_id(value, self.prefix, context.get("api_version"))


class IdListField(serializers.ListField):
    def __init__(self, prefix: str | None = None, **kwargs):
        kwargs.setdefault("child", IdField(prefix=prefix))
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return format_timestamp(value)


@extend_schema_field(
    {"oneOf": [{"type": "string", "example": "29.00"}, {"type": "integer", "example": 2900}]}
)
class AmountField(serializers.Field):
    """Money in minor units inside. Output: display string or integer by version.

    Reads its currency from ``currency_source`` (an attribute or key of the parent object), or a
    fixed ``currency``. Input conversion needs the currency and is done by the caller through
    ``pancake.money.to_minor`` (the currency usually sits beside the amount).
    """

    def __init__(self, currency_source: str = "currency", **kwargs):
        self.currency_source = currency_source
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        amount = super().get_attribute(instance)
        if isinstance(instance, dict):
            currency = instance.get(self.currency_source)
        else:
            currency = getattr(instance, self.currency_source)
        return (amount, currency)

    def to_representation(self, value):
        amount, currency = value
        return render_amount(amount, currency, _version(self))
