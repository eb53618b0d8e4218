"""Catalog pages: the dashboard's products and groups, and the public permanent
purchase link ``/{store-slug}/{product-slug}``.

Views are adapters: parse a form, call one service or selector, render. The dashboard acts in
the environment of the header's Test/Live toggle. Services enforce roles: a member sees every
page read-only, and a forced POST shows the service's refusal with its status.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.providers import live_payments_available
from checkout import languages
from checkout.services import checkout_url, session_open_from_link
from pancake.api import ids
from pancake.api.errors import PancakeError
from pancake.api.ratelimit import bucket_of, client_ip, hit
from pancake.models import Environment
from pancake.templatetags.money import money_filter
from products import forms, markdown, selectors, services
from products.models import BillingPeriod, ProductKind, ProductStatus
from products.validation import DESCRIPTION_MAX
from stores.auth import safe_next
from stores.context_processors import current_environment
from stores.dashboard import dashboard_actor as _actor
from stores.dashboard import page, store_page
from stores.dashboard import store_context as _store_context
from stores.models import Role
from stores.selectors import has_role

# The dashboard's policy, except that product images may come from any http(s) host.
PRODUCT_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: https: http:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
_HEX = re.compile(r"^#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?$")
_RADIUS = re.compile(r"^\d+(?:\.\d+)?(?:px|rem|em)$")
_IMAGE_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


def price_label(amount: int, currency: str, period: str | None) -> str:
    """'$29.00 / month' in the viewer's locale; a one-time price is just the amount."""
    price = money_filter(amount, currency)
    labels = {
        BillingPeriod.WEEKLY: _("%(price)s / week"),
        BillingPeriod.MONTHLY: _("%(price)s / month"),
        BillingPeriod.QUARTERLY: _("%(price)s / 3 months"),
        BillingPeriod.YEARLY: _("%(price)s / year"),
    }
    return labels[period] % {"price": price} if period in labels else price


def _prices(version) -> list[dict]:
    period = version.billing_period
    return [
        {
            "currency": currency,
            "label": price_label(info["amount"], currency, period),
            "trial": (
                money_filter(info["trialAmount"], currency)
                if info.get("trialAmount") is not None
                else None
            ),
            "tax_included": bool(info.get("taxIncluded")),
        }
        for currency, info in (version.prices or {}).items()
    ]


def _image(version) -> dict | None:
    return next((m for m in version.media or [] if m.get("type") == "image"), None)


def _origin(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def purchase_url(request, store, product, environment: str) -> str:
    """The permanent purchase link, for test with ``?env=test``."""
    url = _origin(request) + reverse("purchase:link", args=[store.slug, product.slug])
    return url + ("?env=test" if environment == Environment.TEST else "")


def _publish_label(product) -> str | None:
    """None when prod already shows the current test version."""
    if product.prod_version_id is None:
        return _("Publish to Live")
    if product.prod_version_id != product.test_version_id:
        return _("Publish again")
    return None


def _product_or_404(request, store, product_id: uuid.UUID, *, min_role: str = Role.MEMBER):
    try:
        product = selectors.access_product(_actor(request), product_id, min_role=min_role)
    except PancakeError:
        raise Http404("Product not found") from None
    if product.store_id != store.pk:
        raise Http404("Product not found")
    return product


def _can_manage(store) -> bool:
    return has_role(store.caller_role, Role.ADMIN)


def _back(request, store, default: str | None = None):
    target = safe_next(request, request.POST.get("next"))
    return redirect(target or default or reverse("products:list", args=[store.pk]))


def _save_upload(request, store, upload) -> str:
    """Store an uploaded image with the default storage (MEDIA_ROOT) and answer its absolute
    URL, on the platform's public address (BASE_URL) as emailed links are."""
    extension = _IMAGE_EXTENSIONS[upload.image.format.upper()]
    name = default_storage.save(f"products/{store.pk}/{uuid.uuid4().hex}.{extension}", upload)
    url = default_storage.url(name)
    return url if "://" in url else settings.BASE_URL + url


# --- product list ------------------------------------------------------------------------------


def _product_row(request, store, product, environment: str) -> dict:
    version = product.version_for(environment) or product.test_version
    return {
        "product": product,
        "version": version,
        "image": _image(version),
        "prices": _prices(version),
        "status": product.status_for(environment),
        "is_active": product.status_for(environment) == ProductStatus.ACTIVE,
        # Activating in prod needs a prod version: unpublished products offer Publish instead.
        "can_toggle": environment == Environment.TEST or product.prod_version_id is not None,
        "prod_number": product.prod_version.number if product.prod_version_id else None,
        "test_number": product.test_version.number,
        "publish_label": _publish_label(product),
        "link": purchase_url(request, store, product, environment),
    }


def _list_page(request, store, *, status: int = 200, error: str = ""):
    environment = current_environment(request)
    products = selectors.product_list(store=store, environment=environment)
    # No "subscribers" column yet: it comes with subscriptions (see selectors.py).
    rows = [_product_row(request, store, p, environment) for p in products]
    context = _store_context(
        request,
        store,
        "products",
        rows=rows,
        error=error,
        new_product=request.GET.get("new", ""),
    )
    return page(
        request,
        "products/list.html",
        context,
        status,
        headers={"Content-Security-Policy": PRODUCT_PAGE_CSP},
    )


@store_page
@require_http_methods(["GET"])
def product_list(request, store):
    return _list_page(request, store)


@store_page
@require_POST
def product_status(request, store, product_id):
    product = _product_or_404(request, store, product_id)
    try:
        product = services.product_update_status(
            actor=_actor(request),
            product_id=product.pk,
            kind=product.kind,
            status=request.POST.get("status", ""),
        )
    except PancakeError as exc:
        return _list_page(request, store, status=exc.status, error=str(exc))
    environment = current_environment(request)
    version = product.version_for(environment) or product.test_version
    if product.status_for(environment) == ProductStatus.ACTIVE:
        text = _("“%(name)s” is now active in %(environment)s.")
    else:
        text = _("“%(name)s” is now inactive in %(environment)s.")
    messages.success(
        request, text % {"name": version.name, "environment": Environment(environment).label}
    )
    return _back(request, store)


@store_page
@require_POST
def product_publish(request, store, product_id):
    product = _product_or_404(request, store, product_id)
    try:
        product = services.product_publish(
            actor=_actor(request), product_id=product.pk, kind=product.kind
        )
    except PancakeError as exc:
        return _list_page(request, store, status=exc.status, error=str(exc))
    messages.success(
        request,
        _("Published “%(name)s” version %(number)s to Live.")
        % {"name": product.prod_version.name, "number": product.prod_version.number},
    )
    _warn_if_buyers_cannot_pay(request)
    return _back(request, store)


def _warn_if_buyers_cannot_pay(request) -> None:
    """Publishing to Live does not make Live payable: say so while no live provider is set up."""
    if not live_payments_available():
        messages.warning(
            request,
            _(
                "Buyers can't pay in Live yet: this store can't accept payments until a live "
                "payment provider is configured on this Pancake."
            ),
        )


# --- create and edit ---------------------------------------------------------------------------


def _form_page(request, store, form, *, product=None, status: int = 200):
    environment = current_environment(request)
    context = _store_context(
        request,
        store,
        "products",
        form=form,
        product=product,
        kind=form.chosen_kind,
        read_only=form.read_only,
        show_subscription=product is None or product.kind == ProductKind.SUBSCRIPTION,
        description_html=markdown.render(forms._text(form["description"].value() or "")),
    )
    if product is not None:
        context.update(
            short_id=ids.encode("PROD", product.pk),
            versions=list(selectors.product_versions(product=product)),
            test_status=product.test_status,
            prod_status=product.prod_status,
            publish_label=_publish_label(product),
            link=purchase_url(request, store, product, environment),
            can_toggle=environment == Environment.TEST or product.prod_version_id is not None,
            current_status=product.status_for(environment),
        )
    return page(
        request,
        "products/form.html",
        context,
        status,
        headers={"Content-Security-Policy": PRODUCT_PAGE_CSP},
    )


def _kind_from_query(request) -> str:
    kind = request.GET.get("kind")
    return kind if kind in ProductKind.values else ProductKind.ONETIME


@store_page
@require_http_methods(["GET", "POST"])
def product_new(request, store):
    can_manage = _can_manage(store)
    if request.method == "GET":
        form = forms.ProductForm(initial={"kind": _kind_from_query(request)})
        if not can_manage:
            form.make_read_only()
        return _form_page(request, store, form)
    form = forms.ProductForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            upload = form.cleaned_data.get("image_file")
            uploaded = _save_upload(request, store, upload) if upload and can_manage else None
            if uploaded:
                form.use_uploaded_url(uploaded)
            product = services.product_create(
                actor=_actor(request),
                store_id=store.pk,
                kind=form.cleaned_data["kind"],
                **form.service_kwargs(uploaded),
            )
        except PancakeError as exc:
            status = exc.status
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Created “%(name)s”. It is on sale in Test; publish it to sell in Live.")
                % {"name": product.test_version.name},
            )
            return redirect(reverse("products:list", args=[store.pk]) + f"?new={product.pk}")
    if not can_manage:
        form.make_read_only()
    return _form_page(request, store, form, status=status)


@store_page
@require_http_methods(["GET", "POST"])
def product_edit(request, store, product_id):
    product = _product_or_404(request, store, product_id)
    can_manage = _can_manage(store)
    version = product.test_version  # edits start from the newest version, which test shows
    if request.method == "GET":
        form = forms.ProductForm(kind=product.kind, version=version)
        if not can_manage:
            form.make_read_only()
        return _form_page(request, store, form, product=product)
    form = forms.ProductForm(request.POST, request.FILES, kind=product.kind, version=version)
    status = 400
    if form.is_valid():
        try:
            upload = form.cleaned_data.get("image_file")
            uploaded = _save_upload(request, store, upload) if upload and can_manage else None
            if uploaded:
                form.use_uploaded_url(uploaded)
            product, changed = services.product_update(
                actor=_actor(request),
                product_id=product.pk,
                kind=product.kind,
                **form.service_kwargs(uploaded),
            )
        except PancakeError as exc:
            status = exc.status
            form.add_service_error(exc)
        else:
            if changed:
                messages.success(
                    request,
                    _("Saved as version %(number)s.") % {"number": product.test_version.number},
                )
            else:
                messages.info(request, _("No changes — no new version created."))
            return redirect("products:edit", store_id=store.pk, product_id=product.pk)
    if not can_manage:
        form.make_read_only()
    return _form_page(request, store, form, product=product, status=status)


@store_page
@require_POST
def markdown_preview(request, store):
    """The description as the purchase page will show it: rendered and sanitised by nh3."""
    text = forms._text(request.POST.get("text", ""))
    if len(text) > DESCRIPTION_MAX:
        return HttpResponse(
            _("The description is too long to preview."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(markdown.render(text), content_type="text/html; charset=utf-8")
    # A fragment for the page's script; opened on its own it runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src https: http: data:; sandbox"
    response["Cache-Control"] = "no-store"
    return response


# --- groups ------------------------------------------------------------------------------------


def _product_name(product, environment: str) -> str:
    return (product.version_for(environment) or product.test_version).name


def _subscription_products(store, environment: str) -> list:
    products = selectors.product_list(
        store=store, environment=environment, kind=ProductKind.SUBSCRIPTION
    )
    return list(products.order_by("created_at"))


def _group_page(request, store, *, status: int = 200, error: str = ""):
    environment = current_environment(request)
    names = {
        p.pk: _product_name(p, environment) for p in _subscription_products(store, environment)
    }
    groups = [
        {"group": group, "members": [names.get(pid, "?") for pid in group.product_ids]}
        for group in selectors.group_list(store=store, environment=environment)
    ]
    context = _store_context(request, store, "groups", groups=groups, error=error)
    return page(request, "products/groups.html", context, status)


@store_page
@require_http_methods(["GET"])
def group_list(request, store):
    return _group_page(request, store)


def _group_or_redirect(request, store, group_id):
    """The group, or None when it belongs to the other environment (after the header's
    Test/Live switch); another store's or an unknown group is a 404."""
    try:
        group = selectors.access_group(_actor(request), group_id)
    except PancakeError:
        raise Http404("Product group not found") from None
    if group.store_id != store.pk:
        raise Http404("Product group not found")
    return group if group.environment == current_environment(request) else None


def _group_form_page(request, store, form, *, group=None, status: int = 200):
    context = _store_context(request, store, "groups", form=form, group=group)
    return page(request, "products/group_form.html", context, status)


def _product_choices(store, environment: str) -> list[tuple]:
    return [
        (p.pk, _product_name(p, environment)) for p in _subscription_products(store, environment)
    ]


def _group_form_view(request, store, *, group, save, message):
    """Create or edit a group: ``save(form)`` calls the service; a refusal stays on the form
    with the service's status, success returns to the list."""
    choices = _product_choices(store, current_environment(request))
    form = forms.GroupForm(request.POST or None, products=choices, group=group)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = save(form)
            except PancakeError as exc:
                status = exc.status
                form.add_service_error(exc)
            else:
                messages.success(request, message % {"name": saved.name})
                return redirect("products:groups", store_id=store.pk)
    if not _can_manage(store):
        form.make_read_only()
    return _group_form_page(request, store, form, group=group, status=status)


@store_page
@require_http_methods(["GET", "POST"])
def group_new(request, store):
    return _group_form_view(
        request,
        store,
        group=None,
        save=lambda form: services.group_create(
            actor=_actor(request), store_id=store.pk, **form.service_kwargs()
        ),
        message=_("Created the group “%(name)s”."),
    )


@store_page
@require_http_methods(["GET", "POST"])
def group_edit(request, store, group_id):
    group = _group_or_redirect(request, store, group_id)
    if group is None:
        return redirect("products:groups", store_id=store.pk)
    return _group_form_view(
        request,
        store,
        group=group,
        save=lambda form: services.group_update(
            actor=_actor(request), group_id=group.pk, **form.service_kwargs()
        ),
        message=_("Saved the group “%(name)s”."),
    )


@store_page
@require_http_methods(["GET", "POST"])
def group_delete(request, store, group_id):
    group = _group_or_redirect(request, store, group_id)
    if group is None:
        return redirect("products:groups", store_id=store.pk)
    if request.method == "GET":
        if not _can_manage(store):  # members get no delete button, not even here
            return redirect("products:groups", store_id=store.pk)
        context = _store_context(
            request,
            store,
            "groups",
            title=_("Delete this group?"),
            message=_(
                "“%(name)s” will be deleted for good. Its plans stay as they are; subscribers "
                "can no longer switch between them through this group."
            )
            % {"name": group.name},
            button=_("Delete group"),
            cancel_url=reverse("products:groups", args=[store.pk]),
        )
        return page(request, "dashboard/confirm.html", context)
    try:
        services.group_delete(actor=_actor(request), group_id=group.pk)
    except PancakeError as exc:
        return _group_page(request, store, status=exc.status, error=str(exc))
    messages.success(request, _("Deleted the group “%(name)s”.") % {"name": group.name})
    return redirect("products:groups", store_id=store.pk)


@store_page
@require_POST
def group_publish(request, store, group_id):
    group = _group_or_redirect(request, store, group_id)
    if group is None:
        return redirect("products:groups", store_id=store.pk)
    try:
        services.group_publish(actor=_actor(request), group_id=group.pk)
    except PancakeError as exc:
        return _group_page(request, store, status=exc.status, error=str(exc))
    messages.success(request, _("Published the group “%(name)s” to Live.") % {"name": group.name})
    _warn_if_buyers_cannot_pay(request)
    return redirect("products:groups", store_id=store.pk)


# --- the permanent purchase link -----------------------------------------------------------------


def _append_slash_target(request) -> str | None:
    """What CommonMiddleware's APPEND_SLASH would do, had this catch-all not matched:
    ``/admin/login`` → ``/admin/login/`` when that is another page."""
    try:
        match = resolve(request.path_info + "/")
    except Resolver404:
        return None
    if match.func is purchase_link_slash:
        return None
    return request.get_full_path(force_append_slash=True)


def _unavailable(request, context=None, status=404, headers=None):
    """The buyer-facing "not available" page, in the buyer's checkout language."""
    with translation.override(languages.to_django(languages.from_request(request))):
        return page(
            request, "products/unavailable.html", context or {}, status=status, headers=headers
        )


@require_http_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def purchase_link(request, store_slug, product_slug):
    """``/{store-slug}/{product-slug}``: opens a fresh checkout session for the product's version
    in prod (in test with ``?env=test``) and redirects to it; the currency is the buyer's
    locale's when the product is priced in it. Anything not purchasable is a friendly 404. HEAD
    (link checkers, previews) answers without opening a session."""
    target = _append_slash_target(request)
    if target:
        return HttpResponsePermanentRedirect(target)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    environment = Environment.TEST if request.GET.get("env") == "test" else Environment.PROD
    product = selectors.purchasable_product(
        store_slug=store_slug, product_slug=product_slug, environment=environment
    )
    if product is None:
        return _unavailable(request)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    if environment == Environment.PROD and not live_payments_available():
        # No live provider: say so now rather than open a checkout that cannot be paid.
        return _unavailable(request, {"cannot_pay": True}, status=503, headers=headers)
    if request.method == "HEAD":
        return HttpResponse(status=200, headers=headers)
    try:
        rate, burst = bucket_of(settings.API_PUBLIC_RATE_LIMIT)
        hit(f"link:{client_ip(request)}", rate, burst)
        session = session_open_from_link(
            product=product,
            environment=environment,
            accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
    except PancakeError as exc:
        busy = exc.status == 429
        context = {"busy": busy}
        headers.update(getattr(exc, "headers", None) or {})
        return _unavailable(request, context, status=exc.status, headers=headers)
    return HttpResponseRedirect(checkout_url(session), headers=headers)


def purchase_link_slash(request, store_slug, product_slug):
    """``/{store-slug}/{product-slug}/`` → the link without the slash, query string kept."""
    target = reverse("purchase:link", args=[store_slug, product_slug])
    query = request.META.get("QUERY_STRING", "")
    return redirect(target + (f"?{query}" if query else ""))
