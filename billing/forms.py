"""Dashboard forms of the billing pages (webhook endpoints and their delivery log). They parse
and validate page input; ``billing.webhooks`` services decide the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import WebhookChannel, WebhookDelivery
from billing.webhooks.payload import EVENT_TYPES
from pancake.api.versions import LATEST, ApiVersion
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
