"""The billing app's pages: in the ``billing`` namespace, the payment providers' notification
endpoint and the test processor's hosted pages (the card page and its 3-D Secure step); in
``dashboard_patterns``, which ``pancake/urls.py`` mounts in the ``dashboard`` namespace, a
store's payments, refund tickets and subscription pages and the webhook pages under its
Developers section."""

from django.urls import path

from billing.views import (
    customers,
    finance,
    home,
    invoices,
    payments,
    providers,
    subscriptions,
    test_processor,
    webhooks,
)

app_name = "billing"

store = "dashboard/<uuid:store_id>/"
subscription = store + "subscriptions/<uuid:order_id>/"
payment = store + "payments/<uuid:payment_id>/"
ticket = store + "refund-tickets/<uuid:ticket_id>/"

urlpatterns = [
    path("providers/stripe/webhook", providers.stripe_webhook, name="stripe-webhook"),
    path(
        "providers/<str:environment>/notifications",
        providers.notification,
        name="provider-notification",
    ),
    # The buyer's signed download link (billing.invoices.links).
    path("invoices/<str:token>/pdf", invoices.invoice_download, name="invoice-download"),
    path(
        "test-processor/pay/<str:provider_payment_id>/",
        test_processor.pay,
        name="test-processor-pay",
    ),
    path(
        "test-processor/3ds/<str:provider_payment_id>/",
        test_processor.three_ds,
        name="test-processor-3ds",
    ),
]

dashboard_patterns = [
    path(store, home.store_home, name="store"),
    path(store + "checklist/dismiss/", home.checklist_dismiss, name="checklist-dismiss"),
    path(store + "analytics/", home.analytics, name="analytics"),
    path(store + "analytics/export.<str:fmt>", home.analytics_export, name="analytics-export"),
    path(store + "welcome/product/", home.first_product, name="first-product"),
    path(
        store + "welcome/product/<uuid:product_id>/",
        home.first_product_done,
        name="first-product-done",
    ),
    path(store + "payments/", payments.payment_list, name="payments"),
    path(store + "payments/export.csv", payments.payment_export, name="payments-export"),
    path(payment, payments.payment_detail, name="payment"),
    path(payment + "refund/", payments.payment_refund, name="payment-refund"),
    path(store + "refund-tickets/", payments.ticket_list, name="refund-tickets"),
    path(ticket, payments.ticket_detail, name="refund-ticket"),
    path(ticket + "approve/", payments.ticket_approve, name="refund-ticket-approve"),
    path(ticket + "reject/", payments.ticket_reject, name="refund-ticket-reject"),
    path(store + "invoices/<uuid:invoice_id>/pdf", invoices.invoice_pdf, name="invoice-pdf"),
    path(store + "customers/", customers.customer_list, name="customers"),
    path(store + "customers/export.csv", customers.customer_export, name="customers-export"),
    path(store + "customers/<uuid:order_id>/", customers.customer_detail, name="customer"),
    path(store + "finance/", finance.finance, name="finance"),
    path(store + "finance/income.csv", finance.finance_export, name="finance-export"),
    path(store + "finance/payout/email/", finance.payout_email, name="finance-payout-email"),
    path(store + "finance/payout/code/", finance.payout_code, name="finance-payout-code"),
    path(store + "finance/payout/account/", finance.payout_account, name="finance-payout-account"),
    path(store + "subscriptions/", subscriptions.subscription_list, name="subscriptions"),
    path(subscription, subscriptions.subscription_detail, name="subscription"),
    path(subscription + "cancel/", subscriptions.subscription_cancel, name="subscription-cancel"),
    path(
        subscription + "cancel-now/",
        subscriptions.subscription_cancel_now,
        name="subscription-cancel-now",
    ),
    path(subscription + "pause/", subscriptions.subscription_pause, name="subscription-pause"),
    path(subscription + "resume/", subscriptions.subscription_resume, name="subscription-resume"),
    path(
        subscription + "reactivate/",
        subscriptions.subscription_reactivate,
        name="subscription-reactivate",
    ),
    path(
        subscription + "clock/",
        subscriptions.subscription_advance_clock,
        name="subscription-advance-clock",
    ),
    path(store + "developers/webhooks/", webhooks.webhooks, name="webhooks"),
    path(
        store + "developers/webhooks/public-key.pem",
        webhooks.webhook_public_key,
        name="webhook-public-key",
    ),
    path(store + "developers/webhooks/deliveries/", webhooks.webhook_log, name="webhook-log"),
    path(
        store + "developers/webhooks/deliveries/<uuid:delivery_id>/",
        webhooks.webhook_delivery,
        name="webhook-delivery",
    ),
    path(
        store + "developers/webhooks/deliveries/<uuid:delivery_id>/resend/",
        webhooks.webhook_resend,
        name="webhook-resend",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/",
        webhooks.webhook_edit,
        name="webhook-edit",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/enabled/",
        webhooks.webhook_enabled,
        name="webhook-enabled",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/remove/",
        webhooks.webhook_remove,
        name="webhook-remove",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/test/",
        webhooks.webhook_send_test,
        name="webhook-send-test",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/deliveries/",
        webhooks.webhook_deliveries,
        name="webhook-deliveries",
    ),
]
