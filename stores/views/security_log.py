"""The Security log section of a store's settings (owners and admins): the audit trail's entries
of the store (``stores.selectors.security_log``), newest first, 25 a page; who made each change
(a team member, the API, or Pancake support), when, from where (IP and browser), and each field
before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from stores import selectors
from stores.dashboard import page, store_context, store_page
from stores.models import Role

PAGE_SIZE = 25

SUBJECTS = {
    ("stores", "store"): gettext_lazy("Store"),
    ("stores", "storemembership"): gettext_lazy("Team member"),
    ("stores", "apikey"): gettext_lazy("API key"),
    ("billing", "webhookendpoint"): gettext_lazy("Webhook endpoint"),
    ("billing", "refundticket"): gettext_lazy("Refund ticket"),
    ("stores", "payoutsetup"): gettext_lazy("Payout account"),
}
ACTIONS = {
    LogEntry.Action.CREATE: gettext_lazy("Created"),
    LogEntry.Action.UPDATE: gettext_lazy("Changed"),
    LogEntry.Action.DELETE: gettext_lazy("Deleted"),
}


@dataclass
class Row:
    when: datetime
    who: str
    action: str
    subject: str
    name: str
    changes: list[tuple[str, object, object]]
    address: str
    user_agent: str


def _row(entry: LogEntry) -> Row:
    data = entry.additional_data or {}
    if data.get("via") == "admin":
        who = _("Pancake support")
    elif entry.actor is not None:
        who = entry.actor.email
    else:
        who = entry.actor_email or _("Pancake (automatic)")
    content_type = entry.content_type
    subject = SUBJECTS.get((content_type.app_label, content_type.model), content_type.name)
    changes = [
        (field, *(values if isinstance(values, list) and len(values) == 2 else ("", values)))
        for field, values in sorted((entry.changes or {}).items())
    ]
    return Row(
        when=entry.timestamp,
        who=who,
        action=str(ACTIONS.get(entry.action, entry.get_action_display())),
        subject=str(subject),
        name=entry.object_repr,
        changes=changes,
        address=entry.remote_addr or "",
        user_agent=data.get("user_agent", ""),
    )


@store_page
@require_http_methods(["GET"])
def security_log(request, store):
    if not selectors.has_role(store.caller_role, Role.ADMIN):
        raise PermissionDenied
    page_obj = Paginator(selectors.security_log(store), PAGE_SIZE).get_page(request.GET.get("page"))
    context = store_context(
        request,
        store,
        "settings",
        section="security",
        page_obj=page_obj,
        rows=[_row(entry) for entry in page_obj],
    )
    return page(request, "dashboard/security_log.html", context)
