"""One instance per related row: a 100-row list whose rows all join the same store, product and
version builds each of those once instead of once per row.

``select_related`` builds a fresh instance of every joined model for every row. GraphQL only
reads them, so rows pointing at the same related row can share one instance: the iterable below
is Django's ``ModelIterable`` with a populator that remembers, per relation, the instances it
built by primary key. Everything else (annotations, known related objects) is Django's.

The instances themselves are built without ``Model.__init__`` where that is the same
(``pancake.api.prepared.instance_builder``).
"""

from __future__ import annotations

import operator

from django.db.models.query import ModelIterable

from pancake.api.prepared import FastRelatedPopulator, instance_builder


class _SharedPopulator(FastRelatedPopulator):
    """Builds one instance per related primary key (per relation) and hands it to every row."""

    def __init__(self, klass_info, select, db):
        super().__init__(klass_info, select, db)
        self.built: dict = {}

    def instance(self, row, obj_data):
        pk = obj_data[self.pk_idx]
        obj = self.built.get(pk)
        if obj is None:
            obj = self.built[pk] = super().instance(row, obj_data)
        return obj


class SharedRelatedModelIterable(ModelIterable):
    """``ModelIterable`` (Django 5.2) whose ``select_related`` instances are shared between rows
    with the same related primary key, per relation."""

    def __iter__(self):
        queryset = self.queryset
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        results = compiler.execute_sql(chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        select, klass_info, annotation_col_map = (
            compiler.select,
            compiler.klass_info,
            compiler.annotation_col_map,
        )
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        model_fields_start, model_fields_end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[model_fields_start:model_fields_end]]
        related_populators = [
            _SharedPopulator(info, select, db) for info in klass_info.get("related_klass_infos", [])
        ]
        known_related_objects = [
            (
                field,
                related_objs,
                operator.attrgetter(
                    *[
                        (
                            field.attname
                            if from_field == "self"
                            else queryset.model._meta.get_field(from_field).attname
                        )
                        for from_field in field.from_fields
                    ]
                ),
            )
            for field, related_objs in queryset._known_related_objects.items()
        ]
        build = instance_builder(model_cls, db, init_list)
        for row in compiler.results_iter(results):
            obj = build(row[model_fields_start:model_fields_end])
            for rel_populator in related_populators:
                rel_populator.populate(row, obj)
            if annotation_col_map:
                for attr_name, col_pos in annotation_col_map.items():
                    setattr(obj, attr_name, row[col_pos])
            for field, rel_objs, rel_getter in known_related_objects:
                if field.is_cached(obj):
                    continue
                try:
                    rel_obj = rel_objs[rel_getter(obj)]
                except KeyError:
                    pass
                else:
                    setattr(obj, field.name, rel_obj)
            yield obj


def shared(qs):
    """``qs`` yielding shared related instances, built at once (a plain model queryset)."""
    if qs._iterable_class is ModelIterable:
        qs = qs._chain()
        qs._iterable_class = SharedRelatedModelIterable
    return qs
