"""Give the support staff's groups the permissions of every table (pancake/staff_groups.py):
run after a migration that adds tables, so the read-only group can see them too."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from pancake import staff_groups


class Command(BaseCommand):
    help = "Set the permissions of the support staff groups (read only, agent, admin)."

    def handle(self, *args, **options):
        staff_groups.sync(Permission, Group)
        self.stdout.write("Staff groups updated.")
