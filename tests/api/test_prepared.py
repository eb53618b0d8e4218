"""pancake.api.prepared: statements compiled once per connection answer exactly what the ORM
answers, and instances built without ``Model.__init__`` are the instances ``from_db`` builds."""

import pytest
from django.db.models import signals

from billing.models import Payment
from checkout.models import Order
from pancake.api import prepared
from tests.graphql import seed

pytestmark = pytest.mark.django_db


def _state(obj, seen=()) -> dict:
    """What an instance holds: its column values, its state and its cached relations (a
    relation back to an instance already described is named by its model)."""
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    cached = {}
    for name, related in obj._state.fields_cache.items():
        if related is None or type(related) in seen:
            cached[name] = type(related).__name__
        else:
            cached[name] = _state(related, (*seen, type(obj)))
    return {"values": values, "adding": obj._state.adding, "db": obj._state.db, "cached": cached}


def _orders(store_id):
    return Order.objects.filter(store_id=store_id).select_related("store", "session__store")


ORDERS = prepared.PreparedSelect(_orders)


def test_a_prepared_select_builds_the_instances_the_orm_builds(store):
    seed.orders(store, seed.onetime(store), 3)
    for _ in range(2):  # compiled on the first call, reused on the second
        fast = sorted(ORDERS.fetch(store.pk), key=lambda o: o.pk)
        orm = sorted(_orders(store.pk), key=lambda o: o.pk)
        assert [_state(o) for o in fast] == [_state(o) for o in orm]
        assert len(fast) == 3 and fast[0].session.store.name == store.name


def test_built_instances_save_refresh_and_load_deferred_fields(store):
    seed.orders(store, seed.onetime(store), 1)
    order_id = Order.objects.get().pk
    query = Order.objects.only("id", "status").filter(pk=order_id)
    build = prepared.instance_builder(Order, "default", ["id", "status"])
    order = build([order_id, "completed"])
    assert order.get_deferred_fields() >= {"buyer_email", "total"}
    assert order.buyer_email == query.get().buyer_email  # loaded on access, as from_db's would
    order.status = "canceled"
    order.save(update_fields=["status"])
    assert Order.objects.get(pk=order_id).status == "canceled"
    order.refresh_from_db()
    assert order.status == "canceled" and not order._state.adding


def test_a_model_with_init_receivers_is_built_by_from_db(store):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    seed.orders(store, seed.onetime(store), 1)
    payment = Payment.objects.get()
    signals.post_init.connect(receiver, sender=Payment)
    try:
        build = prepared.instance_builder(Payment, "default", ["id", "status"])
        built = build([payment.pk, payment.status])
    finally:
        signals.post_init.disconnect(receiver, sender=Payment)
    assert seen == [built]  # Model.__init__ ran and sent post_init


def _orders_among(order_ids):
    return Order.objects.filter(pk__any=order_ids).order_by("pk")


ORDERS_AMONG = prepared.PreparedSelect(_orders_among)


def test_any_answers_what_in_answers_and_is_compiled_once_for_every_length(store):
    from django.db import connection, connections

    seed.orders(store, seed.onetime(store), 4)
    every = sorted(Order.objects.values_list("pk", flat=True))
    assert list(Order.objects.filter(pk__any=every[:3]).order_by("pk")) == list(
        Order.objects.filter(pk__in=every[:3]).order_by("pk")
    )
    assert list(Order.objects.filter(pk__any=[])) == []  # nothing matches, no query error
    compiled = []
    for size in (1, 3, 4, 2):
        assert [o.pk for o in ORDERS_AMONG.fetch(every[:size])] == every[:size]
        compiled.append(prepared._cache(connections["default"]).get(ORDERS_AMONG))
    if connection.vendor == "postgresql":
        # one array parameter: one statement for every length, compiled once (and prepared)
        assert compiled[0] is not None and all(c is compiled[0] for c in compiled)
        assert compiled[0].sql.endswith(
            'WHERE "checkout_order"."id" = ANY(%s) ORDER BY "checkout_order"."id" ASC'
        )
    else:
        assert compiled == [None] * 4  # IN (%s, …): the ORM's way every time
