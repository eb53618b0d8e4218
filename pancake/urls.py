from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from billing import urls as billing_urls
from pancake import views
from pancake.api import envelope
from pancake.api.registry import urlpatterns as action_urlpatterns
from pancake.graphql import views as graphql_views
from portal import dashboard_urls as portal_dashboard_urls
from products.urls import purchase_patterns
from stores import urls as stores_urls


@csrf_exempt  # /v1/ authenticates by signature: an unknown path is a 404, never a CSRF 403
def api_not_found(request, rest=""):
    return envelope.generic_error_response(
        404, f"Unknown endpoint: {request.method} {request.path_info}"
    )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


legal_patterns = (
    [
        path("terms", views.legal, {"name": "terms"}, name="terms"),
        path("privacy", views.legal, {"name": "privacy"}, name="privacy"),
    ],
    "legal",
)

# One ``dashboard`` namespace, each app contributing its pages (URL names such as
# ``dashboard:webhooks`` do not say which app serves them).
dashboard_patterns = (
    stores_urls.dashboard_patterns
    + billing_urls.dashboard_patterns
    + portal_dashboard_urls.dashboard_patterns,
    "dashboard",
)

to_sign_in = RedirectView.as_view(pattern_name="dashboard:login", query_string=True)

urlpatterns = [
    *action_urlpatterns(),
    path("v1/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("v1/graphql", graphql_views.graphql_view, name="graphql"),
    re_path(r"^v1(?:/(?P<rest>.*))?$", api_not_found),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="openapi"), name="api-redoc"),
    path("healthz", healthz, name="healthz"),
    path("legal/", include(legal_patterns)),
    path("admin/", admin.site.urls),
    # Merchants sign in by magic link or a social provider: no allauth password forms.
    path("accounts/login/", to_sign_in),
    path("accounts/signup/", to_sign_in),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("products.urls")),
    path("", include("checkout.urls")),
    path("", include("billing.urls")),
    path("", include("portal.urls")),
    path("", include(dashboard_patterns)),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Last of all: /<store-slug>/<product-slug>, the permanent purchase link, matches any two path
# segments, so every specific route above (and the media files) must win over it.
urlpatterns += [path("", include(purchase_patterns))]
