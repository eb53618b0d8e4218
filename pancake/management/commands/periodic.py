"""``manage.py periodic``: run the periodic tasks of ``CELERY_BEAT_SCHEDULE`` in this process, for
a deployment without Celery beat and workers (the first-run configuration: SQLite, tasks run
in-process). Subscriptions renew, webhook retries go out and the outbox is swept, as beat would
have them; ``dev.py demo`` starts it beside the development server. With Redis, run Celery beat
instead (docs/operations.md)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from pancake.celery import app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic tasks (CELERY_BEAT_SCHEDULE) in this process, without Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run each task once and stop")

    def handle(self, *args, once: bool = False, **options):
        schedule = {
            name: (entry["task"], float(entry["schedule"]))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        next_run = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, (task, every) in schedule.items():
                if now < next_run[name]:
                    continue
                next_run[name] = now + every
                close_old_connections()
                try:
                    app.tasks[task].apply(throw=True)
                except Exception:
                    logger.exception("periodic task %s failed", name)
            if once:
                return
            time.sleep(1)
