"""Dashboard forms of the billing pages (webhook endpoints and their delivery log, subscriptions).
They parse and validate page input; ``billing.webhooks`` and ``billing.subscriptions`` services
decide the rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import WebhookChannel, WebhookDelivery
from billing.subscriptions.selectors import LISTED_STATUSES, SubscriptionFilters
from billing.webhooks.payload import EVENT_TYPES
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
        help_text=_("Where we POST the events. Production endpoints need https."),
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
