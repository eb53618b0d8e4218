"""The bare yardstick: a separate, minimal Django + DRF project (its own settings, URLconf, one
view, two tables) that does what every signed write must do and nothing else: parse the SDK's
signature headers, read the merchant's public key with one query, verify the RSA signature with
``cryptography``, insert one row. No Pancake settings, apps or middleware.

The benches (``bench_checkout.py``, ``bench_graphql.py``) run it with gunicorn beside Pancake,
same worker count, same PostgreSQL server (its own database), and compare Pancake's requests/s
with its requests/s measured in alternating rounds.
"""
