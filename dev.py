#!/usr/bin/env python3.11
"""Run Pancake from a fresh clone with nothing but Python 3.11.

    python3.11 dev.py demo            # venv + install, migrate, demo data, runserver 127.0.0.1:8000
                                      # (and manage.py periodic: the beat's tasks, in-process)
    python3.11 dev.py test [ARGS]     # venv + install, browser, pytest (whole suite by default)
    python3.11 dev.py setup           # venv + install only

The virtualenv is ``.venv``; ``pip install -e '.[dev]'`` runs again only when pyproject.toml
(or the Python version) changed since the last install, tracked by a stamp file in the venv.
DATABASE_URL and REDIS_URL are taken from the environment (SQLite and in-process tasks if unset).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".pancake-install-stamp"
CHROMIUM = Path("/usr/bin/chromium")
ADDRESS = "127.0.0.1:8000"
USAGE = __doc__.split("\n\n")[1]


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def run(*cmd, **kwargs) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def ensure_python() -> None:
    """pyproject pins Python 3.11; re-run under python3.11 if started by another version."""
    if sys.version_info[:2] == (3, 11):
        return
    other = shutil.which("python3.11")
    if other and not os.environ.get("PANCAKE_DEV_REEXEC"):
        os.environ["PANCAKE_DEV_REEXEC"] = "1"
        os.execv(other, [other, __file__, *sys.argv[1:]])
    sys.exit(f"dev.py: Pancake needs Python 3.11 (this is {sys.version.split()[0]})")


def install_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def venv_works() -> bool:
    if not PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0 and probe.stdout.strip() == "(3, 11)"


def ensure_venv() -> None:
    if not venv_works():
        if VENV.exists():
            say(f"{VENV} is not a working Python 3.11 virtualenv; recreating it")
            shutil.rmtree(VENV)
        say(f"creating virtualenv {VENV}")
        run(sys.executable, "-m", "venv", VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == fingerprint:
        return
    say("installing Pancake and its dev dependencies (pip install -e '.[dev]')")
    quiet = ["--quiet"] if os.environ.get("CI") else []
    run(
        PYTHON,
        "-m",
        "pip",
        "install",
        *quiet,
        "--disable-pip-version-check",
        "-e",
        ".[dev]",
        cwd=ROOT,
    )
    STAMP.write_text(fingerprint + "\n")


def ensure_browser() -> bool:
    """Debian's chromium for the Playwright tests; installed with apt-get when we are root."""
    if CHROMIUM.exists():
        return True
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Debian's chromium for the browser tests (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            run("apt-get", "update", "-q", env=env, stdin=subprocess.DEVNULL)
            run("apt-get", "install", "-y", "-q", "chromium", env=env, stdin=subprocess.DEVNULL)
        except subprocess.CalledProcessError as exc:
            say(f"apt-get failed ({exc.returncode})")
    if CHROMIUM.exists():
        return True
    say(
        f"{CHROMIUM} is missing: browser tests will be skipped (they fail under "
        "PANCAKE_REQUIRE_BROWSER=1)"
    )
    return False


def manage(*args) -> None:
    run(PYTHON, "manage.py", *args, cwd=ROOT)


def cmd_demo(args: list[str]) -> int:
    ensure_venv()
    manage("migrate", "--noinput")
    manage("demo")
    address = args[0] if args else ADDRESS
    # No Celery beat in the first-run configuration: the periodic tasks (renewals, webhook
    # retries, the outbox sweep) run in a process of their own beside the server; Ctrl-C in this
    # terminal stops both (same process group).
    subprocess.Popen([str(PYTHON), "manage.py", "periodic"], cwd=ROOT)
    say(f"starting the development server at http://{address}/ (Ctrl-C stops it)")
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "manage.py", "runserver", address])
    return 0  # not reached


def xdist_args() -> list[str]:
    """Two workers (the machine has two cores); each gets its own test database."""
    if os.environ.get("PANCAKE_TEST_WORKERS") == "0":
        return []
    return ["-p", "xdist", "-n", os.environ.get("PANCAKE_TEST_WORKERS", "2")]


def cmd_test(args: list[str]) -> int:
    ensure_venv()
    ensure_browser()
    env = dict(os.environ)
    # Tasks run in-process in tests even when REDIS_URL (the cache) points at a real Redis.
    env.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    # --create-db: a test database left by an earlier (killed) run is rebuilt, never reused.
    cmd = [str(PYTHON), "-m", "pytest", "--create-db", *(args or xdist_args())]
    say(" ".join(cmd[2:]))
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if code == 5:
        say("pytest collected no tests: that is a failure")
        return 1
    return code


def cmd_setup(args: list[str]) -> int:
    ensure_venv()
    say(f"ready: {PYTHON}")
    return 0


COMMANDS = {"demo": cmd_demo, "test": cmd_test, "setup": cmd_setup}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(USAGE)
        return 2
    ensure_python()
    try:
        return COMMANDS[argv[0]](argv[1:])
    except subprocess.CalledProcessError as exc:
        say(f"failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
