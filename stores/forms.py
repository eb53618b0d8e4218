"""Dashboard forms. They parse and validate page input; services decide the rules.

Django 5.2 ties help texts and errors to their inputs with ``aria-describedby`` and marks
invalid inputs with ``aria-invalid``; the templates render every field with a visible label.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

import babel
from babel.numbers import get_currency_name
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from pancake.api.versions import LATEST, ApiVersion
from pancake.models import Environment
from stores import branding
from stores.models import MERCHANT_WRITABLE_NOTIFICATION_KEYS, NOTIFICATION_KEYS, Role, StoreStatus

COMMON_CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "CAD",
    "AUD",
    "CHF",
    "CNY",
    "HKD",
    "SGD",
    "INR",
    "KRW",
    "BRL",
    "MXN",
    "SEK",
    "NOK",
    "DKK",
    "NZD",
    "PLN",
)
# Babel's territories include regions and pseudo-locales that are not ISO 3166-1 countries.
NOT_COUNTRIES = {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}

NOTIFICATION_LABELS = {
    "notifyNewOrders": _("New orders"),
    "notifyNewSubscriptions": _("New subscriptions"),
    "notifySubscriptionCanceled": _("Subscription canceled"),
    "notifySubscriptionEnded": _("Subscription ended"),
    "notifySubscriptionPastDue": _("Subscription past due"),
    "notifySubscriptionRenewed": _("Subscription renewed"),
    "notifySubscriptionUncanceled": _("Subscription reactivated"),
    "notifySubscriptionPlanChanged": _("Subscription plan changed"),
    "notifyChargeback": _("Chargebacks"),
    "notifyRefundSucceeded": _("Refund succeeded"),
    "emailUpcomingCharge": _("Email customers before an upcoming renewal charge"),
    "emailTrialEnding": _("Email customers before their trial ends"),
}
WRITABLE_KEYS = tuple(k for k in NOTIFICATION_KEYS if k in MERCHANT_WRITABLE_NOTIFICATION_KEYS)

THEME_LABELS = {"light": _("Light theme"), "dark": _("Dark theme")}
COLOR_FIELDS = (
    ("checkoutColorPrimary", "primary", _("Primary colour")),
    ("checkoutColorBackground", "background", _("Background colour")),
    ("checkoutColorCard", "card", _("Card colour")),
    ("checkoutColorText", "text", _("Text colour")),
)
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_RADIUS = re.compile(r"^(\d+(?:\.\d+)?)(px|rem|em)?$")


def _locale_name() -> str:
    return (translation.get_language() or "en").replace("-", "_")


def _babel_locale() -> babel.Locale:
    try:
        return babel.Locale.parse(_locale_name())
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale("en")


def currency_choices() -> list[tuple[str, str]]:
    locale = _babel_locale()
    return [
        (code, f"{code} — {get_currency_name(code, locale=locale)}") for code in COMMON_CURRENCIES
    ]


@lru_cache(maxsize=1)
def _country_codes() -> tuple[str, ...]:
    return tuple(
        code
        for code in babel.Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


def country_choices() -> list[tuple[str, str]]:
    names = _babel_locale().territories
    english = babel.Locale("en").territories
    rows = [(code, names.get(code) or english[code]) for code in _country_codes()]
    return [("", _("Choose a country"))] + sorted(rows, key=lambda row: row[1])


@lru_cache(maxsize=1)
def _timezones() -> tuple[str, ...]:
    skip = (
        "Etc/",
        "SystemV/",
        "posix/",
        "right/",
        "US/",
        "Canada/",
        "Brazil/",
        "Chile/",
        "Mexico/",
    )
    names = [z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(skip)]
    return tuple(["UTC", *sorted(names)])


def timezone_choices(current: str | None = None) -> list[tuple[str, str]]:
    names = list(_timezones())
    if current and current not in names:
        names.insert(0, current)
    return [(name, name.replace("_", " ")) for name in names]


class Form(forms.Form):
    """Labels without a trailing colon; the templates style them.

    ``service_fields`` maps the input names the services give in ``PancakeError.field`` (the
    API's: ``"supportEmail"``) to this form's fields, for ``stores.dashboard.show_error``."""

    service_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ReadOnlyMixin:
    """Members see settings forms read-only: every input disabled, nothing submitted."""

    def make_read_only(self) -> None:
        for field in self.fields.values():
            field.disabled = True


# --- sign-in -------------------------------------------------------------------------------------


class LoginForm(Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


# --- stores --------------------------------------------------------------------------------------


class OnboardingForm(Form):
    service_fields = {"name": "name"}

    name = forms.CharField(
        label=_("Store name"),
        max_length=100,
        help_text=_("Your customers see this on checkout pages and receipts."),
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    default_currency = forms.ChoiceField(label=_("Default currency"), initial="USD")
    country = forms.ChoiceField(label=_("Country"), help_text=_("Where your business is based."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_currency"].choices = currency_choices()
        self.fields["country"].choices = country_choices()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a store name."))
        return name


class StoreSettingsForm(ReadOnlyMixin, Form):
    service_fields = {
        "name": "name",
        "supportEmail": "support_email",
        "website": "website",
        "logo": "logo",
        "status": "status",
        "legalName": "legal_name",
        "address.line1": "address_line1",
        "address.line2": "address_line2",
        "address.city": "address_city",
        "address.postcode": "address_postcode",
        "address.state": "address_state",
        "address.country": "address_country",
        "taxId": "tax_id",
    }
    # The seller's details on invoices, shown as their own group on the page.
    seller_fields = (
        "legal_name",
        "tax_id",
        "address_line1",
        "address_line2",
        "address_city",
        "address_postcode",
        "address_state",
        "address_country",
    )

    name = forms.CharField(label=_("Store name"), max_length=100)
    support_email = forms.EmailField(
        label=_("Support email"),
        required=False,
        help_text=_("Shown to customers on receipts and the checkout page."),
    )
    website = forms.URLField(
        label=_("Website"), required=False, max_length=500, assume_scheme="https"
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    default_currency = forms.ChoiceField(label=_("Default currency"))
    timezone = forms.ChoiceField(
        label=_("Timezone"), help_text=_("Reports and dates in the dashboard use this timezone.")
    )
    logo = forms.URLField(
        label=_("Logo URL"),
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text=_("An https:// address of a square image."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(StoreStatus.ACTIVE, _("Active")), (StoreStatus.INACTIVE, _("Inactive"))],
        help_text=_("An inactive store does not accept new checkouts."),
    )
    legal_name = forms.CharField(
        label=_("Legal name"),
        required=False,
        max_length=200,
        help_text=_("The seller's name on invoices. Empty: the store name."),
    )
    tax_id = forms.CharField(
        label=_("Tax ID"),
        required=False,
        max_length=40,
        help_text=_("Your VAT or other tax number, printed on invoices."),
    )
    address_line1 = forms.CharField(label=_("Address line 1"), required=False, max_length=200)
    address_line2 = forms.CharField(label=_("Address line 2"), required=False, max_length=200)
    address_city = forms.CharField(label=_("City"), required=False, max_length=100)
    address_postcode = forms.CharField(label=_("Postcode"), required=False, max_length=20)
    address_state = forms.CharField(label=_("State or region"), required=False, max_length=100)
    address_country = forms.ChoiceField(label=_("Country"), required=False)

    def __init__(self, *args, store, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "legal_name": store.legal_name,
                "tax_id": store.tax_id,
                "address_line1": store.address_line1,
                "address_line2": store.address_line2,
                "address_city": store.address_city,
                "address_postcode": store.address_postcode,
                "address_state": store.address_state,
                "address_country": store.address_country,
                "name": store.name,
                "support_email": store.support_email or "",
                "website": store.website or "",
                "description": store.description,
                "default_currency": store.default_currency,
                "timezone": store.timezone,
                "logo": store.logo or "",
                "status": store.status,
            },
        )
        super().__init__(*args, **kwargs)
        currencies = currency_choices()
        if store.default_currency not in dict(currencies):
            currencies.insert(0, (store.default_currency, store.default_currency))
        self.fields["default_currency"].choices = currencies
        self.fields["timezone"].choices = timezone_choices(store.timezone)
        self.fields["address_country"].choices = country_choices()
        if store.status == StoreStatus.SUSPENDED:
            # Only platform staff lift a suspension; the field is shown, not editable.
            self.fields["status"].choices = [
                (StoreStatus.SUSPENDED, _("Suspended by platform staff"))
            ]
            self.fields["status"].disabled = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a store name."))
        return name

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "name": data["name"],
            "support_email": data["support_email"] or None,
            "website": data["website"] or None,
            "description": data["description"],
            "default_currency": data["default_currency"],
            "timezone_name": data["timezone"],
            "logo": data["logo"] or None,
            "legal_name": data["legal_name"],
            "tax_id": data["tax_id"],
            "address": {
                key: data[f"address_{key}"]
                for key in ("line1", "line2", "city", "postcode", "state", "country")
            },
        }
        if not self.fields["status"].disabled:
            kwargs["status"] = data["status"]
        return kwargs


class NotificationSettingsForm(ReadOnlyMixin, Form):
    service_fields = {f"notificationSettings.{key}": key for key in WRITABLE_KEYS}

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        current = store.notifications
        for key in WRITABLE_KEYS:
            self.fields[key] = forms.BooleanField(
                label=NOTIFICATION_LABELS[key], required=False, initial=current[key]
            )

    def merchant_fields(self):
        return [self[key] for key in WRITABLE_KEYS if key.startswith("notify")]

    def customer_fields(self):
        return [self[key] for key in WRITABLE_KEYS if not key.startswith("notify")]

    def settings_patch(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(key)) for key in WRITABLE_KEYS}


def radius_px(value) -> int:
    """'8px' -> 8, '0.5rem' -> 8, 12 -> 12; anything unreadable -> the default 8."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0, min(16, round(value)))
    match = _RADIUS.match(str(value or "").strip())
    if not match:
        return 8
    number = float(match.group(1)) * (16 if match.group(2) in ("rem", "em") else 1)
    return max(0, min(16, round(number)))


def _color_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class BrandingForm(ReadOnlyMixin, Form):
    """The checkout branding in the SDK's shape, one prefixed field per theme value."""

    service_fields = {
        "checkoutSettings.defaultDarkMode": "default_dark_mode",
        **{
            f"checkoutSettings.{theme}.{key}": f"{theme}_{short}"
            for theme in ("light", "dark")
            for key, short in (
                ("checkoutLogo", "logo"),
                ("checkoutBorderRadius", "radius"),
                *((key, short) for key, short, _label in COLOR_FIELDS),
            )
        },
    }

    default_dark_mode = forms.BooleanField(
        label=_("Use the dark theme by default"),
        required=False,
        help_text=_("A checkout session can still ask for light or dark mode."),
    )

    def __init__(self, *args, store, **kwargs):
        settings = branding.effective(store.checkout_settings)
        initial = {"default_dark_mode": bool(settings.get("defaultDarkMode"))}
        for theme in ("light", "dark"):
            values = {**branding.DEFAULTS[theme], **(settings.get(theme) or {})}
            initial[f"{theme}_logo"] = values.get("checkoutLogo") or ""
            for key, short, _label in COLOR_FIELDS:
                initial[f"{theme}_{short}"] = str(
                    values.get(key) or branding.DEFAULTS[theme][key]
                ).upper()
            initial[f"{theme}_radius"] = radius_px(values.get("checkoutBorderRadius"))
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for theme in ("light", "dark"):
            self.fields[f"{theme}_logo"] = forms.URLField(
                label=_("Checkout logo URL"), required=False, max_length=2000, assume_scheme="https"
            )
            for _key, short, label in COLOR_FIELDS:
                self.fields[f"{theme}_{short}"] = _color_field(label)
            self.fields[f"{theme}_radius"] = forms.IntegerField(
                label=_("Corner radius (px)"),
                min_value=0,
                max_value=16,
                help_text=_("0 to 16 pixels."),
            )

    def clean(self):
        cleaned = super().clean()
        for theme in ("light", "dark"):
            for _key, short, _label in COLOR_FIELDS:
                name = f"{theme}_{short}"
                value = cleaned.get(name)
                if value is not None and not _HEX.match(value):
                    self.add_error(name, _("Enter a colour such as #7CCB02."))
        return cleaned

    def theme_fields(self, theme: str):
        names = [f"{theme}_logo"] + [f"{theme}_{short}" for _k, short, _l in COLOR_FIELDS]
        return [self[name] for name in [*names, f"{theme}_radius"]]

    def themes(self):
        return [
            {"key": theme, "label": THEME_LABELS[theme], "fields": self.theme_fields(theme)}
            for theme in ("light", "dark")
        ]

    def checkout_settings(self) -> dict:
        data = self.cleaned_data
        result: dict = {"defaultDarkMode": bool(data.get("default_dark_mode"))}
        for theme in ("light", "dark"):
            result[theme] = {"checkoutLogo": data[f"{theme}_logo"] or None}
            for key, short, _label in COLOR_FIELDS:
                result[theme][key] = data[f"{theme}_{short}"].upper()
            result[theme]["checkoutBorderRadius"] = f"{data[f'{theme}_radius']}px"
        return result


class DeleteStoreForm(Form):
    confirm_name = forms.CharField(
        label=_("Type the store name to confirm"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, store, **kwargs):
        self.store = store
        super().__init__(*args, **kwargs)

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.store.name.strip():
            raise forms.ValidationError(_("The name does not match this store's name."))
        return value


# --- team ----------------------------------------------------------------------------------------

ASSIGNABLE_ROLES = [
    (Role.ADMIN, _("Admin — manages the store")),
    (Role.MEMBER, _("Member — read only")),
]


class InviteForm(Form):
    service_fields = {"email": "email", "role": "role"}

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES, initial=Role.MEMBER)


class RoleForm(Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=[(Role.ADMIN, _("Admin")), (Role.MEMBER, _("Member"))]
    )


class TransferOwnershipForm(Form):
    service_fields = {"merchantId": "merchant"}

    merchant = forms.ChoiceField(label=_("New owner"))
    confirm = forms.BooleanField(
        label=_("I understand that I will become an admin and the new owner can remove me."),
        required=True,
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = [
            (str(m.merchant_id), m.merchant.email) for m in candidates
        ]


# --- API keys ------------------------------------------------------------------------------------


class ApiKeyForm(Form):
    service_fields = {
        "name": "name",
        "environment": "environment",
        "apiVersion": "api_version",
        "publicKey": "public_key",
    }

    name = forms.CharField(
        label=_("Key name"),
        max_length=100,
        help_text=_("For example “Live server”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    environment = forms.ChoiceField(label=_("Environment"), choices=Environment.choices)
    api_version = forms.ChoiceField(
        label=_("API version"), choices=ApiVersion.choices, initial=LATEST
    )
    public_key = forms.CharField(
        label=_("Public key (PEM)"),
        required=False,
        max_length=10_000,
        help_text=_("Starts with -----BEGIN PUBLIC KEY-----. RSA, 2048 bits or more."),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name for the key."))
        return name

    def clean_public_key(self) -> str:
        pem = self.cleaned_data["public_key"].strip()
        if not pem:
            raise forms.ValidationError(
                _("Paste a public key, or use “Generate key pair and create” (needs JavaScript).")
            )
        return pem


class ApiKeyVersionForm(Form):
    api_version = forms.ChoiceField(label=_("API version"), choices=ApiVersion.choices)
