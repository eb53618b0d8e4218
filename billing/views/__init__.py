"""The billing app's pages, one module per kind: ``webhooks`` and ``subscriptions`` (the
dashboard's webhook and subscription pages, mounted in the ``dashboard`` namespace),
``providers`` (the payment providers' notification endpoint) and ``test_processor`` (the test
processor's hosted card and 3-D Secure pages), the last two in the ``billing`` namespace.
``billing/urls.py`` names them."""
