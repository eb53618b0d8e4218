"""``{{ amount|money:currency }}`` formats minor units in the viewer's locale (Babel)."""

from django import template
from django.utils import translation

from pancake import money as money_lib

register = template.Library()


@register.filter(name="money")
def money_filter(minor, currency):
    if minor is None or not currency:
        return ""
    locale = (translation.get_language() or "en").replace("-", "_")
    try:
        return money_lib.format_money(int(minor), currency, locale)
    except (ValueError, LookupError):
        return money_lib.format_money(int(minor), currency, "en")
