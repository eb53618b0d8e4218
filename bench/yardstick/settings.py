"""Settings of the bare yardstick: what ``django-admin startproject`` plus DRF needs to answer one
JSON view from PostgreSQL, and nothing else (no middleware, no sessions, no auth app).

DATABASE_URL names its database. Connections are kept between requests (``CONN_MAX_AGE`` 60) as
Pancake's production settings keep them, so the yardstick does not pay a connection per request
that Pancake does not; BARE_CONN_MAX_AGE=0 gives Django's default instead (a new connection per
request), which the benches also measure, labelled.
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "bare-yardstick-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["rest_framework", "bench.yardstick"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.yardstick.urls"
WSGI_APPLICATION = "bench.yardstick.wsgi.application"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pancake_bench_bare"),
        conn_max_age=int(os.environ.get("BARE_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],  # the view checks the signature itself
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,  # no django.contrib.auth
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
