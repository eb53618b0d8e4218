"""A GraphQL list asked again the same way (the same field of the same document, the same
arguments, the same caller's scope) is answered from the queryset and compiled statement made
the first time: ``memoized_list`` says what "the same way" is; ``pancake.api.prepared.memoized``
keeps the lists (with the related rows of each list shared between its rows).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from pancake.api import prepared
from pancake.graphql.scope import scope_key


def memoized_list(info, parts: tuple, build: Callable[[], QuerySet]) -> QuerySet:
    """A list root's ``build()`` (its base queryset, filtered, optimized for the selection,
    paginated) through ``prepared.memoized``, keyed by ``parts`` (the root's name and every
    argument it was given, filters frozen: ``filters.frozen``), this field of this document and
    the caller's scope."""
    nodes = tuple(info.field_nodes)
    key = (*parts, tuple(map(id, nodes)), scope_key(info.context))
    return prepared.memoized(key, nodes, build)
