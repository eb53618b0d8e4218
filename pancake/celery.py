"""The Celery app. Without REDIS_URL, tasks run in-process (eager): no services needed."""

import os

from celery import Celery
from celery.signals import task_postrun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pancake.settings")

app = Celery("pancake")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def registered(name: str):
    """The task registered under ``name``. For a service that queues the task which runs it: the
    tasks module imports the service, so the service names the task instead of importing it."""
    return app.tasks[name]


@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """After each task, what Django does after each request: a connection that broke, was left
    in a transaction or is older than CONN_MAX_AGE is closed; a good one is kept for the next task
    (with CELERY_DB_REUSE_MAX set, Celery's own fixup no longer closes every connection at every
    task), checked first when health checks are on. Not for eager tasks: they run inside the
    caller's request or transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
