"""Step 1 of the hosted checkout, "Your details": email, country, then what the
country needs (postcode; state for US/CA/AU/IN; city and address in the EU) and, for business
buyers, the business name and tax ID. Messages are the buyer's language; the tax engine judges
states and VAT numbers, and its refusals are shown on the field they concern."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from checkout import tax_ids
from checkout.tax import data as tax_data
from checkout.tax.engine import COUNTRIES, country_name
from pancake.api.errors import PancakeError

STATE_COUNTRIES = ("US", "CA", "AU", "IN")
POSTCODE_COUNTRIES = frozenset({"US", "CA", "AU", "IN", "GB", "JP"})


def eu_countries() -> frozenset[str]:
    return tax_data.load().eu_member_states


@lru_cache(maxsize=8)
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    blocked = tax_data.load().blocked_countries
    names = [(code, country_name(code, locale)) for code in COUNTRIES if code not in blocked]
    return tuple(sorted(names, key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    """Letters with accents sort with their base letter ('Ägypten' before 'Albanien', 'Österreich'
    near 'Oman'), not after Z."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _babel_locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def country_choices() -> list[tuple[str, str]]:
    return [("", _("Choose your country")), *_country_choices(_babel_locale())]


@lru_cache(maxsize=1)
def state_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(country, ((code, name), ...)) for the countries that ask for a state, codes without the
    country prefix ('US-CA' -> 'CA')."""
    groups = []
    for country in STATE_COUNTRIES:
        subdivisions = pycountry.subdivisions.get(country_code=country) or []
        states = sorted(
            ((s.code.split("-", 1)[1], s.name) for s in subdivisions), key=lambda s: s[1]
        )
        groups.append((country, tuple(states)))
    return tuple(groups)


def states_of(country: str) -> dict[str, str]:
    return dict(dict(state_groups()).get(country, ()))


def _autocomplete(token: str) -> dict:
    return {"autocomplete": token}


def region_of(tags: list[str]) -> str | None:
    """The first country an Accept-Language's tags name ('de-DE' -> 'DE', 'zh-Hant-TW' ->
    'TW'; 'de' names none), if the checkout sells there."""
    blocked = tax_data.load().blocked_countries
    for tag in tags:
        for part in tag.split("-")[1:]:
            code = part.upper()
            if len(part) == 2 and part.isalpha() and code in COUNTRIES and code not in blocked:
                return code
    return None


class DetailsForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs=_autocomplete("email"))
    )
    country = forms.ChoiceField(
        label=_("Country"), choices=(), widget=forms.Select(attrs=_autocomplete("country"))
    )
    state = forms.CharField(label=_("State / province"), required=False, max_length=8)
    postcode = forms.CharField(
        label=_("Postcode"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs=_autocomplete("postal-code")),
    )
    city = forms.CharField(
        label=_("City"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=_autocomplete("address-level2")),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=_autocomplete("street-address")),
    )
    is_business = forms.BooleanField(label=_("I'm purchasing as a business"), required=False)
    business_name = forms.CharField(
        label=_("Business name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=_autocomplete("organization")),
    )
    tax_id = forms.CharField(
        label=_("Tax ID"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        """Build inside the page's language: the country names and the tax ID's label are
        rendered in it."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()
        country = self.data.get("country") if self.is_bound else self.initial.get("country")
        country = (country or "").strip().upper()
        self.fields["tax_id"].label = tax_ids.label(country)
        placeholder = tax_ids.example(country)
        if placeholder:
            self.fields["tax_id"].widget.attrs["placeholder"] = placeholder

    def clean(self):
        data = super().clean()
        country = data.get("country")
        if not country:
            return data
        required = _("This field is required.")
        if country in STATE_COUNTRIES:
            state = (data.get("state") or "").strip().upper()
            if not state:
                self.add_error("state", _("Choose your state or province."))
            elif state not in states_of(country):
                self.add_error("state", _("Choose a state or province of the selected country."))
            data["state"] = state
        else:
            data["state"] = ""
        needs_postcode = country in POSTCODE_COUNTRIES or country in eu_countries()
        if needs_postcode and not (data.get("postcode") or "").strip():
            self.add_error("postcode", required)
        if country in eu_countries():
            for name in ("city", "address"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, required)
        if data.get("is_business"):
            if not (data.get("business_name") or "").strip():
                self.add_error("business_name", required)
        else:
            data["business_name"] = data["tax_id"] = ""
        return data

    def billing_detail(self) -> dict:
        """The SDK's billingDetail shape, plus the EU address lines."""
        data = self.cleaned_data
        detail = {"country": data["country"], "isBusiness": bool(data.get("is_business"))}
        for key, name in (
            ("postcode", "postcode"),
            ("state", "state"),
            ("businessName", "business_name"),
            ("taxId", "tax_id"),
            ("city", "city"),
            ("address", "address"),
        ):
            value = (data.get(name) or "").strip()
            if value:
                detail[key] = value
        return detail

    @classmethod
    def initial_from(cls, session) -> dict:
        detail = session.billing_detail or {}
        return {
            "email": session.buyer_email or "",
            "country": detail.get("country", ""),
            "state": detail.get("state", ""),
            "postcode": detail.get("postcode", ""),
            "city": detail.get("city", ""),
            "address": detail.get("address", ""),
            "is_business": detail.get("isBusiness", False),
            "business_name": detail.get("businessName", ""),
            "tax_id": detail.get("taxId", ""),
        }


# The tax engine's fields (the billing detail's keys) and the form's inputs.
ENGINE_FIELDS = {"country": "country", "state": "state", "taxId": "tax_id"}


def engine_error_field(exc: PancakeError, country: str | None = None) -> tuple[str | None, str]:
    """Where a tax-engine refusal belongs on the form, and what to say in the buyer's language
    (the engine's own messages are the API's English): read from the error's field and code. A
    refused VAT number of a country with a known format says what that format looks like."""
    if exc.code == "sanctioned":
        return "country", str(_("We can't accept purchases from this country."))
    field = ENGINE_FIELDS.get(exc.field or "")
    if field == "tax_id":
        if exc.code == "required":
            return field, str(_("Enter your company's VAT number."))
        hint = tax_ids.format_hint(country, country_name(country or "", _babel_locale()))
        message = str(_("This tax ID is not valid for the selected country."))
        return field, f"{message} {hint}" if hint else message
    if field == "state":
        return field, str(_("Choose your state or province."))
    return None, str(
        _("We couldn't calculate the tax for these details. Check them and try again.")
    )
