"""The GraphQL read API: ``POST /v1/graphql``, composed from one schema module per app
(``stores/schema.py``, ``products/schema.py``, ``checkout/schema.py``, ``billing/schema.py``)."""
