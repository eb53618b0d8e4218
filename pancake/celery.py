"""The Celery app. Without REDIS_URL, tasks run in-process (eager): no services needed."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pancake.settings")

app = Celery("pancake")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
