"""One owner per table: an app writes another app's rows only by calling that app's services.

Read statically from the source: in every module of an app, a write through another app's model
manager (``Order.objects.create(...)``, ``Payment.objects.filter(...).update(...)``, a row lock
with ``select_for_update``) is refused. Reads of other apps' models stay allowed. Writes through
an instance or a related manager can't be told apart by reading the code; reviews catch those.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("pancake", "stores", "products", "checkout", "billing", "portal")
WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "select_for_update",
        "raw",
    }
)


def _modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _foreign_models(tree: ast.AST, app: str) -> dict[str, str]:
    """Names bound by ``from <other app>.models import X``: name -> owning app."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            owner, _, rest = node.module.partition(".")
            if owner in APPS and owner != app and rest == "models":
                for alias in node.names:
                    found[alias.asname or alias.name] = owner
    return found


def _manager_root(node: ast.AST) -> str | None:
    """``X`` for a chain ``X.objects.<…>``, else None."""
    while isinstance(node, ast.Call | ast.Attribute):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
        ):
            return node.value.id
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def foreign_writes(app: str) -> list[str]:
    problems = []
    for path in _modules(app):
        tree = ast.parse(path.read_text(), filename=str(path))
        foreign = _foreign_models(tree, app)
        if not foreign:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in WRITES:
                continue
            root = _manager_root(node.func.value)
            if root in foreign:
                where = path.relative_to(ROOT)
                problems.append(
                    f"{where}:{node.lineno} writes {foreign[root]}'s {root} ({node.func.attr})"
                )
    return problems


@pytest.mark.parametrize("app", APPS)
def test_no_app_writes_another_apps_rows_through_its_manager(app):
    assert foreign_writes(app) == []


def test_the_check_finds_a_foreign_write(tmp_path, monkeypatch):
    """The check itself: a module of billing updating checkout's orders is reported."""
    app = tmp_path / "billing"
    app.mkdir()
    (app / "bad.py").write_text(
        "from checkout.models import Order\n"
        "from billing.models import Payment\n\n"
        "def f():\n"
        "    Order.objects.filter(pk=1).update(status='paid')\n"
        "    Payment.objects.filter(pk=1).update(status='paid')\n"
        "    Order.objects.filter(pk=1).first()\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert foreign_writes("billing") == ["billing/bad.py:5 writes checkout's Order (update)"]
