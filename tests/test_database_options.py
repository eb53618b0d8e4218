"""PostgreSQL connections bind parameters server-side; the hot statements of
pancake/api/prepared.py are prepared on the server, every other statement is planned for its
values each time (pancake/settings.py: DB_PREPARED_STATEMENTS, DB_PREPARE_THRESHOLD,
DB_PLAN_CACHE_MODE)."""

import json
import subprocess
import sys

from django.db import connection

from pancake.api import prepared
from stores.models import Store
from tests.helpers import ROOT, production_env

NEVER = 2**31

PRINT_OPTIONS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
)


def _options(**env) -> subprocess.CompletedProcess:
    environ = production_env(DATABASE_URL="postgres://pancake:secret@db.internal:5432/pancake")
    environ.update(DJANGO_SETTINGS_MODULE="pancake.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


STORE_BY_SLUG = prepared.PreparedSelect(lambda slug: Store.objects.filter(slug=slug)[:1])


def test_only_the_hot_statements_are_prepared_on_the_server(require_postgres, store):
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)
        assert type(cursor.cursor).__name__ == "ServerBindingCursor"
    assert connection.connection.prepare_threshold == NEVER
    for _ in range(3):
        assert STORE_BY_SLUG.first(store.slug).pk == store.pk
        assert list(Store.objects.filter(slug=store.slug).values_list("pk", flat=True)) == [
            store.pk
        ]
    statements = _prepared_statements()
    assert any('FROM "stores_store"' in s and "LIMIT 1" in s for s in statements), statements
    assert not any('FROM "stores_store"' in s and "LIMIT" not in s for s in statements)


def test_the_options_follow_the_environment():
    result = _options()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "server_side_binding": True,
        "prepare_threshold": NEVER,
    }
    result = _options(DB_PLAN_CACHE_MODE="auto", DB_PREPARE_THRESHOLD="2")
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "server_side_binding": True,
        "prepare_threshold": 2,
        "options": "-c plan_cache_mode=auto",
    }
    result = _options(DB_PREPARED_STATEMENTS="0")
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


def test_an_unknown_plan_cache_mode_is_refused():
    result = _options(DB_PLAN_CACHE_MODE="sometimes")
    assert result.returncode != 0
    assert "DB_PLAN_CACHE_MODE: unknown mode 'sometimes'" in result.stderr
