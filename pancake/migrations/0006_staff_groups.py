"""The support staff's permission groups (pancake/staff_groups.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from pancake import staff_groups


def create_groups(apps, schema_editor):
    # Permissions are made after the last migration (post_migrate); the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_groups.sync(apps.get_model("auth", "Permission"), apps.get_model("auth", "Group"))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[staff_groups.READ_ONLY, staff_groups.AGENT, staff_groups.ADMIN]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pancake", "0005_environment_label_live"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auditlog", "0017_add_actor_email"),
        ("stores", "0009_staff_permissions"),
        ("products", "0004_environment_label_live"),
        ("checkout", "0008_staff_permissions"),
        ("billing", "0017_staff_permissions"),
        ("portal", "0002_environment_label_live"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
