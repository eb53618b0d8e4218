"""One settings module, two configurations.

Zero-setup default (nothing set): SQLite file, in-process Celery, console email, DEBUG on.
Production (``PANCAKE_ENV=production``): DATABASE_URL, REDIS_URL, SECRET_KEY, BASE_URL,
ALLOWED_HOSTS and SMTP from the environment; secure cookies, HSTS, HTTPS redirect.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return default if value is None else [v.strip() for v in value.split(",") if v.strip()]


PRODUCTION = env("PANCAKE_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)
TESTING = env_bool("PANCAKE_TESTING", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when PANCAKE_ENV=production")
    SECRET_KEY = "dev-insecure-" + "pancake-development-secret-key-change-me-in-production"

BASE_URL = (env("BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
_base = urlsplit(BASE_URL)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    [_base.hostname or "127.0.0.1"]
    + ([] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]),
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_base.scheme}://{_base.netloc}"])
PLATFORM_NAME = env("PLATFORM_NAME", "Pancake")
# The platform's terms and privacy policy, linked from every checkout; empty: the built-in pages.
PLATFORM_TERMS_URL = env("PLATFORM_TERMS_URL", "")
PLATFORM_PRIVACY_URL = env("PLATFORM_PRIVACY_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "auditlog",
    "pancake",
    "stores",
    "products",
    "checkout",
    "billing",
    "portal",
]

MIDDLEWARE = [
    "pancake.api.middleware.ApiEnvelopeMiddleware",
    # Action calls go straight to their view from here, past the middlewares that do nothing
    # for them (sessions, CSRF, auth, messages, allauth, WhiteNoise); see its docstring.
    "pancake.api.middleware.DirectActionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The known-device check of every sign-in path (django.contrib.auth.login's signal).
    "stores.middleware.KnownDeviceMiddleware",
    # Who changed what, and from where, for the audit trail (pancake/audit.py).
    "pancake.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

if PRODUCTION:
    MIDDLEWARE.insert(3, "whitenoise.middleware.WhiteNoiseMiddleware")

# The audit trail (pancake/audit.py, docs/audit.md): before and after as JSON values.
AUDITLOG_STORE_JSON_CHANGES = True

ROOT_URLCONF = "pancake.urls"
WSGI_APPLICATION = "pancake.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "stores.context_processors.dashboard",
                "billing.context_processors.live_payments",
            ],
            "builtins": ["pancake.templatetags.money"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'pancake.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=PRODUCTION,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server (no client-side quoting of values into SQL text). The hot
    # point reads and single-row writes (pancake/api/prepared.py) are prepared on the server and
    # may run on a generic plan. Every other statement is planned for its values each time: a
    # generic plan for "this store's newest orders" walks every store's orders when the store is
    # small. DB_PREPARE_THRESHOLD=N prepares any statement after N runs too, DB_PLAN_CACHE_MODE
    # sets PostgreSQL's plan_cache_mode. Turn it all off behind a pooler in transaction mode that
    # cannot keep prepared statements (PgBouncer < 1.21).
    # (psycopg prepares nothing at all with a threshold of None: a threshold never reached
    # leaves the choice to each execute(prepare=True).)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": env_int("DB_PREPARE_THRESHOLD", 2**31)}
    )
    _plan_cache_mode = env("DB_PLAN_CACHE_MODE", "")
    if _plan_cache_mode:
        if _plan_cache_mode not in ("auto", "force_custom_plan", "force_generic_plan"):
            raise ImproperlyConfigured(f"DB_PLAN_CACHE_MODE: unknown mode {_plan_cache_mode!r}")
        DATABASES["default"]["OPTIONS"]["options"] = f"-c plan_cache_mode={_plan_cache_mode}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several requests may write at once (idempotency rows, the dev server's threads).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "stores.Merchant"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Without this, Celery's Django fixup closes the database connection before and after every task:
# a new PostgreSQL connection per task (a third of a webhook delivery's cost). With it, the fixup
# closes them only every 1000 tasks, and pancake/celery.py keeps connections the way requests do
# (CONN_MAX_AGE, DB_CONN_MAX_AGE; health checks in production).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Invoice PDFs are CPU work (WeasyPrint, tens of milliseconds each): they have a queue of their
# own, so a burst of renewals' invoices never holds up renewals, webhooks or emails. Run a worker
# for it (docs/operations.md: ``-Q documents``).
INVOICE_QUEUE = env("INVOICE_QUEUE", "documents")
CELERY_TASK_ROUTES = {
    "billing.tasks.render_invoices": {"queue": INVOICE_QUEUE},
    "billing.tasks.render_unrendered_invoices": {"queue": INVOICE_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-keys": {
        "task": "pancake.tasks.purge_expired_idempotency_keys",
        "schedule": 3600.0,
    },
    "purge-buyer-sessions": {
        "task": "stores.tasks.purge_expired_buyer_sessions",
        "schedule": 3600.0,
    },
    "purge-portal-sessions": {"task": "portal.tasks.purge_portal_sessions", "schedule": 3600.0},
    # Events a lost message or a crashed worker left undispatched, and webhook retries that are
    # due (or whose worker's lease ran out).
    "sweep-outbox": {"task": "pancake.tasks.sweep_outbox", "schedule": 15.0},
    "sweep-webhooks": {"task": "billing.tasks.sweep_webhooks", "schedule": 15.0},
    # Subscriptions with a step due: renewals, dunning retries, trial ends, period ends.
    "renew-subscriptions": {"task": "billing.tasks.renew_subscriptions", "schedule": 30.0},
    # Invoice and credit-note PDFs whose task was lost (a broker outage, a crashed worker).
    "render-invoices": {"task": "billing.tasks.render_unrendered_invoices", "schedule": 300.0},
    # Refunds a lost message, a crash or a provider that did not answer left unfinished.
    "sweep-refunds": {"task": "billing.tasks.sweep_refunds", "schedule": 60.0},
    # Exchange rates for the merchant's figures in one currency (docs/analytics.md).
    "refresh-exchange-rates": {"task": "billing.tasks.refresh_exchange_rates", "schedule": 86400.0},
    # The figures' daily rollups: seal finished days, redo days a late write touched.
    "roll-up-analytics": {"task": "billing.tasks.roll_up_analytics", "schedule": 900.0},
}

# Exchange rates (billing/rates.py, docs/analytics.md): the source of the daily euro reference rates
# (the ECB's XML; a file:// URL works too) and how long a fetched rate is quoted as valid.
EXCHANGE_RATES_URL = env(
    "EXCHANGE_RATES_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)
EXCHANGE_RATES_MAX_AGE = timedelta(hours=env_int("EXCHANGE_RATES_MAX_AGE_HOURS", 48))

# Finance (docs/dashboard-customers-finance.md): how many days a charge's net stays pending before
# it counts as available for a payout.
PAYOUT_HOLD_DAYS = env_int("PAYOUT_HOLD_DAYS", 7)

# Refunds (docs/refunds.md): how long a refund may stay pending or processing before the sweep
# sends it to the provider again (with the same idempotency key).
REFUND_SWEEP_AFTER = timedelta(seconds=env_int("REFUND_SWEEP_AFTER_SECONDS", 120))

# Subscriptions (docs/subscriptions.md): days after a failed renewal on which it is tried again
# (then the subscription is canceled), and how many days ahead the trial-ending and
# upcoming-charge emails go out.
SUBSCRIPTION_RETRY_DAYS = [
    int(day) for day in env("SUBSCRIPTION_RETRY_DAYS", "1,3,7").split(",") if day.strip()
]
SUBSCRIPTION_REMINDER_DAYS = env_int("SUBSCRIPTION_REMINDER_DAYS", 3)
# Where the subscription emails send a buyer to update their card or manage the subscription: a
# dotted path to a callable taking the order and returning a URL (the customer portal's). Unset,
# the emails ask the buyer to contact the store (billing.subscriptions.emails).
SUBSCRIPTION_MANAGE_URL = "portal.links.manage_subscription_url"
# The same for the receipts' link to the customer portal (billing.emails.customer_portal_url).
CUSTOMER_PORTAL_URL = "portal.links.order_portal_url"

# The platform's fee on each charge (billing/fees.py, docs/invoices.md): a percentage plus a
# fixed part in the currency's major unit, never more than the charge.
PLATFORM_FEE_PERCENT = env("PLATFORM_FEE_PERCENT", "5")
PLATFORM_FEE_FIXED = env("PLATFORM_FEE_FIXED", "0.50")
# Invoices and credit notes (docs/invoices.md): test-mode documents' numbers start with this
# prefix (their sequences are apart from production's anyway), and how long a buyer's signed
# download link stays valid.
INVOICE_TEST_PREFIX = env("INVOICE_TEST_PREFIX", "TEST-")
INVOICE_LINK_MAX_AGE_DAYS = env_int("INVOICE_LINK_MAX_AGE_DAYS", 365)

# What happens to a committed transaction's events, in this order (pancake.outbox): the order
# emails and the subscription emails are queued, then the webhook fan-out makes the deliveries
# and marks the events dispatched.
OUTBOX_CONSUMERS = [
    "billing.tasks.queue_order_emails",
    "billing.tasks.queue_subscription_emails",
    "billing.tasks.queue_refund_emails",
    "billing.tasks.queue_dispute_emails",
    "stores.notifications.consume",
    "billing.webhooks.fanout.consume",
]

# Webhooks (docs/webhooks.md). Loopback receivers are always allowed in test; this allows them
# (over http) in prod too, for development. Private networks only for on-premises receivers.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Operator-managed signing keys (PEM, unencrypted); without them a key pair per environment is
# made on first use and kept in the database, encrypted with a key derived from SECRET_KEY.
WEBHOOK_PRIVATE_KEY_FILE_TEST = env("WEBHOOK_PRIVATE_KEY_FILE_TEST", "")
WEBHOOK_PRIVATE_KEY_FILE_PROD = env("WEBHOOK_PRIVATE_KEY_FILE_PROD", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Email -----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Pancake <no-reply@pancake.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# --- Merchant sign-in (django-allauth) -----------------------------------------------------------
SITE_ID = 1
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "stores.auth.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_ADAPTER = "stores.auth.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS: dict = {}
for _provider in ("google", "github"):
    _client_id = env(f"{_provider.upper()}_CLIENT_ID")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [
                {
                    "client_id": _client_id,
                    "secret": env(f"{_provider.upper()}_CLIENT_SECRET", ""),
                    "key": "",
                }
            ],
            "SCOPE": ["email"] if _provider == "github" else ["profile", "email"],
        }
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60
MAGIC_LINK_RATE_PER_HOUR = env_int("MAGIC_LINK_RATE_PER_HOUR", 10)
# The customer portal (docs/portal.md): its sign-in links live as long as the dashboard's, its
# sessions slide (30 minutes from the last request), and sign-in requests are capped per email
# and per IP address, per hour.
PORTAL_SESSION_IDLE_SECONDS = 30 * 60
PORTAL_SIGN_IN_RATE_PER_EMAIL = env_int("PORTAL_SIGN_IN_RATE_PER_EMAIL", 5)
PORTAL_SIGN_IN_RATE_PER_IP = env_int("PORTAL_SIGN_IN_RATE_PER_IP", 30)

# --- API -----------------------------------------------------------------------------------------
# GraphQL. Served by pancake.graphql.views, not graphene-django's view; the setting
# lets `manage.py graphql_schema --out docs/schema.graphql` print the committed schema.
GRAPHENE = {"SCHEMA": "pancake.graphql.schema.schema"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "pancake.api.envelope.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pancake action API",
    "DESCRIPTION": (
        "Signed, idempotent actions: every write is POST /v1/actions/{domain}/{action}. "
        "Reads go through POST /v1/graphql."
    ),
    "VERSION": "2026-09-23",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Security schemes and POST /v1/graphql (pancake/api/openapi.py), after the enum names.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pancake.api.openapi.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "StoreStatusEnum": ["active", "inactive", "suspended"],
        "ProductStatusEnum": ["active", "inactive"],
        "MemberRoleEnum": ["admin", "member"],
    },
}
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2_621_440)
API_SIGNATURE_MAX_AGE_SECONDS = 300
API_SIGNATURE_MAX_FUTURE_SECONDS = 60
API_JWT_MAX_LIFETIME_SECONDS = 15 * 60
API_IDEMPOTENCY_TTL_SECONDS = 24 * 3600
API_IDEMPOTENCY_STALE_SECONDS = 10 * 60
BUYER_SESSION_TTL_SECONDS = 5 * 60
BUYER_SESSION_MAX_SECONDS = 60 * 60
# Token buckets, (requests, per seconds, burst): per credential (a merchant's API keys and JWTs
# together; Merchant.api_rate_limit overrides the rate for one merchant), and in addition per
# client IP for the public store-slug actions and purchase links (pancake.api.ratelimit).
API_RATE_LIMIT = (
    env_int("API_RATE_LIMIT", 100),
    env_int("API_RATE_WINDOW", 1),
    env_int("API_RATE_BURST", 200),
)
API_PUBLIC_RATE_LIMIT = (
    env_int("API_PUBLIC_RATE_LIMIT", 120),
    env_int("API_PUBLIC_RATE_WINDOW", 60),
    env_int("API_PUBLIC_RATE_BURST", 120),
)
MAX_STORES_PER_MERCHANT = 20
# The built-in test processor hands its signed notifications to the same receiver a provider's
# webhook reaches (billing.services.notification_receive).
TEST_PROCESSOR_NOTIFICATION_HANDLER = "billing.services.test_processor_notification_receive"

# Payment providers per environment (billing.providers.get_provider): "test_processor" (the
# built-in one) or "stripe". Test defaults to the test processor; prod has none until one is set,
# and then refuses orders with a 502 rather than faking payments. "stripe" needs the keys below
# (manage.py check says which are missing). docs/stripe.md.
PAYMENT_PROVIDER_TEST = env("PAYMENT_PROVIDER_TEST", "test_processor")
PAYMENT_PROVIDER_PROD = env("PAYMENT_PROVIDER_PROD", "")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
# Where the Stripe API and Stripe.js are (tests: localstripe); empty: Stripe's own.
STRIPE_API_BASE = (env("STRIPE_API_BASE", "") or "").rstrip("/")
STRIPE_JS_URL = env("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # 4xx answers are the caller's business (and a flood under attack); 5xx are still logged.
        "django.request": {"level": "ERROR"},
        # The stripe library logs every request at INFO; its warnings and errors still show.
        "stripe": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF (invoices) at INFO; its warnings still show.
        "weasyprint": {"level": "WARNING"},
    },
}

# --- Production hardening ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the API-key page reads it for its fetch()
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The request header in which the proxy in front of Pancake names the client's country from its
# IP address (Cloudflare: CF-IPCountry; nginx with GeoIP2: whatever it sets). Empty: no IP country.
# The hosted checkout records it in each order's tax evidence and refuses sanctioned countries.
IP_COUNTRY_HEADER = env("IP_COUNTRY_HEADER", "") or ""
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if env_bool("BEHIND_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
