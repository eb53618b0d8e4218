"""Dashboard forms for products and groups. They parse page input into the shapes the services
take; the services decide the rules and say which API field a refusal is about (``exc.field``),
which ``add_service_error`` puts back beside the matching input.

Prices are rows of small forms prefixed ``price-<n>``. The numbers need not be consecutive: the
page's script adds rows with fresh numbers and removes rows without renumbering the rest.
"""

from __future__ import annotations

import json
import re
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from pancake import money
from pancake.api.errors import PancakeError
from products.models import BillingPeriod, ProductKind, TaxCategory
from products.validation import DESCRIPTION_MAX, NAME_MAX, PRICES_MAX, TRIAL_DAYS_MAX
from stores.forms import COMMON_CURRENCIES, Form, currency_choices

PRICE_PREFIX = "price"
BLANK_ROWS = 3  # rows a page shows without JavaScript
# Posted price inputs (names the page makes), not messages: "price-3-amount".
_ROW_KEY = re.compile(rf"^{PRICE_PREFIX}-(\d{{1,4}})-(currency|amount|trial_amount)$")
# API field of a refusal (exc.field) -> product form input. ``prices.<CUR>[.<key>]`` goes to the
# row of that currency (``_ROW_FIELDS``; no key: the currency itself); ``media[<n>]…`` to the
# image inputs; another ``metadata.<key>`` to the metadata box.
_SERVICE_FIELDS = {
    "name": "name",
    "description": "description",
    "successUrl": "success_url",
    "billingPeriod": "billing_period",
    "metadata": "metadata",
    "metadata.trialDays": "trial_days",
    "media": "image_url",
}
_ROW_FIELDS = {
    None: "currency",
    "amount": "amount",
    "taxCategory": "tax_category",
    "taxIncluded": "tax_behaviour",
    "trialAmount": "trial_amount",
}
# API field -> group form input.
_GROUP_FIELDS = {"name": "name", "description": "description", "productIds": "product_ids"}
EXCLUSIVE, INCLUSIVE = "exclusive", "inclusive"


def _text(value: str) -> str:
    """Browsers send textarea line breaks as CRLF; the API stores what it is given (LF)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


class PriceRowForm(Form):
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("In the currency's main unit: 29.00 USD, 4500 JPY."),
    )
    tax_category = forms.ChoiceField(
        label=_("Tax category"),
        choices=TaxCategory.choices,
        initial=TaxCategory.SAAS,
        required=False,
    )
    tax_behaviour = forms.ChoiceField(
        label=_("Tax behaviour"),
        required=False,
        help_text=_("Whether tax is added on top of the amount or already in it."),
        choices=[
            (EXCLUSIVE, _("Exclusive (tax added)")),
            (INCLUSIVE, _("Inclusive (tax included)")),
        ],
        initial=EXCLUSIVE,
    )
    trial_amount = forms.CharField(
        label=_("Paid trial price"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("Optional: charged for the trial period; leave empty for a free trial."),
    )

    def __init__(self, *args, index, **kwargs):
        kwargs.setdefault("prefix", f"{PRICE_PREFIX}-{index}")
        super().__init__(*args, **kwargs)
        self.index = index
        choices = [("", _("Choose…")), *currency_choices()]
        current = self.data.get(self.add_prefix("currency")) or self.initial.get("currency")
        if current and current not in COMMON_CURRENCIES and money.is_currency(current):
            choices.append((current, current))
        self.fields["currency"].choices = choices

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any(data.get(name) for name in ("currency", "amount", "trial_amount"))

    @property
    def number(self) -> int:
        return self.index + 1

    def clean(self):
        cleaned = super().clean()
        currency, amount = cleaned.get("currency"), (cleaned.get("amount") or "").strip()
        cleaned["amount"] = amount
        cleaned["trial_amount"] = (cleaned.get("trial_amount") or "").strip()
        if (amount or cleaned["trial_amount"]) and not currency:
            self.add_error("currency", _("Choose a currency for this price."))
        if currency and not amount:
            self.add_error("amount", _("Enter an amount."))
        if currency and not cleaned.get("tax_category"):
            self.add_error("tax_category", _("Choose a tax category."))
        return cleaned

    def price(self, *, subscription: bool) -> dict:
        data = self.cleaned_data
        price = {
            "amount": data["amount"],
            "taxCategory": data["tax_category"],
            "taxIncluded": data["tax_behaviour"] == INCLUSIVE,
        }
        if subscription and data["trial_amount"]:
            price["trialAmount"] = data["trial_amount"]
        return price


def price_rows_initial(prices: dict) -> list[dict]:
    return [
        {
            "currency": currency,
            "amount": money.to_display(info["amount"], currency),
            "tax_category": info.get("taxCategory"),
            "tax_behaviour": INCLUSIVE if info.get("taxIncluded") else EXCLUSIVE,
            "trial_amount": (
                money.to_display(info["trialAmount"], currency)
                if info.get("trialAmount") is not None
                else ""
            ),
        }
        for currency, info in (prices or {}).items()
    ]


class ProductForm(Form):
    """Every field of a product version. ``kind`` is chosen on create only; subscription fields
    are ignored for one-time products."""

    kind = forms.ChoiceField(
        label=_("Pricing type"),
        choices=ProductKind.choices,
        widget=forms.RadioSelect,
        initial=ProductKind.ONETIME,
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_("Shown to customers. Up to 64 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-counter": NAME_MAX}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown: **bold**, lists, [links](https://example.com)."),
    )
    billing_period = forms.ChoiceField(
        label=_("Billing interval"),
        choices=BillingPeriod.choices,
        initial=BillingPeriod.MONTHLY,
        required=False,
    )
    trial_days = forms.IntegerField(
        label=_("Trial days"),
        required=False,
        min_value=1,
        max_value=TRIAL_DAYS_MAX,
        help_text=_("Optional: days before the first charge. Empty means no trial."),
    )
    image_url = forms.CharField(
        label=_("Image URL"),
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("An http(s) address of a square image, 400×400 px or larger."),
    )
    image_alt = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        max_length=300,
        help_text=_("Read aloud by screen readers instead of the image."),
    )
    image_file = forms.ImageField(
        label=_("Or upload an image"),
        required=False,
        help_text=_("PNG, JPEG, GIF or WebP, up to 2 MB. Replaces the image URL."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    success_url = forms.CharField(
        label=_("Success URL"),
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("Where buyers go after paying. Optional."),
    )
    metadata = forms.CharField(
        label=_("Metadata (JSON)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_('A JSON object for your own use, e.g. {"plan": "pro"}.'),
    )

    IMAGE_MAX_BYTES = 2 * 1024 * 1024
    IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}

    def __init__(self, data=None, files=None, *, kind=None, version=None, **kwargs):
        """``kind`` fixes the kind (edit); ``version`` gives the initial values (edit)."""
        self.fixed_kind = kind
        self.version = version
        initial = kwargs.pop("initial", {}) or {}
        price_initial = []
        if version is not None:
            metadata = dict(version.metadata or {})
            # A subscription's trial length has its own field; other metadata stays as JSON.
            trial_days = (
                metadata.pop("trialDays", None) if kind == ProductKind.SUBSCRIPTION else None
            )
            image = self._image(version.media)
            initial.update(
                name=version.name,
                description=version.description or "",
                billing_period=version.billing_period or BillingPeriod.MONTHLY,
                trial_days=trial_days,
                image_url=(image or {}).get("url", ""),
                image_alt=(image or {}).get("alt", ""),
                success_url=version.success_url or "",
                metadata=json.dumps(metadata, indent=2, ensure_ascii=False) if metadata else "",
            )
            price_initial = price_rows_initial(version.prices)
        super().__init__(data, files, initial=initial, **kwargs)
        if kind is not None:
            del self.fields["kind"]
        self.price_forms = self._price_forms(data, price_initial)
        self.price_errors: list[str] = []
        self._prices_flagged = False
        self.read_only = False

    # --- price rows ---

    def _price_forms(self, data, initial: list[dict]) -> list[PriceRowForm]:
        if data is not None:
            indexes = sorted(
                {int(m.group(1)) for key in data.keys() if (m := _ROW_KEY.match(key))}
            )[: PRICES_MAX + BLANK_ROWS]
            return [PriceRowForm(data, index=i) for i in indexes]
        rows = [PriceRowForm(index=i, initial=row) for i, row in enumerate(initial)]
        blanks = max(1, BLANK_ROWS - len(rows))
        rows += [PriceRowForm(index=len(rows) + i) for i in range(blanks)]
        return rows

    @property
    def next_price_index(self) -> int:
        return max((row.index for row in self.price_forms), default=-1) + 1

    def empty_price_form(self) -> PriceRowForm:
        return PriceRowForm(prefix=f"{PRICE_PREFIX}-__prefix__", index=0)

    # --- kind ---

    @property
    def chosen_kind(self) -> str:
        if self.fixed_kind:
            return self.fixed_kind
        value = self["kind"].value()
        return value if value in ProductKind.values else ProductKind.ONETIME

    @property
    def is_subscription(self) -> bool:
        return self.chosen_kind == ProductKind.SUBSCRIPTION

    # --- validation ---

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_description(self) -> str:
        value = _text(self.cleaned_data["description"])
        return value if value.strip() else ""

    def clean_metadata(self) -> dict:
        raw = _text(self.cleaned_data["metadata"]).strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(
                _('Enter a JSON object, such as {"plan": "pro"}.')
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Enter a JSON object, such as {"plan": "pro"}.'))
        if "trialDays" in value and self.is_subscription:
            raise forms.ValidationError(_("Set the trial length in the Trial days field."))
        return value

    def clean_image_file(self):
        upload = self.cleaned_data.get("image_file")
        if not upload:
            return None
        if upload.size > self.IMAGE_MAX_BYTES:
            raise forms.ValidationError(_("The image is larger than 2 MB."))
        image = getattr(upload, "image", None)
        if image is None or (image.format or "").upper() not in self.IMAGE_FORMATS:
            raise forms.ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))
        return upload

    def full_clean(self):
        super().full_clean()
        if not self.is_bound:
            return
        rows_valid = all(row.is_valid() for row in self.price_forms)
        seen: dict[str, PriceRowForm] = {}
        for row in self.price_forms:
            currency = row.cleaned_data.get("currency") if hasattr(row, "cleaned_data") else None
            if not currency:
                continue
            if currency in seen:
                row.add_error(
                    "currency",
                    _("%(currency)s already has a price above.") % {"currency": currency},
                )
                rows_valid = False
            seen[currency] = row
        if rows_valid and not seen:
            self.price_errors.append(_("Add at least one price."))
        if not rows_valid or self.price_errors:
            self._flag_prices()

    def _flag_prices(self) -> None:
        """Makes is_valid() false and says where to look; the messages sit beside the rows."""
        if not self._prices_flagged:
            self._prices_flagged = True
            self.add_error(None, _("Check the prices below."))

    # --- output ---

    def prices(self) -> dict:
        subscription = self.is_subscription
        return {
            row.cleaned_data["currency"]: row.price(subscription=subscription)
            for row in self.price_forms
            if not row.is_blank
        }

    @staticmethod
    def _image(media) -> dict | None:
        return next((item for item in media or [] if item.get("type") == "image"), None)

    def media_items(self, uploaded_url: str | None = None) -> list[dict]:
        """The form edits the first image; any other media items the API added stay as they
        were. An unchanged image keeps its stored item (and its thumbnail)."""
        data = self.cleaned_data
        current = list(self.version.media or []) if self.version is not None else []
        existing = self._image(current)
        url = uploaded_url or data["image_url"].strip()
        alt = data["image_alt"].strip()
        item = None
        if url:
            item = {"type": "image", "url": url, **({"alt": alt} if alt else {})}
            if existing and existing.get("url") == url and (existing.get("alt") or "") == alt:
                item = existing
        if existing is not None:
            position = current.index(existing)
            return current[:position] + ([item] if item else []) + current[position + 1 :]
        return ([item] if item else []) + current

    def service_kwargs(self, uploaded_url: str | None = None) -> dict:
        """Keyword arguments for ``product_create`` / ``product_update``."""
        data = self.cleaned_data
        version = self.version
        description = data["description"] or None
        if version is not None and not description and not version.description:
            description = version.description  # "" and None are both "no description"
        metadata = dict(data["metadata"])
        if self.is_subscription:
            metadata.pop("trialDays", None)
            if data.get("trial_days"):
                metadata["trialDays"] = data["trial_days"]
        kwargs = {
            "name": data["name"],
            "description": description,
            "prices": self.prices(),
            "media": self.media_items(uploaded_url),
            "success_url": data["success_url"].strip() or None,
            "metadata": metadata,
        }
        if self.is_subscription:
            kwargs["billing_period"] = data.get("billing_period") or None
        return kwargs

    def use_uploaded_url(self, url: str) -> None:
        """Show an uploaded file's URL in the URL field, so a failed save keeps it."""
        self.data = self.data.copy()
        self.data["image_url"] = url

    def add_service_error(self, exc: PancakeError) -> None:
        """Put a service's refusal beside the input its ``field`` names (``prices.USD.amount``
        → the USD row's amount); a refusal about no input of this form goes to the top."""
        field, message = exc.field or "", exc.message
        if field == "prices" or field.startswith("prices."):
            parts = field.split(".", 2)  # prices, currency, key in the price
            currency = parts[1] if len(parts) > 1 else None
            key = parts[2] if len(parts) > 2 else None
            row = self._row_for(currency) if currency else None
            if row is not None and key in _ROW_FIELDS:
                row.add_error(_ROW_FIELDS[key], message)
            else:
                self.price_errors.append(message)
            self._flag_prices()
            return
        target = self._input_for(field)
        self.add_error(target if target in self.fields else None, message)

    @staticmethod
    def _input_for(field: str) -> str | None:
        if field in _SERVICE_FIELDS:
            return _SERVICE_FIELDS[field]
        if field.startswith("media["):
            return "image_alt" if field.endswith(".alt") else "image_url"
        if field.startswith("metadata."):
            return "metadata"
        return None

    def _row_for(self, currency: str) -> PriceRowForm | None:
        return next(
            (
                row
                for row in self.price_forms
                if getattr(row, "cleaned_data", {}).get("currency") == currency
            ),
            None,
        )

    def make_read_only(self) -> None:
        self.read_only = True
        for form in (self, *self.price_forms):
            for field in form.fields.values():
                field.disabled = True


class GroupForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    product_ids = forms.MultipleChoiceField(
        label=_("Plans in this group"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Subscribers may switch between these plans. Only subscription products."),
    )
    shared_trial = forms.BooleanField(
        label=_("Shared trial"),
        required=False,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
        help_text=_("A buyer who had a trial on one plan of the group gets no second trial."),
    )
    self_service_plan_change = forms.BooleanField(
        label=_("Self-service plan change"),
        required=False,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
        help_text=_("Subscribers may switch plans within the group themselves."),
    )

    def __init__(self, *args, products, group=None, **kwargs):
        """``products``: the store's subscription products as (id, label) pairs; a group's
        members come first, in their order."""
        if group is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": group.name,
                    "description": group.description or "",
                    "product_ids": [str(pid) for pid in group.product_ids],
                    "shared_trial": group.shared_trial,
                    "self_service_plan_change": group.self_service_plan_change,
                },
            )
        super().__init__(*args, **kwargs)
        members = [str(pid) for pid in group.product_ids] if group is not None else []
        labels = {str(pid): label for pid, label in products}
        order = [pid for pid in members if pid in labels] + [
            str(pid) for pid, _label in products if str(pid) not in members
        ]
        self.fields["product_ids"].choices = [(pid, labels[pid]) for pid in order]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name for the group."))
        return name

    def clean_description(self) -> str:
        return _text(self.cleaned_data["description"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        chosen = set(data["product_ids"])
        order = [pid for pid, _label in self.fields["product_ids"].choices if pid in chosen]
        return {
            "name": data["name"],
            "description": data["description"] or None,
            "rules": {
                "sharedTrial": bool(data["shared_trial"]),
                "selfServicePlanChange": bool(data["self_service_plan_change"]),
            },
            "product_ids": [uuid.UUID(pid) for pid in order],
        }

    def add_service_error(self, exc: PancakeError) -> None:
        """Beside the input ``exc.field`` names; rules and the rest at the top of the form."""
        self.add_error(_GROUP_FIELDS.get(exc.field or ""), exc.message)

    def make_read_only(self) -> None:
        for field in self.fields.values():
            field.disabled = True
