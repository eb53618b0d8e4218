"""``pancake.bulk.update``: many rows, each with its own values, in one statement (PostgreSQL's
``UPDATE … FROM unnest``; Django's ``bulk_update`` elsewhere)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pancake import bulk
from pancake.models import IdempotencyKey, OutboxEvent
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _key(n: int, now) -> IdempotencyKey:
    return IdempotencyKey.objects.create(
        principal="MER_1", environment="test", path="/v1/x", key=str(n), request_hash="h",
        created_at=now,
    )  # fmt: skip


def test_each_row_gets_its_own_values_in_one_statement_and_other_rows_keep_theirs():
    now = timezone.now()
    first, second, third, untouched = (_key(n, now) for n in range(4))
    first.state, first.response_status, first.response_body = "done", 200, b'{"data":1}'
    first.completed_at = now + timedelta(microseconds=7)
    second.state, second.response_status, second.response_body = "done", None, b"\x00\xff"
    third.response_status, third.completed_at = 409, None
    with CaptureQueriesContext(connection) as ctx:
        written = bulk.update(
            [first, second, third], ["state", "response_status", "response_body", "completed_at"]
        )
    assert written == 3
    assert len(ctx.captured_queries) == 1
    rows = {
        row["key"]: row
        for row in IdempotencyKey.objects.values(
            "key", "state", "response_status", "response_body", "completed_at", "path"
        )
    }
    assert (rows["0"]["state"], rows["0"]["response_status"]) == ("done", 200)
    assert bytes(rows["0"]["response_body"]) == b'{"data":1}'
    assert rows["0"]["completed_at"] == now + timedelta(microseconds=7)
    assert (rows["1"]["response_status"], bytes(rows["1"]["response_body"])) == (None, b"\x00\xff")
    assert (rows["2"]["state"], rows["2"]["response_status"]) == ("in_flight", 409)
    assert rows["3"] == {**rows["3"], "state": "in_flight", "response_status": None}
    assert {row["path"] for row in rows.values()} == {"/v1/x"}


def test_json_values_and_null_times_are_written_as_they_are():
    store = StoreFactory()
    events = [
        OutboxEvent.objects.create(
            store=store,
            environment="test",
            event_type="order.completed",
            subject_id=uuid.uuid4(),
            aggregate_id=uuid.uuid4(),
            data={"n": n},
            dispatched_at=timezone.now(),
        )  # fmt: skip
        for n in range(2)
    ]
    events[0].data = {"nested": {"quote": 'say "hi"', "list": [1, None]}, "é": "ü"}
    events[1].data, events[1].dispatched_at = [], None
    assert bulk.update(events, ["data", "dispatched_at"]) == 2
    saved = {e.pk: e for e in OutboxEvent.objects.all()}
    assert saved[events[0].pk].data == events[0].data
    assert saved[events[0].pk].data["nested"]["quote"] == 'say "hi"'
    assert saved[events[0].pk].dispatched_at is not None
    assert (saved[events[1].pk].data, saved[events[1].pk].dispatched_at) == ([], None)


def test_nothing_to_write_is_no_statement_and_the_key_is_not_a_field_to_write():
    with CaptureQueriesContext(connection) as ctx:
        assert bulk.update([], ["state"]) == 0
    assert ctx.captured_queries == []
    if connection.vendor == "postgresql":
        with pytest.raises(ValueError):
            bulk.update([_key(1, timezone.now())], ["id"])
