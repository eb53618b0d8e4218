"""Webhook facts that other apps' dashboard pages show, for their templates: the Developers page
(the stores app's) names the endpoints the platform disabled, without its view knowing billing."""

from django import template

from billing.webhooks import selectors

register = template.Library()


@register.simple_tag
def webhook_failures(store, environment: str) -> list:
    """The store's endpoints of ``environment`` disabled after a delivery failed every attempt."""
    endpoints = selectors.endpoints_for(store, environment).filter(enabled=False)
    return selectors.disabled_after_failures(endpoints)
