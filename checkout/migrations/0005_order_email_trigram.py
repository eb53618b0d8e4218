"""A trigram index of the orders' buyer emails (PostgreSQL only), for the dashboard's payments
list: its email filter and search match any part of the email (``icontains``, which Django
writes as ``UPPER(buyer_email::text) LIKE UPPER('%…%')``), and this index answers that without
reading every order of a store. pg_trgm is a trusted extension (PostgreSQL 13+): the database's
owner may create it. On other databases nothing is done."""

from django.db import migrations

INDEX = "order_buyer_email_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON checkout_order "
        "USING gin ((UPPER(buyer_email::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0004_plan_change_sessions"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
