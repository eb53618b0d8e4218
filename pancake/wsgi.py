import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pancake.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the schema) lives as long as the worker: keep it
# out of the cyclic collector's full passes, which otherwise walk it again and again while a
# request allocates its rows (and the pages stay shared with a preloading master).
gc.freeze()
