"""What the hosted checkout shows: the order summary with tax, the subscription's
billing preview, and the lines the provider's payment page shows beside its card form. Amounts
stay integers until they are formatted here, in the active language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from checkout import languages
from checkout.tax.engine import TaxResult
from checkout.trials import first_charge, trial_charge
from pancake.money import format_money
from products.periods import add_periods

# Tax names of the rates file that have a name in the buyer's language; acronyms that are the
# tax's official name everywhere (GST, HST, QST, IVA, IGV …) stay as they are.
TAX_NAMES = {
    "VAT": pgettext_lazy("tax name", "VAT"),
    "Sales tax": pgettext_lazy("tax name", "Sales tax"),
    "Service tax": pgettext_lazy("tax name", "Service tax"),
    "JCT": pgettext_lazy("tax name", "JCT"),
}


def tax_label(name: str) -> str:
    """'VAT' -> 'MwSt.' in German; 'GST + QST' keeps its parts' official names."""
    if not name:
        return pgettext("tax name", "Tax")
    return " + ".join(str(TAX_NAMES.get(part, part)) for part in name.split(" + "))


def babel_locale() -> str:
    """The active Django language as Babel spells it ('zh-hans' -> 'zh_Hans')."""
    code = translation.get_language() or "en"
    return translation.to_locale(code)


def money(minor: int, currency: str) -> str:
    return _formatted(minor, currency, babel_locale())


@lru_cache(maxsize=4096)
def _formatted(minor: int, currency: str, locale: str) -> str:
    # Babel's formatting is a pure function of these three and costs ~0.1 ms a call; a store's
    # prices and totals repeat, so a bounded memo answers most calls.
    return format_money(minor, currency, locale)


def long_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return format_date(value, format="long", locale=babel_locale())


def per_period(amount: str, period: str) -> str:
    labels = {
        "weekly": _("%(price)s / week"),
        "monthly": _("%(price)s / month"),
        "quarterly": _("%(price)s / 3 months"),
        "yearly": _("%(price)s / year"),
    }
    return labels.get(period, "%(price)s") % {"price": amount}


def frequency(period: str) -> str:
    return {
        "weekly": _("Billed weekly"),
        "monthly": _("Billed monthly"),
        "quarterly": _("Billed every 3 months"),
        "yearly": _("Billed yearly"),
    }.get(period, "")


def percent(rate: Decimal) -> str:
    """0.19 -> '19%', 0.14975 -> '14.975%' (no trailing zeros)."""
    value = (rate * 100).normalize()
    return f"{value:f}%"


def summary(session, tax: TaxResult | None) -> dict:
    """The order summary's rows, formatted. Without a tax result (no country yet) the tax row
    says it is calculated from the buyer's details."""
    currency = session.currency
    rows = {"price": money(session.amount, currency)}
    if tax is None:
        rows.update(
            subtotal=money(session.amount, currency),
            tax=None,
            tax_label=_("Tax"),
            total=money(session.amount, currency),
            reverse_charge=False,
            pending=True,
        )
        total = session.amount
    else:
        if tax.tax_name:
            label = _("%(tax)s (%(rate)s)") % {
                "tax": tax_label(tax.tax_name),
                "rate": percent(tax.rate),
            }
        else:
            label = _("Tax")
        rows.update(
            subtotal=money(tax.subtotal, currency),
            tax=money(tax.tax_amount, currency),
            tax_label=label,
            total=money(tax.total, currency),
            reverse_charge=tax.reverse_charge,
            pending=False,
        )
        total = tax.total
    rows["tax_included"] = session.tax_included
    rows["due_today"] = money(first_charge(session, total, 0)[0], currency)
    rows["billing"] = billing_preview(session, total)
    return rows


def billing_preview(session, total: int, today: date | None = None) -> dict | None:
    """A subscription's frequency, recurring amount, next billing date and trial."""
    if session.kind != "subscription":
        return None
    period = session.version.billing_period or "monthly"
    today = today or timezone.now().date()
    recurring = per_period(money(total, session.currency), period)
    preview = {
        "period": period,
        "frequency": frequency(period),
        "recurring": recurring,
        "trial": None,
    }
    if trial_charge(session) is not None:
        charge_date = today + timedelta(days=session.trial_days)
        preview["next_billing"] = long_date(charge_date)
        preview["trial"] = {
            "days": session.trial_days,
            "label": ngettext(
                "%(days)s-day free trial", "%(days)s-day free trial", session.trial_days
            )
            % {"days": session.trial_days}
            if not session.trial_amount
            else ngettext(
                "%(days)s-day trial for %(amount)s",
                "%(days)s-day trial for %(amount)s",
                session.trial_days,
            )
            % {"days": session.trial_days, "amount": money(session.trial_amount, session.currency)},
            "first_charge": long_date(charge_date),
        }
    else:
        preview["next_billing"] = long_date(add_periods(today, period))
    return preview


def provider_display(order, amount: int, language: str) -> dict:
    """The lines the provider's page shows beside its card form, in the buyer's language."""
    session = order.session
    with translation.override(languages.to_django(language)):
        lines = [[session.version.name, money(order.subtotal, order.currency)]]
        if order.tax_amount or order.reverse_charge:
            label = tax_label(order.tax_name)
            lines.append([label, money(order.tax_amount, order.currency)])
        lines.append([_("Total"), money(order.total, order.currency)])
        preview = billing_preview(session, order.total)
        if preview is not None:
            lines.append([preview["frequency"], preview["recurring"]])
            if order.with_trial and preview["trial"]:
                lines.append([preview["trial"]["label"], _("Cancel anytime")])
                lines.append([_("First charge"), preview["trial"]["first_charge"]])
            else:
                lines.append([_("Next billing date"), preview["next_billing"]])
        if amount == 0:
            button = _("Save card and start trial")
        else:
            button = _("Pay %(amount)s") % {"amount": money(amount, order.currency)}
        return {"lines": lines, "button": button, "title": session.store.name}
