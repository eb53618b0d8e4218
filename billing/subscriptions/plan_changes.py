"""Plan changes (filled in by the plan-change work): ``apply_scheduled`` applies a change
scheduled for the period end, before the renewal charges the new plan."""

from __future__ import annotations


def apply_scheduled(subscription, at) -> None:
    """Apply the subscription's scheduled plan change due at ``at`` (the period end) to the
    locked row, before the renewal's charge is computed. Nothing is scheduled yet."""
    return None
