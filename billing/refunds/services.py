"""Placeholder of the refund services being written on main: their signatures, so the dashboard
pages can be built against them. Replaced by main's module on merge."""

from __future__ import annotations

import uuid

from pancake.api.actor import Actor
from pancake.api.errors import NotImplementedYet


def ticket_approve(*, actor: Actor, ticket_id: uuid.UUID, approved_amount=None, note: str = ""):
    raise NotImplementedYet("Refunds are not built yet")


def ticket_reject(*, actor: Actor, ticket_id: uuid.UUID, reason: str):
    raise NotImplementedYet("Refunds are not built yet")


def payment_refund(
    *,
    actor: Actor,
    payment_id: uuid.UUID,
    reason: str,
    amount=None,
    currency: str | None = None,
    amount_field: str = "amount.amount",
    cancel_subscription: bool = False,
):
    raise NotImplementedYet("Refunds are not built yet")


def refund_retry(*, ticket_id: uuid.UUID, actor: Actor | None = None):
    raise NotImplementedYet("Refunds are not built yet")
