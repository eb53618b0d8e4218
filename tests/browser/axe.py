"""axe-core inside the browser tests: ``assert_accessible(page)`` runs axe on the page as it is
and fails with every serious or critical violation it reports.

axe-core is installed from npm once into a scratch directory (``.cache/axe`` in the repo, or
``PANCAKE_AXE_DIR``), like the SDK of the interop tests. A page never fetches it: the browser
context answers one same-origin URL with the installed ``axe.min.js`` (``context.route``), and
``page.add_script_tag`` loads it from there, so the page's own Content-Security-Policy
(``script-src 'self'``, no inline scripts) stays in force while axe runs. Any page of the live
server can be checked this way: the checkout's, the test processor's, the dashboard's or the
portal's.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from functools import cache
from pathlib import Path

AXE_PACKAGE = "axe-core@4.14.1"
AXE_URL_PATH = "/__axe-core__/axe.min.js"  # answered by the browser context, never the server
BLOCKING = ("serious", "critical")
ROOT = Path(__file__).resolve().parent.parent.parent


def axe_dir() -> Path:
    directory = Path(os.environ.get("PANCAKE_AXE_DIR", ROOT / ".cache" / "axe"))
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / "node_modules" / "axe-core" / "package.json"
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several xdist workers may get here at once
        if not marker.exists():
            (directory / "package.json").write_text('{"name":"pancake-axe","private":true}\n')
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", AXE_PACKAGE],
                cwd=directory,
                check=True,
                timeout=300,
            )
        version = json.loads(marker.read_text())["version"]
        assert version == AXE_PACKAGE.split("@")[1], version
    return directory


@cache
def axe_source() -> str:
    return (axe_dir() / "node_modules" / "axe-core" / "axe.min.js").read_text()


def _serve_axe(context) -> None:
    """Answer ``AXE_URL_PATH`` on any origin of this context with axe's source, once."""
    if getattr(context, "_pancake_axe", False):
        return
    context.route(
        f"**{AXE_URL_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_source()),
    )
    context._pancake_axe = True


def axe_violations(page, impacts=BLOCKING) -> list[dict]:
    """axe's violations of ``impacts`` on the page as it is now (every rule axe runs by default:
    WCAG 2.x A and AA, and its best practices)."""
    _serve_axe(page.context)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL_PATH)
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({
              target: n.target.join(" "), html: n.html, summary: n.failureSummary,
            })),
          }));
        }"""
    )
    return [v for v in results if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({v['help']})")
        for node in v["nodes"]:
            lines.append(f"  {node['target']}: {node['html'][:160]}")
            lines.append("    " + (node["summary"] or "").replace("\n", "\n    "))
    return "\n".join(lines)


def assert_accessible(page, label: str = "") -> None:
    """No serious or critical axe violation on the page as it is now."""
    violations = axe_violations(page)
    where = f"{label} ({page.url})" if label else page.url
    assert not violations, f"axe on {where}:\n{describe(violations)}"
