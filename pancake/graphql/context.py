"""What every resolver knows about the request: who asks, in which environment, rendered by
which API version. Ids and amounts go out through here and ``pancake.api.fields`` only."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from pancake import money
from pancake.api import fields
from pancake.api.actor import Actor


@dataclass
class GraphQLContext:
    request: object
    actor: Actor
    version: str
    cache: dict = field(default_factory=dict)  # per-request memo (visible store ids, …)
    _ids: dict = field(default_factory=dict, repr=False)  # rendered ids (a store's, 100 times)

    @property
    def environment(self) -> str:
        return self.actor.environment

    def id(self, value, prefix: str | None = None):
        """A UUID, or its short form for the prefixed types when the version says so."""
        # A UUID is remembered by its number: hashing a UUID runs Python code, an int's not.
        key = (value.int if value.__class__ is UUID else value, prefix)
        try:
            return self._ids[key]
        except KeyError:
            rendered = self._ids[key] = fields.render_id(value, prefix, self.version)
            return rendered
        except TypeError:  # not hashable
            return fields.render_id(value, prefix, self.version)

    def amount(self, minor: int | None, currency: str):
        """Money that follows the API version (the ``prices`` JSON leaf)."""
        return fields.render_amount(minor, currency, self.version)


def display(minor: int | None, currency: str) -> str | None:
    """The SDK guide's amount fields: always a display string ("29.00"), whatever the version."""
    return None if minor is None else money.to_display(minor, currency)


def timestamp(value) -> str | None:
    return fields.format_timestamp(value)
