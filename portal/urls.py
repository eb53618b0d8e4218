from django.urls import path

from portal.views import pages, signin

app_name = "portal"

P = "store/<slug:store_slug>/portal/"

urlpatterns = [
    path(P, signin.home, name="home"),
    path(P + "sign-in", signin.sign_in, name="sign-in"),
    path(P + "sign-in/<str:token>", signin.sign_in_link, name="sign-in-link"),
    path(P + "sign-out", signin.sign_out, name="sign-out"),
    path(P + "orders", pages.orders, name="orders"),
    path(P + "orders/<uuid:order_id>", pages.order_detail, name="order"),
    path(P + "orders/<uuid:order_id>/cancel", pages.order_cancel, name="order-cancel"),
    path(P + "payments/<uuid:payment_id>/refund", pages.refund_request, name="refund"),
    path(P + "tickets/<uuid:ticket_id>/resubmit", pages.ticket_resubmit, name="resubmit"),
    path(P + "invoices", pages.invoices, name="invoices"),
    path(P + "invoices/<uuid:invoice_id>/pdf", pages.invoice_pdf, name="invoice-pdf"),
    path(P + "subscriptions", pages.subscriptions, name="subscriptions"),
    path(
        P + "subscriptions/<uuid:order_id>/cancel",
        pages.subscription_cancel,
        name="subscription-cancel",
    ),
    path(
        P + "subscriptions/<uuid:order_id>/billing",
        pages.billing_details,
        name="subscription-billing",
    ),
    path(
        P + "subscriptions/<uuid:order_id>/change",
        pages.plan_change,
        name="subscription-change",
    ),
    path(
        P + "subscriptions/<uuid:order_id>/card",
        pages.replace_card,
        name="subscription-card",
    ),
    path(
        P + "subscriptions/<uuid:order_id>/reactivate",
        pages.subscription_reactivate,
        name="subscription-reactivate",
    ),
]
