"""The permission groups of support staff (docs/admin.md). A staff member (``is_staff``) is put
in one of them in the admin:

- "Support (read only)": views every table in the admin, changes nothing, runs no action;
- "Support agent": views everything and runs the support actions (resend a webhook, retry a
  failed refund, render an invoice PDF again, suspend or reactivate a store, mark a payout paid,
  expire a checkout session, unlock a merchant's API rate limit), each behind its own
  permission;
- "Admin": every permission (adds and edits too).

``sync`` makes the groups hold exactly these permissions. The migration that creates the groups
runs it; after a migration that adds tables, ``manage.py sync_staff_groups`` runs it again so
the groups see the new tables too."""

from __future__ import annotations

READ_ONLY = "Support (read only)"
AGENT = "Support agent"
ADMIN = "Admin"

# (app label, codename) of the support actions' permissions.
ACTION_PERMISSIONS = (
    ("billing", "can_resend_webhook"),
    ("billing", "can_retry_refund"),
    ("billing", "can_rerender_invoice"),
    ("billing", "can_mark_payout_paid"),
    ("stores", "can_suspend_store"),
    ("stores", "can_unlock_rate_limit"),
    ("checkout", "can_expire_checkout_session"),
)


def sync(permission_model, group_model) -> None:
    """Create the three groups and set their permissions (models given, so a migration can pass
    its historical ones)."""
    views = list(permission_model.objects.filter(codename__startswith="view_"))
    actions = [
        permission
        for permission in permission_model.objects.filter(
            codename__in=[codename for _, codename in ACTION_PERMISSIONS]
        ).select_related("content_type")
        if (permission.content_type.app_label, permission.codename) in ACTION_PERMISSIONS
    ]
    read_only, _ = group_model.objects.get_or_create(name=READ_ONLY)
    read_only.permissions.set(views)
    agent, _ = group_model.objects.get_or_create(name=AGENT)
    agent.permissions.set(views + actions)
    admin, _ = group_model.objects.get_or_create(name=ADMIN)
    admin.permissions.set(list(permission_model.objects.all()))
