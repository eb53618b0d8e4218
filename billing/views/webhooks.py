"""The dashboard's webhook pages (under Developers): the endpoints of the header's environment,
managed through ``billing.webhooks.endpoints`` (whose refusals show beside the fields); the
platform's public key with the SDK's three ways to use it; the delivery log with each delivery's
payload and attempts, "resend" and "send test event". Members see every page without write
buttons; the services refuse their forced POSTs (403), which the pages say in their own words.
Another store's endpoint or delivery is 404, whatever the caller's role there."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import forms
from billing.webhooks import attempts as webhook_attempts
from billing.webhooks import endpoints as webhook_endpoints
from billing.webhooks import keys as webhook_keys
from billing.webhooks import selectors as webhook_selectors
from billing.webhooks import testevent
from billing.webhooks.payload import EVENT_TYPES
from pancake.api.errors import Forbidden, NotFound, PancakeError
from pancake.models import Environment
from stores.auth import safe_next
from stores.context_processors import current_environment
from stores.dashboard import (
    base_url,
    confirm_page,
    dashboard_actor,
    page,
    show_error,
    store_context,
    store_page,
)
from stores.models import Role
from stores.selectors import has_role

WEBHOOK_LOG_PAGE_SIZE = 25


def _can_manage(store) -> bool:
    """Whether the page offers the write buttons (the services decide what is allowed)."""
    return has_role(store.caller_role, Role.ADMIN)


def _refusal(exc: PancakeError) -> str:
    """A service's refusal as the pages say it: a role too low in the pages' own words."""
    if exc.code == Forbidden.code:
        return _(
            "Only owners and admins can manage webhooks. You can see them but not change them."
        )
    return exc.message


def _endpoint_or_404(request, store, endpoint_id):
    """The page's store's endpoint (either environment); 404 for anything else."""
    try:
        return webhook_selectors.access_webhook_endpoint(
            dashboard_actor(request), endpoint_id, store_id=store.pk
        )
    except NotFound:
        raise Http404("Webhook not found") from None


def _delivery_or_404(request, store, delivery_id):
    """The page's store's delivery (either environment); 404 for anything else."""
    try:
        return webhook_selectors.access_webhook_delivery(
            dashboard_actor(request), delivery_id, store_id=store.pk
        )
    except NotFound:
        raise Http404("Delivery not found") from None


def _webhooks_url(store, fragment: str = "") -> str:
    return reverse("dashboard:webhooks", args=[store.pk]) + (f"#{fragment}" if fragment else "")


def _webhooks_back(request, store, fragment: str = ""):
    return redirect(safe_next(request, request.POST.get("next")) or _webhooks_url(store, fragment))


def _webhooks_page(request, store, *, status: int = 200, form=None, error: str = ""):
    environment = current_environment(request)
    endpoints = list(webhook_selectors.endpoints_for(store, environment))
    can_manage = _can_manage(store)
    if form is None and can_manage:
        form = forms.WebhookEndpointForm()
    context = store_context(
        request,
        store,
        "developers",
        endpoints=endpoints,
        failed_endpoints=webhook_selectors.disabled_after_failures(endpoints),
        form=form,
        error=error,
        max_endpoints=webhook_endpoints.MAX_PER_STORE,
        public_key=webhook_keys.public_pem(environment),
        merchant_id=request.user.short_id,
        base_url=base_url(request),
    )
    return page(request, "dashboard/webhooks.html", context, status)


@store_page
@require_http_methods(["GET", "POST"])
def webhooks(request, store):
    if request.method == "GET":
        return _webhooks_page(request, store)
    form = forms.WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, store, status=400, form=form)
    data = form.cleaned_data
    try:
        endpoint = webhook_endpoints.endpoint_add(
            actor=dashboard_actor(request),
            store_id=store.pk,
            channel=data["channel"],
            url=data["url"],
            events=form.service_events(),
            test_mode=current_environment(request) == Environment.TEST,
            secret=data["secret"] or None,
            api_version=data["api_version"],
        )
    except Forbidden as exc:
        return _webhooks_page(request, store, status=exc.status, error=_refusal(exc))
    except PancakeError as exc:
        return _webhooks_page(request, store, status=show_error(form, exc), form=form)
    messages.success(request, _("Webhook endpoint added: %(url)s") % {"url": endpoint.url})
    return redirect(_webhooks_url(store, f"webhook-{endpoint.pk}"))


def _webhook_edit_page(request, store, endpoint, *, form=None, status: int = 200, error=""):
    read_only = not _can_manage(store)
    if form is None:
        form = forms.WebhookEndpointForm(endpoint=endpoint)
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    context = store_context(
        request,
        store,
        "developers",
        endpoint=endpoint,
        form=form,
        error=error,
        read_only=read_only,
        event_types=forms.event_choices(),
    )
    return page(request, "dashboard/webhooks_edit.html", context, status)


@store_page
@require_http_methods(["GET", "POST"])
def webhook_edit(request, store, endpoint_id):
    endpoint = _endpoint_or_404(request, store, endpoint_id)
    if request.method == "GET":
        return _webhook_edit_page(request, store, endpoint)
    form = forms.WebhookEndpointForm(request.POST, endpoint=endpoint)
    if not form.is_valid():
        return _webhook_edit_page(request, store, endpoint, form=form, status=400)
    data = form.cleaned_data
    try:
        endpoint = webhook_endpoints.endpoint_update(
            actor=dashboard_actor(request),
            endpoint_id=endpoint.pk,
            url=data["url"],
            events=form.service_events(),
            secret=data["secret"] or None,
            api_version=data["api_version"],
        )
    except Forbidden as exc:
        return _webhook_edit_page(request, store, endpoint, status=exc.status, error=_refusal(exc))
    except PancakeError as exc:
        status = show_error(form, exc)
        return _webhook_edit_page(request, store, endpoint, form=form, status=status)
    messages.success(request, _("Webhook endpoint saved: %(url)s") % {"url": endpoint.url})
    return redirect(_webhooks_url(store, f"webhook-{endpoint.pk}"))


@store_page
@require_POST
def webhook_enabled(request, store, endpoint_id):
    endpoint = _endpoint_or_404(request, store, endpoint_id)
    enable = request.POST.get("enabled") == "1"
    try:
        endpoint = webhook_endpoints.endpoint_update(
            actor=dashboard_actor(request), endpoint_id=endpoint.pk, enabled=enable
        )
    except PancakeError as exc:
        return _webhooks_page(request, store, status=exc.status, error=_refusal(exc))
    if enable:
        messages.success(
            request,
            _("%(url)s is enabled. Events that waited while it was disabled are on their way.")
            % {"url": endpoint.url},
        )
    else:
        messages.success(
            request,
            _("%(url)s is disabled. New events wait until you enable it again.")
            % {"url": endpoint.url},
        )
    return _webhooks_back(request, store, f"webhook-{endpoint.pk}")


@store_page
@require_http_methods(["GET", "POST"])
def webhook_remove(request, store, endpoint_id):
    endpoint = _endpoint_or_404(request, store, endpoint_id)
    if request.method == "GET":
        if not _can_manage(store):  # members get no remove button, not even here
            return redirect(_webhooks_url(store))
        return confirm_page(
            request,
            store,
            "developers",
            title=_("Remove this webhook endpoint?"),
            message=_(
                "%(url)s will receive no more events. Its delivery log stays. "
                "This cannot be undone."
            )
            % {"url": endpoint.url},
            button=_("Remove endpoint"),
            cancel_url=_webhooks_url(store),
        )
    try:
        webhook_endpoints.endpoint_remove(actor=dashboard_actor(request), endpoint_id=endpoint.pk)
    except PancakeError as exc:
        return _webhooks_page(request, store, status=exc.status, error=_refusal(exc))
    messages.success(request, _("Webhook endpoint removed: %(url)s") % {"url": endpoint.url})
    return redirect(_webhooks_url(store))


@store_page
@require_POST
def webhook_send_test(request, store, endpoint_id):
    endpoint = _endpoint_or_404(request, store, endpoint_id)
    event_type = request.POST.get("event_type") or EVENT_TYPES[0]
    try:
        delivery = testevent.send_test(
            actor=dashboard_actor(request), endpoint_id=endpoint.pk, event_type=event_type
        )
    except PancakeError as exc:
        error = _("Choose an event type.") if exc.field == "eventType" else _refusal(exc)
        return _webhooks_page(request, store, status=exc.status, error=error)
    messages.success(
        request,
        _("A test %(event)s event was sent to %(url)s.")
        % {"event": event_type, "url": endpoint.url},
    )
    return redirect(
        reverse("dashboard:webhook-deliveries", args=[store.pk, endpoint.pk])
        + f"#delivery-{delivery.pk}"
    )


def _webhook_log_page(request, store, *, endpoint=None):
    filter_form = None
    if endpoint is None:
        filter_form = forms.WebhookLogFilterForm(request.GET or None)
        deliveries = webhook_selectors.deliveries_for(
            store, environment=current_environment(request), **filter_form.filters()
        )
    else:
        deliveries = webhook_selectors.deliveries_for(store, endpoint=endpoint)
    page_obj = Paginator(deliveries, WEBHOOK_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = store_context(
        request,
        store,
        "developers",
        endpoint=endpoint,
        filter_form=filter_form,
        page_obj=page_obj,
        deliveries=page_obj.object_list,
        can_manage=_can_manage(store),
    )
    return page(request, "dashboard/webhooks_log.html", context)


@store_page
@require_http_methods(["GET"])
def webhook_log(request, store):
    return _webhook_log_page(request, store)


@store_page
@require_http_methods(["GET"])
def webhook_deliveries(request, store, endpoint_id):
    endpoint = _endpoint_or_404(request, store, endpoint_id)
    return _webhook_log_page(request, store, endpoint=endpoint)


def _pretty_json(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _delivery_page(request, store, delivery, *, status: int = 200, error: str = ""):
    context = store_context(
        request,
        store,
        "developers",
        delivery=delivery,
        attempts=webhook_selectors.attempts_of(delivery),
        payload=_pretty_json(delivery.body),
        can_manage=_can_manage(store) and not error,
        error=error,
    )
    return page(request, "dashboard/webhooks_delivery.html", context, status)


@store_page
@require_http_methods(["GET"])
def webhook_delivery(request, store, delivery_id):
    return _delivery_page(request, store, _delivery_or_404(request, store, delivery_id))


@store_page
@require_POST
def webhook_resend(request, store, delivery_id):
    delivery = _delivery_or_404(request, store, delivery_id)
    try:
        webhook_attempts.resend(actor=dashboard_actor(request), delivery_id=delivery.pk)
    except PancakeError as exc:
        return _delivery_page(request, store, delivery, status=exc.status, error=_refusal(exc))
    endpoint = delivery.endpoint
    if endpoint is not None and not endpoint.enabled and not delivery.is_test:
        messages.warning(
            request,
            _("Queued again, but %(url)s is disabled: it goes out when you enable the endpoint.")
            % {"url": endpoint.url},
        )
    else:
        messages.success(request, _("The event was sent again with the same id and body."))
    return redirect("dashboard:webhook-delivery", store_id=store.pk, delivery_id=delivery.pk)


@store_page
@require_http_methods(["GET"])
def webhook_public_key(request, store):
    """The platform's webhook public key (PEM) of one environment, as a download."""
    environment = request.GET.get("env")
    if environment not in Environment.values:
        environment = current_environment(request)
    response = HttpResponse(
        webhook_keys.public_pem(environment), content_type="application/x-pem-file"
    )
    response["Content-Disposition"] = f'attachment; filename="pancake-webhook-{environment}.pem"'
    return response
