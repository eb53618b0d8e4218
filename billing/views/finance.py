"""The dashboard's Finance page (docs/dashboard-customers-finance.md): the balance per currency,
the income list (keyset pages, CSV export), the payout setup's three steps and the payouts
support staff recorded. Owners and admins change the payout setup (``stores.payouts``);
members see it without the forms, and the services refuse their forced POSTs (403)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing import forms
from billing.finance import selectors
from billing.payments import fees
from pancake import money
from pancake.api.errors import PancakeError
from stores import payouts
from stores.context_processors import current_environment
from stores.dashboard import (
    dashboard_actor,
    page,
    redirect_to,
    show_error,
    store_context,
    store_page,
)

NAV = "finance"
STEP_LABELS = {
    payouts.NOT_STARTED: gettext_lazy("Not started"),
    payouts.PENDING: gettext_lazy("Pending"),
    payouts.VERIFIED: gettext_lazy("Verified"),
}
# The services' refusals in the page's words, by code.
REFUSALS = {
    "forbidden": gettext_lazy("Only owners and admins can change the payout setup."),
    "rate_limited": gettext_lazy("A code was sent a moment ago. Wait a minute and ask again."),
    "invalid_email": gettext_lazy("Enter a valid email address."),
    "wrong_code": gettext_lazy("That code is not right. Check the email and try again."),
    "code_expired": gettext_lazy("The code has expired. Send a new one."),
    "too_many_attempts": gettext_lazy("Too many wrong codes. Send a new one."),
    "invalid_iban": gettext_lazy("This IBAN is not valid."),
    "iban_country": gettext_lazy("The IBAN is not of the bank's country."),
    "invalid_account": gettext_lazy("Enter an IBAN, or an account number of 4 to 17 digits."),
    "invalid": gettext_lazy("Check this value."),
}


def _refusal(exc: PancakeError) -> PancakeError:
    """``exc`` with the page's message (same field and code)."""
    text = REFUSALS.get(exc.code)
    if text is None:
        return exc
    out = PancakeError(str(text), field=exc.field, code=exc.code)
    out.status = exc.status
    return out


def _finance_page(request, store, *, status=200, **forms_in):
    environment = current_environment(request)
    setup = payouts.setup_of(store)
    steps = payouts.steps(store, setup)
    rows, next_cursor = selectors.income_page(
        store=store, environment=environment, after=request.GET.get("after", "")
    )
    income = [{"p": r, "fee": fees.breakdown(**_breakdown_args(r))} for r in rows]
    context = store_context(
        request,
        store,
        NAV,
        balances=selectors.balance(store=store, environment=environment),
        hold_days=selectors.hold_days(),
        setup=setup,
        steps=[
            ("business", _("Business details"), steps.business, STEP_LABELS[steps.business]),
            ("email", _("Contact email"), steps.email, STEP_LABELS[steps.email]),
            ("account", _("Payout account"), steps.account, STEP_LABELS[steps.account]),
        ],
        email_form=forms_in.get("email_form")
        or forms.PayoutEmailForm(initial={"email": setup.contact_email}),
        code_form=forms_in.get("code_form") or forms.PayoutCodeForm(),
        account_form=forms_in.get("account_form") or forms.PayoutAccountForm(),
        income=income,
        next_query=f"?after={next_cursor}" if next_cursor else "",
        first_query="?" if request.GET.get("after") else "",
        payouts=selectors.payouts(store=store, environment=environment),
        export_url=reverse("dashboard:finance-export", args=[store.pk]),
    )
    return page(request, "dashboard/finance.html", context, status=status)


def _breakdown_args(row: dict) -> dict:
    return {
        "amount": row["amount"],
        "tax_amount": row["tax_amount"],
        "currency": row["currency"],
        "status": row["status"],
        "refunded_amount": row["refunded_amount"],
        "fee_amount": row["fee_amount"],
    }


@store_page
@require_http_methods(["GET"])
def finance(request, store):
    return _finance_page(request, store)


def _payout_step(request, store, form, form_key: str, call, done: str, fragment: str):
    """One payout setup step: a valid form calls the payouts service (``call(actor, data)``);
    its refusal is shown beside the form, success is confirmed at the step's anchor."""
    if not form.is_valid():
        return _finance_page(request, store, status=400, **{form_key: form})
    try:
        call(dashboard_actor(request), form.cleaned_data)
    except PancakeError as exc:
        status = show_error(form, _refusal(exc))
        return _finance_page(request, store, status=status, **{form_key: form})
    messages.success(request, done)
    return redirect_to("dashboard:finance", store.pk, fragment=fragment)


@store_page
@require_POST
def payout_email(request, store):
    return _payout_step(
        request,
        store,
        forms.PayoutEmailForm(request.POST),
        "email_form",
        lambda actor, data: payouts.email_code_send(
            actor=actor, store_id=store.pk, email=data["email"]
        ),
        _("We sent a 6-digit code to that email."),
        "payout-email",
    )


@store_page
@require_POST
def payout_code(request, store):
    return _payout_step(
        request,
        store,
        forms.PayoutCodeForm(request.POST),
        "code_form",
        lambda actor, data: payouts.email_code_verify(
            actor=actor, store_id=store.pk, code=data["code"]
        ),
        _("The contact email is verified."),
        "payout-email",
    )


@store_page
@require_POST
def payout_account(request, store):
    return _payout_step(
        request,
        store,
        forms.PayoutAccountForm(request.POST),
        "account_form",
        lambda actor, data: payouts.account_set(
            actor=actor,
            store_id=store.pk,
            holder=data["holder"],
            bank_country=data["bank_country"],
            number=data["account_number"],
        ),
        _("The payout account is saved. The owners were told by email."),
        "payout-account",
    )


EXPORT_HEADER = (
    "payment_id",
    "created_at",
    "paid_at",
    "status",
    "currency",
    "gross",
    "tax",
    "refunded",
    "fee",
    "net",
    "customer_email",
)


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _csv_text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_lines(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    display = money.to_display
    for n, row in enumerate(rows, 1):
        c = row["currency"]
        b = fees.breakdown(**_breakdown_args(row))
        writer.writerow(
            (
                row["id"],
                _iso(row["created_at"]),
                _iso(row["paid_at"]),
                row["status"],
                c,
                display(b.amount, c),
                display(b.tax - b.refunded_tax, c),
                display(b.refunded, c),
                display(b.fee, c),
                display(b.net, c),
                _csv_text(row["order__buyer_email"]),
            )
        )
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@store_page
@require_http_methods(["GET"])
def finance_export(request, store):
    environment = current_environment(request)
    rows = selectors.income_export_rows(store=store, environment=environment)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(export_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="income-{store.slug}-{environment}-{stamp}.csv"'
    )
    return response
