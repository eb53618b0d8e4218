"""Run the official, unmodified @waffo/pancake-ts SDK from small Node scripts.

The SDK is installed from npm once into a scratch directory (``.cache/sdk`` in the repo, or
``PANCAKE_SDK_DIR``), then each test writes an ES module there and runs it with ``node``.
A script prints one JSON line last; ``run_node`` returns it parsed.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
from pathlib import Path

SDK_PACKAGE = "@waffo/pancake-ts@0.25.0"
ROOT = Path(__file__).resolve().parent.parent


def sdk_dir() -> Path:
    directory = Path(os.environ.get("PANCAKE_SDK_DIR", ROOT / ".cache" / "sdk"))
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / "node_modules" / "@waffo" / "pancake-ts" / "package.json"
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several xdist workers may get here at once
        if not marker.exists():
            (directory / "package.json").write_text(
                '{"name":"pancake-sdk-interop","private":true,"type":"module"}\n'
            )
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", SDK_PACKAGE],
                cwd=directory,
                check=True,
                timeout=300,
            )
        version = json.loads(marker.read_text())["version"]
        assert version == "0.25.0", version
    return directory


def run_node(script: str, env: dict | None = None, timeout: int = 60) -> dict:
    """Run an ES module next to the installed SDK; return the JSON of its last stdout line."""
    directory = sdk_dir()
    with tempfile.NamedTemporaryFile("w", suffix=".mjs", dir=directory, delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        result = subprocess.run(
            ["node", path],
            cwd=directory,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        os.unlink(path)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise AssertionError(
            f"node failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return json.loads(lines[-1])
