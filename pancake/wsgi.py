import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pancake.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the schema) lives as long as the worker: keep it
# out of the cyclic collector's full passes, which otherwise walk it again and again while a
# request allocates its rows (and the pages stay shared with a preloading master).
gc.freeze()
# A request building a 100-row GraphQL list allocates tens of thousands of objects, nearly all
# freed by their reference counts; at the default threshold (700) the collector's youngest pass
# runs dozens of times per request for nothing: a tenth of such a request's instructions
# (bench/RESULTS.md). Young objects that are garbage cycles wait a little longer instead.
gc.set_threshold(50_000, 10, 10)
