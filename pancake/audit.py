"""The audit trail (django-auditlog; docs/audit.md says why that library and what it records).

Two kinds of change are recorded, each as one ``auditlog.LogEntry`` with the field values before
and after, who made it, when and from where:

- merchant actions that change money or access, on the models the owning apps register here
  with ``register`` (stores, team memberships, API keys, webhook endpoints, refund tickets):
  auditlog's model signals write the entry, whatever page, API call or task saved the row;
- staff changes in the admin, to any model: the admin (``pancake.admin.AuditedAdmin``) writes
  the entry itself with ``record``.

Who and from where come from the request: ``AuditContextMiddleware`` (pages and the admin) and
the action API's view (``pancake.api.registry``, whose requests skip the middleware) put the
signed-in user, the client's IP and user agent in a context variable that one ``pre_save``
receiver copies onto each entry. A change made outside a request (a Celery task) has no actor.

Each entry also names the store it belongs to (``additional_data["store_id"]``), or, for an API
key, which belongs to a merchant rather than a store, the merchant (``merchant_id``): the store's
Security log page (``stores.selectors.security_log``) selects by these."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.db.models import Model
from django.db.models.signals import pre_save

from pancake.api.ratelimit import client_ip

USER_AGENT_LENGTH = 300
# Never copied into an entry, whoever changed them: that they changed is recorded, not the value.
SECRET_FIELDS = frozenset(
    {
        "password",
        "token_hash",
        "code_hash",
        "secret",
        "private_encrypted",
        "method_token",
        "request_hash",
        "response_body",
    }
)


@dataclass(frozen=True)
class AuditContext:
    actor: object | None  # a stores.Merchant (a merchant or a staff member), or None
    remote_addr: str | None
    user_agent: str
    via: str  # "dashboard", "admin", "api"


# An AuditContext, or a request's _LazyRequestContext (resolved by ``current``).
_context: ContextVar[object | None] = ContextVar("pancake_audit_context", default=None)
# The instance whose entry auditlog is about to write: set by the ``pre_log`` receiver and read
# by the entry's ``pre_save`` receiver, in the same thread and the same call.
_subject: ContextVar[Model | None] = ContextVar("pancake_audit_subject", default=None)
# model -> function giving the ids that place an entry: {"store_id": ...} or {"merchant_id": ...}
_owners: dict[type[Model], Callable[[Model], dict]] = {}


def store_of(instance) -> dict:
    return {"store_id": str(instance.store_id)}


def register(model: type[Model], *, owner: Callable[[Model], dict] = store_of, **options) -> None:
    """Record every change of ``model``'s columns but ``exclude_fields`` (and auditlog's other
    ``register`` options: ``mask_fields``...); ``owner`` names the store (or merchant) an entry
    belongs to."""
    _owners[model] = owner
    excluded = set(options.pop("exclude_fields", ()))
    # Its own columns only: a reverse relation (a store's payout setup) would cost a query.
    options.setdefault(
        "include_fields", [f.name for f in model._meta.concrete_fields if f.name not in excluded]
    )
    auditlog.register(model, **options)


def is_registered(model: type[Model]) -> bool:
    return auditlog.contains(model)


def context_from_request(request, actor, via: str) -> AuditContext:
    address = client_ip(request)
    return AuditContext(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        remote_addr=None if address == "unknown" else address,
        user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
        via=via,
    )


@contextlib.contextmanager
def acting(context: AuditContext | None):
    """Entries written inside are attributed to ``context``."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


class AuditContextMiddleware:
    """Pages and the admin: the signed-in user (after ``AuthenticationMiddleware``), IP and user
    agent, for the entries their changes write. Reading ``request.user`` is deferred to the first
    entry written, so a page that changes nothing never loads the user for this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # pancake/urls.py mounts the admin at /admin/.
        via = "admin" if request.path_info.startswith("/admin/") else "dashboard"
        token = _context.set(_LazyRequestContext(request, via))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


class _LazyRequestContext:
    def __init__(self, request, via: str):
        self.request, self.via = request, via
        self._resolved: AuditContext | None = None

    def resolve(self) -> AuditContext:
        if self._resolved is None:
            self._resolved = context_from_request(
                self.request, getattr(self.request, "user", None), self.via
            )
        return self._resolved


def current() -> AuditContext | None:
    context = _context.get()
    if isinstance(context, _LazyRequestContext):
        return context.resolve()
    return context


def _remember_subject(sender, instance, **kwargs):
    _subject.set(instance)
    return None


def _fill_entry(sender, instance: LogEntry, **kwargs):
    """Who, from where and whose: copied onto each entry as it is first saved."""
    if instance.pk is not None:
        return
    data = dict(instance.additional_data or {})
    subject = _subject.get()
    if subject is not None:
        data.update(owner_ids(subject))
        _subject.set(None)
    context = current()
    if context is not None:
        if instance.actor_id is None and context.actor is not None:
            instance.actor = context.actor
            instance.actor_email = getattr(context.actor, "email", None)
        if instance.remote_addr is None:
            instance.remote_addr = context.remote_addr
        data.setdefault("user_agent", context.user_agent)
        data.setdefault("via", context.via)
    instance.additional_data = data or None


pre_log.connect(_remember_subject, dispatch_uid="pancake.audit.subject")
pre_save.connect(_fill_entry, sender=LogEntry, dispatch_uid="pancake.audit.fill")


# --- staff changes in the admin ------------------------------------------------------------------


def record(
    instance: Model,
    *,
    action: int,
    before: Model | None,
    after: Model | None,
    also: dict | None = None,
) -> LogEntry | None:
    """One entry for a change of ``instance`` (``before``/``after`` are its states, None for a
    creation or a deletion; ``also`` adds changes the fields do not show, as ``{name: [before,
    after]}``, such as a many-to-many). Nothing when nothing changed."""
    changes = _diff(before, after)
    changes.update(also or {})
    for name in SECRET_FIELDS.intersection(changes):
        changes[name] = ["***", "***"]  # that it changed, never the value
    if not changes:
        return None
    _subject.set(instance)
    return LogEntry.objects.log_create(instance, action=action, changes=changes, force_log=True)


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _diff(before: Model | None, after: Model | None) -> dict:
    """``{field: [before, after]}`` of the concrete fields that differ (JSON values)."""
    model = type(after if after is not None else before)
    if model is type(None):
        return {}
    changes = {}
    for field in model._meta.concrete_fields:
        old = None if before is None else _plain(getattr(before, field.attname))
        new = None if after is None else _plain(getattr(after, field.attname))
        if old != new:
            changes[field.name] = [old, new]
    return changes


def owner_ids(instance: Model) -> dict:
    """Where an entry of ``instance`` belongs, for a model not registered here: its store when
    it has one."""
    owner = _owners.get(type(instance))
    if owner is not None:
        return owner(instance)
    if hasattr(instance, "store_id"):
        return {"store_id": str(instance.store_id)}
    return {}


def mask(value) -> str:
    """auditlog's ``mask_callable`` for secrets: that one changed shows, never its value."""
    return "***"
