"""PostgreSQL connections bind parameters server-side, prepare statements they run often and keep
custom plans (pancake/settings.py, DB_PREPARED_STATEMENTS, DB_PREPARE_THRESHOLD,
DB_PLAN_CACHE_MODE)."""

import json
import subprocess
import sys

from django.db import connection

from tests.test_settings import ROOT, production_env

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


def test_a_live_connection_prepares_statements_with_custom_plans(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_custom_plan",)
        raw = cursor.cursor
    assert type(raw).__name__ == "ServerBindingCursor"
    assert connection.connection.prepare_threshold == 5


def test_the_options_follow_the_environment():
    result = _options()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c plan_cache_mode=force_custom_plan",
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
