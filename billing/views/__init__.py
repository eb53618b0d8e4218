"""The billing app's pages, one module per kind: ``webhooks`` (the dashboard's webhook pages,
mounted in the ``dashboard`` namespace) and ``test_processor`` (the test processor's hosted card
and 3-D Secure pages, in the ``billing`` namespace). ``billing/urls.py`` names them."""
