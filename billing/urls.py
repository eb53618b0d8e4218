"""The test processor's hosted pages (SPEC 6.4): the card page and its 3-D Secure step."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path(
        "test-processor/pay/<str:provider_payment_id>/",
        views.pay,
        name="test-processor-pay",
    ),
    path(
        "test-processor/3ds/<str:provider_payment_id>/",
        views.three_ds,
        name="test-processor-3ds",
    ),
]
