from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

import pancake.lookups  # noqa: F401  (registers the ``__any`` lookup before any query uses it)


class PancakeConfig(AppConfig):
    name = "pancake"
    verbose_name = "Pancake platform"

    def ready(self) -> None:
        # Every app's api.py registers its actions with pancake.api.registry.
        autodiscover_modules("api")
        # Every app's tasks.py registers its Celery tasks in every process, web included, so a
        # service can queue a task by its registered name (pancake.celery.registered).
        autodiscover_modules("tasks")
        # Every app's audited.py registers the tables the audit trail records (pancake.audit).
        autodiscover_modules("audited")
