from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("store/<slug:store_slug>/checkout/<uuid:session_id>", views.session_page, name="page"),
    path(
        "store/<slug:store_slug>/checkout/<uuid:session_id>/summary",
        views.summary,
        name="summary",
    ),
    path("store/<slug:store_slug>/change/<uuid:session_id>", views.change_page, name="change"),
    path(
        "store/<slug:store_slug>/checkout/<uuid:session_id>/buyer",
        views.bind_buyer,
        name="bind-buyer",
    ),
    # Step 2 with Stripe: Stripe.js's card element for the attempt's intent (docs/stripe.md).
    path("checkout/stripe/<uuid:attempt_id>/", views.stripe_pay, name="stripe-pay"),
    path(
        "checkout/stripe/<uuid:attempt_id>/confirm",
        views.stripe_confirm,
        name="stripe-confirm",
    ),
]
