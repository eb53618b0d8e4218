"""Where a signed-in merchant lands: the home redirect to their current store, the header's
environment and store switches and onboarding's first store (its first product and a store's
home page are in billing/views/home.py)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api.errors import PancakeError
from pancake.models import Environment
from stores import forms, selectors, services
from stores.auth import safe_next
from stores.context_processors import ENVIRONMENT_SESSION_KEY, STORE_SESSION_KEY
from stores.dashboard import page, show_error


def home(request):
    if not request.user.is_authenticated:
        return redirect("dashboard:login")
    stores = list(selectors.active_stores_for(request.user))
    if not stores:
        return redirect("dashboard:onboarding")
    wanted = request.session.get(STORE_SESSION_KEY)
    store = next((s for s in stores if str(s.pk) == wanted), stores[0])
    return redirect("dashboard:store", store_id=store.pk)


@login_required
@require_POST
def set_environment(request):
    environment = request.POST.get("environment")
    if environment in Environment.values:
        request.session[ENVIRONMENT_SESSION_KEY] = environment
    return redirect(safe_next(request, request.POST.get("next")) or "dashboard:home")


@login_required
def switch_store(request):
    value = request.GET.get("store", "")
    if value == "new":
        return redirect("dashboard:onboarding")
    try:
        store_id = uuid.UUID(value)
    except ValueError:
        return redirect("dashboard:home")
    return redirect("dashboard:store", store_id=store_id)


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    form = forms.OnboardingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                store = services.store_create(merchant=request.user, **form.cleaned_data)
            except PancakeError as exc:
                status = show_error(form, exc)
            else:
                request.session[STORE_SESSION_KEY] = str(store.pk)
                messages.success(
                    request, _("Your store “%(name)s” is ready.") % {"name": store.name}
                )
                return redirect("dashboard:first-product", store_id=store.pk)
        else:
            status = 400
    has_stores = selectors.active_stores_for(request.user).exists()
    return page(
        request, "dashboard/onboarding.html", {"form": form, "has_stores": has_stores}, status
    )
