"""Settings of the bare yardstick: a minimal Django + DRF project as ``django-admin
startproject`` makes it (its contrib apps and default middleware) with DRF added at its defaults,
answering one JSON view from PostgreSQL. Nothing of Pancake's.

DATABASE_URL names its database. Connections are kept between requests (``CONN_MAX_AGE`` 60) as
Pancake's production settings keep them, so the yardstick does not pay a connection per request
that Pancake does not; BARE_CONN_MAX_AGE=0 gives startproject's default instead (a new
connection per request). BARE_STRIPPED=1 takes away what the view does not need (the contrib
apps, every middleware, DRF's authentication and browsable renderer): a stricter reading. The
benches measure all three, labelled; the targets' reference is the first.
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "bare-yardstick-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "bench.yardstick",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
STATIC_URL = "static/"
ROOT_URLCONF = "bench.yardstick.urls"
WSGI_APPLICATION = "bench.yardstick.wsgi.application"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pancake_bench_bare"),
        conn_max_age=int(os.environ.get("BARE_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK: dict = {}  # DRF's defaults
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

if os.environ.get("BARE_STRIPPED") == "1":
    INSTALLED_APPS = ["rest_framework", "bench.yardstick"]
    MIDDLEWARE = []
    TEMPLATES = []
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [],  # the view checks the signature itself
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,  # no django.contrib.auth
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    }
