"""The portal's dashboard pages, mounted by ``pancake/urls.py`` in the ``dashboard`` namespace."""

from django.urls import path

from portal.views import dashboard

dashboard_patterns = [
    path(
        "dashboard/<uuid:store_id>/payments/<uuid:payment_id>/portal-link/",
        dashboard.portal_link,
        name="payment-portal-link",
    ),
    path(
        "dashboard/<uuid:store_id>/customers/<uuid:order_id>/portal-link/",
        dashboard.customer_portal_link,
        name="customer-portal-link",
    ),
]
