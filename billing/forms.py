"""Dashboard forms of the billing pages (webhook endpoints and their delivery log, subscriptions,
payments and refund tickets). They parse and validate page input; the ``billing.webhooks``,
``billing.subscriptions`` and ``billing.refunds`` services decide the rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.customers.selectors import CustomerFilters
from billing.customers.selectors import Status as CustomerStatus
from billing.models import RefundTicketStatus, WebhookChannel, WebhookDelivery
from billing.payments.selectors import LISTED_STATUSES as PAYMENT_STATUSES
from billing.payments.selectors import PaymentFilters, TicketFilters
from billing.subscriptions.selectors import LISTED_STATUSES, SubscriptionFilters
from billing.webhooks.payload import EVENT_TYPES
from pancake import money
from pancake.api.errors import InvalidInput
from pancake.api.versions import LATEST, ApiVersion
from products.models import BillingPeriod
from stores.forms import Form


def event_choices() -> list[tuple[str, str]]:
    """Every webhook event type, as choices."""
    return [(event, event) for event in EVENT_TYPES]


class WebhookEndpointForm(Form):
    """Add or edit a webhook endpoint; ``billing.webhooks.endpoints`` decides what is allowed
    (URL safety, the 20-endpoint limit, roles) and its refusals are shown beside the field.
    Editing cannot change the channel (nor the environment)."""

    service_fields = {
        "channel": "channel",
        "url": "url",
        "events": "events",
        "apiVersion": "api_version",
        "secret": "secret",
    }

    channel = forms.ChoiceField(label=_("Channel"), initial="http")
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=2000,
        help_text=_("Where we POST the events. Live endpoints need https."),
        widget=forms.URLInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "https://"}
        ),
    )
    all_events = forms.BooleanField(
        label=_("All events"),
        required=False,
        initial=True,
        help_text=_("Includes event types added later."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only the checked event types are sent to this endpoint."),
    )
    api_version = forms.ChoiceField(
        label=_("API version"),
        choices=ApiVersion.choices,
        initial=LATEST,
        help_text=_("How ids and amounts appear in the payload."),
    )
    secret = forms.CharField(
        label=_("Secret (optional)"),
        required=False,
        max_length=200,
        help_text=_("For the chat channels that sign their incoming webhooks (Feishu)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, endpoint=None, **kwargs):
        self.endpoint = endpoint
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "channel": endpoint.channel,
                "url": endpoint.url,
                "all_events": not endpoint.events,
                "events": list(endpoint.events or []),
                "api_version": endpoint.api_version,
                "secret": endpoint.secret or "",
            }
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = WebhookChannel.choices
        self.fields["events"].choices = event_choices()
        if endpoint is not None:
            self.fields["channel"].disabled = True
            self.fields["channel"].help_text = _("The channel of an endpoint cannot change.")
            self.fields["secret"].help_text = _("Leave it empty to remove the secret.")

    def clean(self):
        data = super().clean()
        if not data.get("all_events") and not data.get("events") and "events" not in self.errors:
            self.add_error("events", _("Choose at least one event, or “All events”."))
        return data

    def service_events(self) -> list[str]:
        """The service's events: an empty list means every event."""
        return [] if self.cleaned_data["all_events"] else list(self.cleaned_data["events"])


class WebhookLogFilterForm(Form):
    """The store-wide delivery log's filters (GET)."""

    event_type = forms.ChoiceField(label=_("Event type"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = [("", _("All event types"))] + (event_choices())
        self.fields["status"].choices = [("", _("All statuses"))] + list(
            WebhookDelivery.Status.choices
        )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


# --- subscriptions -------------------------------------------------------------------------------


class SubscriptionFilterForm(Form):
    """The subscription list's filters (GET, so a filtered list can be bookmarked). An invalid
    value is shown beside its filter and ignored; the other filters still apply."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    interval = forms.ChoiceField(label=_("Interval"), required=False)
    email = forms.CharField(
        label=_("Customer email"),
        required=False,
        max_length=254,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, products=(), **kwargs):
        """``products``: (id, name) of the store's subscription products."""
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses"))] + [
            (status.value, status.label) for status in LISTED_STATUSES
        ]
        self.fields["product"].choices = [("", _("All products"))] + [
            (str(pk), name) for pk, name in products
        ]
        self.fields["interval"].choices = [("", _("All intervals"))] + list(BillingPeriod.choices)

    def filters(self) -> SubscriptionFilters:
        if not self.is_bound:
            return SubscriptionFilters()
        self.is_valid()
        data = self.cleaned_data
        product = data.get("product")
        return SubscriptionFilters(
            status=data.get("status") or "",
            product_id=uuid.UUID(product) if product else None,
            interval=data.get("interval") or "",
            email=(data.get("email") or "").strip().lower(),
        )


class SubscriptionActionForm(Form):
    """A button's form (cancel, pause, resume …): no inputs; the service's refusal shows above
    the button."""


# What a datetime-local input sends: minutes, or seconds when the value had them.
DATETIME_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class AdvanceClockForm(Form):
    """Move a test-mode subscription's clock forward to a moment given in UTC (whatever the
    browser's or the server's time zone); the test clock decides what is allowed."""

    service_fields = {"advanceTo": "advance_to"}

    advance_to = forms.CharField(
        label=_("Advance the clock to (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        help_text=_("Renewals, retries, trial ends and period ends due until then run now."),
    )

    def clean_advance_to(self) -> datetime:
        value = self.cleaned_data["advance_to"].strip()
        for fmt in DATETIME_LOCAL_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise forms.ValidationError(_("Enter a date and time."), code="invalid")


# --- payments and refund tickets -----------------------------------------------------------------


def _search_input(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=254,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class PaymentFilterForm(Form):
    """The payments list's filters (GET: a filtered list can be bookmarked and exported). An
    invalid value is shown beside its filter and ignored; the other filters still apply. The
    amount range is in major units of the chosen currency (the store's default currency when
    none is chosen, which then filters by it too)."""

    q = _search_input(_("Search"))
    status = forms.ChoiceField(label=_("Status"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    email = _search_input(_("Customer email"))
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    amount_min = forms.CharField(
        label=_("Amount from"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    amount_max = forms.CharField(
        label=_("Amount to"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, products=(), currencies=(), default_currency="USD", **kwargs):
        """``products``: (id, name) of the store's products; ``currencies``: the codes offered."""
        super().__init__(*args, **kwargs)
        self.default_currency = default_currency
        self.fields["q"].help_text = _("A payment or order ID, your order ID, or an email.")
        self.fields["status"].choices = [("", _("All statuses"))] + [
            (status.value, status.label) for status in PAYMENT_STATUSES
        ]
        self.fields["product"].choices = [("", _("All products"))] + [
            (str(pk), name) for pk, name in products
        ]
        self.fields["currency"].choices = [("", _("All currencies"))] + [(c, c) for c in currencies]

    def _amount(self, name: str, currency: str) -> int | None:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        try:
            return money.to_minor(value, currency, field=name)
        except InvalidInput:
            self.add_error(name, _("Enter an amount like 29.00."))
            return None

    def filters(self) -> PaymentFilters:
        if not self.is_bound:
            return PaymentFilters()
        self.is_valid()
        data = self.cleaned_data
        product = data.get("product")
        currency = data.get("currency") or ""
        amounts = [data.get("amount_min"), data.get("amount_max")]
        if any((a or "").strip() for a in amounts) and not currency:
            currency = self.default_currency
        amount_min = self._amount("amount_min", currency) if currency else None
        amount_max = self._amount("amount_max", currency) if currency else None
        return PaymentFilters(
            status=data.get("status") or "",
            product_id=uuid.UUID(product) if product else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            email=(data.get("email") or "").strip().lower(),
            currency=currency,
            amount_min=amount_min,
            amount_max=amount_max,
            q=(data.get("q") or "").strip(),
        )


class RefundTicketFilterForm(Form):
    """The refund tickets list's filters (GET)."""

    q = _search_input(_("Search"))
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _(
            "A ticket, payment or order ID, your ticket ID, an email or words of the reason."
        )
        self.fields["status"].choices = [("", _("All statuses"))] + list(RefundTicketStatus.choices)

    def filters(self) -> TicketFilters:
        if not self.is_bound:
            return TicketFilters()
        self.is_valid()
        data = self.cleaned_data
        return TicketFilters(status=data.get("status") or "", q=(data.get("q") or "").strip())


class _AmountForm(Form):
    """A form with an optional amount in the payment's major unit (``currency``), parsed with
    ``pancake.money.to_minor`` into ``cleaned_data[amount_name]`` as minor units."""

    amount_name = "amount"

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def _clean_amount(self) -> int | None:
        value = (self.cleaned_data.get(self.amount_name) or "").strip()
        if not value:
            return None
        try:
            minor = money.to_minor(value, self.currency, field=self.amount_name)
        except InvalidInput:
            places = money.exponent(self.currency)
            example = money.to_display(2900 * 10**places // 100, self.currency)
            raise forms.ValidationError(
                _("Enter an amount in %(currency)s like %(example)s.")
                % {"currency": self.currency, "example": example},
                code="invalid",
            ) from None
        if minor <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."), code="invalid")
        return minor


class PaymentRefundForm(_AmountForm):
    """The merchant's refund of a payment: everything that is left, or a part of it; the reason;
    for a subscription's payment, whether to end the subscription now too."""

    service_fields = {
        "amount": "amount",
        "reason": "reason",
        "cancelSubscription": "cancel_subscription",
    }

    amount = forms.CharField(
        label=_("Amount to refund"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    cancel_subscription = forms.BooleanField(
        label=_("Also cancel the subscription now"), required=False
    )

    def __init__(self, *args, subscription: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not subscription:
            del self.fields["cancel_subscription"]

    def clean_amount(self) -> int | None:
        return self._clean_amount()


class TicketApproveForm(_AmountForm):
    """Approve a refund ticket for what it asks, or a smaller amount, with a note."""

    amount_name = "approved_amount"
    service_fields = {"approvedAmount": "approved_amount", "note": "note"}

    approved_amount = forms.CharField(
        label=_("Amount to refund"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_approved_amount(self) -> int | None:
        return self._clean_amount()


class TicketRejectForm(Form):
    """Reject a refund ticket with a note the buyer sees."""

    service_fields = {"reason": "reason"}

    reason = forms.CharField(
        label=_("Why it is rejected"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The customer sees this and may resubmit the ticket."),
    )


# --- customers -----------------------------------------------------------------------------------


CUSTOMER_STATUS_LABELS = {
    CustomerStatus.PAST_DUE: _("Past due"),
    CustomerStatus.ACTIVE: _("Active subscriber"),
    CustomerStatus.TRIALING: _("Trialing"),
    CustomerStatus.CHURNED: _("Churned"),
    CustomerStatus.ONE_TIME: _("One-time buyer"),
    CustomerStatus.REFUNDED: _("Refunded"),
    CustomerStatus.NO_PAYMENT: _("No payment"),
}


class CustomerFilterForm(Form):
    """The customers list's filters (GET). An invalid value is shown beside its filter and
    ignored; the other filters still apply."""

    q = _search_input(_("Search by email"))
    status = forms.ChoiceField(label=_("Status"), required=False)
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=2,
        min_length=2,
        help_text=_("Two letters, like US or JP."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": "2"}),
    )
    first_from = forms.DateField(
        label=_("First seen from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    first_to = forms.DateField(
        label=_("First seen to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("", _("Newest first seen")), ("oldest", _("Oldest first seen"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses"))] + list(
            CUSTOMER_STATUS_LABELS.items()
        )

    def clean_country(self) -> str:
        value = (self.cleaned_data.get("country") or "").strip().upper()
        if value and not value.isalpha():
            raise forms.ValidationError(_("Enter two letters, like US."), code="invalid")
        return value

    def filters(self) -> CustomerFilters:
        if not self.is_bound:
            return CustomerFilters()
        self.is_valid()
        data = self.cleaned_data
        return CustomerFilters(
            q=(data.get("q") or "").strip().lower(),
            status=data.get("status") or "",
            country=data.get("country") or "",
            first_from=data.get("first_from"),
            first_to=data.get("first_to"),
            oldest_first=data.get("sort") == "oldest",
        )


# --- payout setup ---------------------------------------------------------------------------------


class PayoutEmailForm(Form):
    service_fields = {"email": "email"}

    email = forms.EmailField(label=_("Contact email"), max_length=254)


class PayoutCodeForm(Form):
    service_fields = {"code": "code"}

    code = forms.RegexField(
        label=_("6-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits from the email.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )


class PayoutAccountForm(Form):
    service_fields = {
        "holder": "holder",
        "bankCountry": "bank_country",
        "accountNumber": "account_number",
    }

    holder = forms.CharField(label=_("Account holder"), max_length=200)
    bank_country = forms.CharField(
        label=_("Bank country"),
        min_length=2,
        max_length=2,
        help_text=_("Two letters, like DE or US."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": "2"}),
    )
    account_number = forms.CharField(
        label=_("IBAN or account number"),
        max_length=64,
        help_text=_("Only its last 4 characters are kept."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


# --- Home, Analytics and the first product (billing/views/home.py) -----------------------------

HOME_RANGES = (7, 30, 90)
ANALYTICS_PRESETS = (
    ("7d", _("Last 7 days")),
    ("14d", _("Last 14 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("custom", _("Custom range")),
)
GRANULARITIES = (("day", _("Day")), ("week", _("Week")), ("month", _("Month")))
# The longest custom range the page shows (two years of days).
LONGEST_RANGE_DAYS = 731


class HomeRangeForm(Form):
    """Home's 7/30/90-day switch (anything else: 30 days)."""

    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[(n, n) for n in HOME_RANGES],
        coerce=int,
        required=False,
    )

    def chosen_days(self) -> int:
        if self.is_valid() and self.cleaned_data.get("days"):
            return self.cleaned_data["days"]
        return 30


class AnalyticsForm(Form):
    """The Analytics page's range (a preset or two local dates), granularity and product."""

    preset = forms.ChoiceField(label=_("Period"), choices=ANALYTICS_PRESETS, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
    granularity = forms.ChoiceField(label=_("Group by"), choices=GRANULARITIES, required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)

    def __init__(self, data=None, *, products=(), today=None, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today
        self.fields["product"].choices = [("", _("All products"))] + [
            (str(pk), name) for pk, name in products
        ]

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or "30d"
        data["preset"] = preset
        if preset == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Choose both dates of the custom range."))
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days + 1 > LONGEST_RANGE_DAYS:
                self.add_error("end", _("The range can be at most two years."))
        else:
            days = int(preset.rstrip("d"))
            data["end"] = self.today
            data["start"] = self.today - timedelta(days=days - 1)
        return data


class FirstProductForm(Form):
    """Onboarding's first product: a name, a price, one-time or monthly."""

    service_fields = {"name": "name", "prices": "price"}

    name = forms.CharField(label=_("Product name"), max_length=200)
    price = forms.DecimalField(label=_("Price"), min_value=0, max_digits=12, decimal_places=3)
    currency = forms.ChoiceField(label=_("Currency"))
    billing = forms.ChoiceField(
        label=_("Billing"),
        choices=(("onetime", _("One-time payment")), ("monthly", _("Monthly subscription"))),
        initial="onetime",
        widget=forms.RadioSelect,
    )

    def __init__(self, data=None, *, currencies=(), **kwargs):
        super().__init__(data, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]
        if currencies:
            self.fields["currency"].initial = currencies[0]
