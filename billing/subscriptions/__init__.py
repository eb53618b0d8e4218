"""Subscriptions: the recurring side of a subscription order (docs/subscriptions.md).

- ``lifecycle``: every change of a subscription's status goes through ``set_status`` there,
  which also sets its order's status (through ``checkout.services``) and emits the event;
  starting one at its first payment, cancel, reactivate, pause, resume.
- ``renewals``: the engine that runs what falls due (trial ends, renewals, dunning retries, the
  end of a canceling period, scheduled plan changes, reminder emails), one step at a time, for
  the beat task and for test clocks alike; each period is charged at most once.
- ``emails``: the buyer's and the merchant's emails about what happened (receipts, failed
  payments, reminders, cancellations, plan changes), sent from the outbox's events.
- ``plan_changes``: moving a subscription to another plan (a plan-change session confirmed on
  its page): the upgrade's prorated charge made once, credits, changes at the period's end.
- ``clock``: the subscription's time (real time, or a test clock's).
- ``selectors``: reads scoped to the caller.

Lock order everywhere: the subscription, then its order, then its payments.
"""
