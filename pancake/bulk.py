"""Bulk writes: ``update(objs, fields)`` writes the named fields of many rows, each its own
values, in one statement.

Django's ``bulk_update`` does the same with one ``CASE WHEN pk = … THEN … END`` per column and
one branch per row; building and resolving those expressions in Python costs more than
everything else a batch of renewals does (bench/bench_renewals.py, bench/RESULTS.md). On
PostgreSQL this is one ``UPDATE … FROM unnest(…)`` instead, one array parameter per column: its
text is the same however many rows there are. Elsewhere (SQLite in the tests) it is
``bulk_update``. No ``save()``, no signals, no ``auto_now``: the caller sets every value.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model


def update(objs: list[Model], fields: list[str]) -> int:
    """Write ``fields`` of each of ``objs`` (saved rows of one model) to its row; returns the
    number of rows written."""
    if not objs:
        return 0
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objs, fields)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if any(not field.concrete or field.primary_key for field in columns[1:]):
        raise ValueError(f"update() writes concrete non-key fields only: {fields}")
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = [f"c{i}" for i in range(len(columns))]
    sets = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(columns[1:], names[1:], strict=True))
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
    sql = (
        f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(names)})"  # noqa: S608 - names from the model
        f" WHERE {table}.{qn(meta.pk.column)} = v.c0"
    )
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
