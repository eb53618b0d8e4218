"""A store's Developers section: the merchant's API keys (created from a public key, the API
version each uses, deletion) and the GraphiQL explorer, which runs GraphQL as the signed-in
merchant. The webhook pages of this section are the billing app's (``billing.views.webhooks``)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api import ids
from pancake.api.errors import NotFound, PancakeError
from pancake.api.versions import LATEST
from pancake.graphql.views import session_view
from stores import forms, selectors, services
from stores.context_processors import current_environment
from stores.dashboard import (
    CONTENT_SECURITY_POLICY,
    base_url,
    confirm_page,
    dashboard_actor,
    page,
    redirect_to,
    show_error,
    store_context,
    store_page,
)


def _developers_page(request, store, *, status: int = 200, error: str = "", form=None):
    merchant = request.user
    keys = list(selectors.api_keys_for(merchant))
    form = form or forms.ApiKeyForm(
        initial={"environment": current_environment(request), "api_version": LATEST}
    )
    context = store_context(
        request,
        store,
        "developers",
        merchant_id=merchant.short_id,
        store_short_id=ids.encode("STO", store.pk),
        base_url=base_url(request),
        keys=keys,
        key_rows=[
            (
                key,
                forms.ApiKeyVersionForm(
                    initial={"api_version": key.api_version}, prefix=str(key.pk)
                ),
            )
            for key in keys
        ],
        form=form,
        error=error,
        new_key=request.GET.get("new", ""),
    )
    return page(request, "dashboard/developers.html", context, status)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@store_page
@require_http_methods(["GET", "POST"])
def developers(request, store):
    if request.method == "GET":
        return _developers_page(request, store)
    form = forms.ApiKeyForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            key = services.api_key_create(
                merchant=request.user,
                name=data["name"],
                environment=data["environment"],
                public_key_pem=data["public_key"],
                api_version=data["api_version"],
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            message = _("API key “%(name)s” created.") % {"name": key.name}
            if _wants_json(request):
                return JsonResponse(
                    {
                        "key": {
                            "id": str(key.pk),
                            "name": key.name,
                            "environment": key.environment,
                            "apiVersion": key.api_version,
                        },
                        "message": message,
                    },
                    status=201,
                )
            messages.success(request, message)
            return redirect_to("dashboard:developers", store.pk, fragment="keys")
    if _wants_json(request):
        return JsonResponse({"errors": form.errors.get_json_data()}, status=status)
    return _developers_page(request, store, status=status, form=form)


@store_page
@require_POST
def api_key_version(request, store, key_id):
    form = forms.ApiKeyVersionForm(request.POST, prefix=str(key_id))
    if not form.is_valid():
        return _developers_page(request, store, status=400, error=_("Choose an API version."))
    try:
        key = services.api_key_update_version(
            merchant=request.user, key_id=key_id, api_version=form.cleaned_data["api_version"]
        )
    except PancakeError as exc:
        return _developers_page(request, store, status=exc.status, error=str(exc))
    messages.success(
        request,
        _("“%(name)s” now uses API version %(version)s.")
        % {"name": key.name, "version": key.api_version},
    )
    return redirect_to("dashboard:developers", store.pk, fragment="keys")


@store_page
@require_http_methods(["GET", "POST"])
def api_key_delete(request, store, key_id):
    key = selectors.api_keys_for(request.user).filter(pk=key_id).first()
    if key is None:
        raise Http404("API key not found")
    if request.method == "GET":
        return confirm_page(
            request,
            store,
            "developers",
            title=_("Delete this API key?"),
            message=_(
                "Requests signed with “%(name)s” (%(environment)s) will fail at once. "
                "This cannot be undone."
            )
            % {"name": key.name, "environment": key.get_environment_display()},
            button=_("Delete API key"),
            cancel_url=reverse("dashboard:developers", args=[store.pk]),
        )
    try:
        services.api_key_delete(merchant=request.user, key_id=key.pk)
    except NotFound:
        raise Http404("API key not found") from None
    messages.success(request, _("API key “%(name)s” deleted.") % {"name": key.name})
    return redirect_to("dashboard:developers", store.pk, fragment="keys")


@store_page
@require_http_methods(["GET", "POST"])
def graphiql(request, store):
    """GET: the GraphiQL explorer (every asset served from this origin). POST: a GraphQL
    request as the signed-in merchant in the current environment, CSRF-protected; the same
    schema and execution as ``/v1/graphql``."""
    if request.method == "POST":
        return session_view(request, dashboard_actor(request))
    context = store_context(
        request,
        store,
        "developers",
        endpoint=reverse("dashboard:graphiql", args=[store.pk]),
        default_query="{\n  stores {\n    id\n    name\n  }\n}\n",
        style_nonce=(nonce := secrets.token_urlsafe(18)),
    )
    # The explorer's dialogs add one <style> element (see static/js/graphiql.js): allowed by
    # this response's nonce, nothing else inline.
    policy = f"{CONTENT_SECURITY_POLICY}; style-src 'self' 'nonce-{nonce}'"
    return page(
        request, "dashboard/graphiql.html", context, headers={"Content-Security-Policy": policy}
    )
