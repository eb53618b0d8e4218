"""Bulk writes of many rows, each with its own values, in one statement: ``insert(objs)`` and
``update(objs, fields)``, for a batch of renewals (bench/bench_renewals.py, bench/RESULTS.md).

Django's ``bulk_update`` writes each column as a ``CASE WHEN pk = … THEN … END`` with one branch
per row: building and resolving those expressions costs more than everything else the batch
does. Its ``bulk_create`` sends each column as one array (``UNNEST``), in text form: a JSON
value's every quote is escaped in Python, which makes a batch of events (thirty-odd keys each)
cost twice what the rest of its renewals do. Here both are one statement over ``unnest`` of one
array per column, sent in PostgreSQL's binary form (nothing to escape); the statement's text
depends only on the columns, not on the number of rows. Elsewhere (SQLite in the tests) they are
Django's ``bulk_create`` and ``bulk_update``.

The values are the fields' own (``get_db_prep_save``; for ``insert``, ``pre_save`` first, so
defaults and ``auto_now`` times are filled in as ``save()`` fills them). No signals (the models
written this way have no receivers), nothing read back.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model


def _connection(model):
    return connections[router.db_for_write(model)]


def _arrays(fields, connection) -> str:
    # binary arrays (%b); the type without its modifier, as Django's UNNEST does, so a value too
    # long for a varchar(n) is refused on assignment instead of cut by the cast
    return ", ".join(f"%b::{f.db_type(connection).split('(')[0]}[]" for f in fields)


def insert(objs: list[Model]) -> None:
    """``bulk_create(objs)`` for new rows whose primary keys are set already (UUID defaults)."""
    if not objs:
        return
    model = type(objs[0])
    connection = _connection(model)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated]
    if any(obj.pk is None for obj in objs):
        raise ValueError("insert() needs each row's primary key set")
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT * FROM unnest({_arrays(fields, connection)})"  # noqa: S608, E501 - names from the model
    params = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def update(objs: list[Model], fields: list[str]) -> int:
    """Write ``fields`` of each of ``objs`` (saved rows of one model) to its row, as they are
    (``auto_now`` is not applied: set it); returns the number of rows written."""
    if not objs:
        return 0
    model = type(objs[0])
    connection = _connection(model)
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
    sql = (
        f"UPDATE {table} SET {sets} FROM unnest({_arrays(columns, connection)})"  # noqa: S608 - names from the model
        f" AS v({', '.join(names)}) WHERE {table}.{qn(meta.pk.column)} = v.c0"
    )
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
