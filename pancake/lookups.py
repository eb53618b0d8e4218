"""``__any``: ``__in`` with the values as one array parameter.

A custom lookup (Django's public ``Lookup`` API), registered for every field and relation when
this module is imported (``pancake.apps`` does, at start-up).
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, Lookup
from django.db.models.fields.related import ForeignObject


class AnyOf(Lookup):
    """``filter(pk__any=[uuid, …])``: ``__in`` with one array parameter on PostgreSQL (``= ANY
    (%s)``), so the statement's text is the same however many values there are and it can be
    compiled once (a batch of one event or of fifty). Elsewhere, ``IN (%s, …)``."""

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # a relation's lookups are its own (its target's value)
