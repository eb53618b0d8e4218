"""Instructions per request, counted by valgrind's callgrind: a figure that does not move with the
machine's other load, to compare variants of the code where requests/s would be noise.

    python bench/callgrind.py [--requests 20] [--orders 100000] [--reuse] SCENARIO ...

Scenarios (each in a process of its own, under ``valgrind --tool=callgrind``):

- ``bare``: the bare yardstick (bench/yardstick: a minimal Django + DRF project as startproject
  and DRF's defaults make it) answering one signed write; ``bare-stripped``: the same without
  the contrib apps, middleware and DRF defaults;
- ``yardstick``: the in-project yardstick (bench/yardstick_urls.py);
- ``checkout``: checkout/create-session then onetime-order/create-order (a pair);
- ``nested``: bench_graphql.QUERY, 100 orders with payments, product and store;
- ``sdk``: bench_graphql.SDK_QUERY, the SDK guide's orders document, 100 rows.

Each request goes through the production WSGI application (``pancake.wsgi`` with
bench.settings_bench, or the yardstick's), in-process, against PostgreSQL seeded once (--orders
orders for one merchant, as bench_graphql.py seeds them; a second merchant and store for
checkout, so that checkout's new orders never enter the GraphQL lists). After a few warm-up
requests, callgrind counts only the calls into the application: building a request and signing
it (the client's work) is not counted; PostgreSQL's work is another process and is not counted
either (bench_checkout.py and bench_graphql.py report its CPU). Prints one JSON object: per
scenario, instructions per request (a checkout pair counts two requests) and the status codes
seen.

The database (``pancake_bench_callgrind`` and ``…_bare``) is kept between runs with --reuse, so
that variants of the code are measured on the same rows. Needs valgrind, gcc and valgrind's
headers (the client request that switches counting on and off), PostgreSQL on 127.0.0.1:5432 and
Redis on 127.0.0.1:6379 (database 6).

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import hashlib
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare  # noqa: E402
import bench_actions as base  # noqa: E402

ROOT = base.ROOT
DB = "pancake_bench_callgrind"
BARE_DB = f"{DB}_bare"
STATE = Path(tempfile.gettempdir()) / f"{DB}.json"
ENV = {
    **base.ENV,
    "DATABASE_URL": bare.database_url(DB),
    "REDIS_URL": "redis://127.0.0.1:6379/6",
    "PYTHONHASHSEED": "0",
}
SETTINGS = "bench.settings_bench"
SCENARIOS = ("bare", "bare-stripped", "yardstick", "checkout", "nested", "sdk")
WARM = 5

HELPER = r"""
#include <valgrind/callgrind.h>
void pancake_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void pancake_cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def _helper() -> ctypes.CDLL:
    """The two callgrind client requests, as a shared library (compiled once)."""
    digest = hashlib.sha256(HELPER.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"pancake-callgrind-{os.getuid()}-{digest}.so"
    if not path.exists():
        source = path.with_suffix(".c")
        source.write_text(HELPER)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(path), str(source)], check=True)
    return ctypes.CDLL(str(path))


# --- seeding (natively, in the parent) -----------------------------------------------------------


def _private_pem(key) -> str:

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def seed(orders: int) -> dict:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    env = {**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": SETTINGS}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    # Imported here: Django is set up for this database first (and bench_graphql sets its own
    # database and port when imported; its seed() keeps the settings already loaded).
    import django

    django.setup()
    import bench_graphql
    from django.db import connection

    from pancake.api import ids
    from products.services import product_create
    from stores import services
    from tests.factories import make_api_key

    key, merchant_id, _seconds, _small, store_id = bench_graphql.seed(orders)
    checkout_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    buyer_merchant, _ = services.merchant_get_or_create(email="checkout@example.com")
    make_api_key(buyer_merchant, checkout_key)
    store = services.store_create(merchant=buyer_merchant, name="Checkout Store")
    product = product_create(
        store=store,
        kind="onetime",
        name="Bench E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "saas"}},
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    bare.setup(BARE_DB, ids.parse_id(merchant_id, "MER"), public.decode())
    state = {
        "orders": orders,
        "key": _private_pem(key),
        "merchant_id": merchant_id,
        "store_id": store_id,
        "checkout_key": _private_pem(checkout_key),
        "checkout_merchant_id": ids.encode("MER", buyer_merchant.pk),
        "product_id": ids.encode("PROD", product.pk),
    }
    STATE.write_text(json.dumps(state))
    return state


def _database_exists(name: str) -> bool:
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
    )
    return name in result.stdout.split()


# --- measuring (in the child, under callgrind) ---------------------------------------------------


class Caller:
    """Calls the WSGI application as gunicorn does, with requests signed like the SDK's."""

    def __init__(self, application, key_pem: str, merchant_id: str):

        self.application = application
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        self.signer = base.Signer(key, merchant_id)

    def environ(self, path: str, body: bytes) -> dict:
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in self.signer.headers(path, body).items():
            if name != "Content-Type":
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ

    def call(self, environ: dict, toggle=None) -> tuple[str, bytes]:
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(line)

        if toggle:
            toggle()
        response = self.application(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            close = getattr(response, "close", None)
            if close:
                close()
        if toggle:
            toggle()
        return status[0].split()[0], content


def _child(scenario: str, requests: int) -> None:
    state = json.loads(STATE.read_text())
    helper = _helper() if os.environ.get("PANCAKE_CALLGRIND") else None
    if scenario.startswith("bare"):
        os.environ.update(bare.environment(BARE_DB))
        os.environ["BARE_STRIPPED"] = "1" if scenario == "bare-stripped" else "0"
        from bench.yardstick.wsgi import application
    else:
        os.environ.update({**ENV, "DJANGO_SETTINGS_MODULE": SETTINGS})
        from pancake.wsgi import application
    import bench_checkout
    import bench_graphql

    if scenario == "checkout":
        caller = Caller(application, state["checkout_key"], state["checkout_merchant_id"])
    else:
        caller = Caller(application, state["key"], state["merchant_id"])

    def pair(n: int, toggle) -> list[str]:
        session_body = bench_checkout.session_body(state["product_id"])
        status, content = caller.call(
            caller.environ(bench_checkout.CREATE_SESSION, session_body), toggle
        )
        session_id = json.loads(content)["data"]["sessionId"]
        order_body = bench_checkout.order_body(session_id, n)
        order, _ = caller.call(caller.environ(bench_checkout.CREATE_ORDER, order_body), toggle)
        return [status, order]

    def single(path: str, body: bytes):
        def run(_n: int, toggle) -> list[str]:
            status, content = caller.call(caller.environ(path, body), toggle)
            if b'"errors"' in content:
                status = "graphql-errors"
            return [status]

        return run

    run = {
        "bare": single(bare.PATH, bare.BODY),
        "bare-stripped": single(bare.PATH, bare.BODY),
        "yardstick": single(bench_checkout.YARDSTICK, b'{"bench":true}'),
        "checkout": pair,
        "nested": single(bench_graphql.GRAPHQL, bench_graphql.BODY),
        "sdk": single(bench_graphql.GRAPHQL, bench_graphql.sdk_body(state["store_id"])),
    }[scenario]
    toggle = helper.pancake_cg_toggle if helper else None
    wrapped = os.environ.get("PANCAKE_CG_ONLY")
    if wrapped and toggle:
        # Count only inside these functions ("module:attribute,…"; they must not nest): what a
        # part of the request costs.
        import importlib

        measuring = [False]
        flip = toggle

        def counted(func):
            def call(*args, **kwargs):
                if not measuring[0]:
                    return func(*args, **kwargs)
                flip()
                try:
                    return func(*args, **kwargs)
                finally:
                    flip()

            return call

        for spec in wrapped.split(","):
            module_name, _, attribute = spec.partition(":")
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, name, counted(getattr(owner, name)))
    if helper:
        helper.pancake_cg_start()  # instrumented from here on; counted only inside toggles
    statuses: dict[str, int] = {}
    for n in range(WARM):
        for status in run(n, None):
            statuses[f"warm {status}"] = statuses.get(f"warm {status}", 0) + 1
    count = 0
    if wrapped and toggle:
        measuring[0] = True
        toggle = None
    profiler = None
    if os.environ.get("PANCAKE_PROFILE"):
        profiler = cProfile.Profile()
        profiler.enable()
    backend = _backend_pid()
    backend_cpu = _cpu_seconds(backend)
    process_cpu = time.process_time()
    started = time.perf_counter()
    for n in range(WARM, WARM + requests):
        for status in run(n, toggle):
            statuses[status] = statuses.get(status, 0) + 1
            count += 1
    seconds = time.perf_counter() - started
    process_cpu = time.process_time() - process_cpu
    backend_cpu = _cpu_seconds(backend) - backend_cpu if _backend_pid() == backend else None
    if profiler is not None:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats(os.environ["PANCAKE_PROFILE"]).print_stats(60)
    print(
        json.dumps(
            {
                "requests": count,
                "statuses": statuses,
                "seconds": round(seconds, 2),
                "process_cpu_ms_per_request": round(process_cpu * 1000 / max(count, 1), 3),
                # the PostgreSQL backend serving this process (None: the connection changed)
                "postgres_cpu_ms_per_request": (
                    None if backend_cpu is None else round(backend_cpu * 1000 / max(count, 1), 3)
                ),
            }
        )
    )


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a local process (a PostgreSQL backend), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(scenario: str, requests: int) -> dict:
    out = Path(tempfile.gettempdir()) / f"callgrind.pancake.{scenario}.{os.getpid()}"
    env = {**os.environ, "PANCAKE_CALLGRIND": "1", "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--collect-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            scenario,
            "--requests",
            str(requests),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"{scenario}: the child failed:\n{result.stderr[-4000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    text = out.read_text(errors="replace")
    out.unlink()
    match = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    instructions = int(match.group(1))
    per_request = instructions / max(report["requests"], 1)
    return {
        "scenario": scenario,
        "requests": report["requests"],
        "statuses": report["statuses"],
        "instructions_per_request": int(per_request),
        "M_instructions_per_request": round(per_request / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded databases")
    parser.add_argument(
        "--profile",
        metavar="SORT",
        help="no valgrind: run the scenarios natively under cProfile (sorted by SORT: tottime, "
        "cumulative, …; the table goes to stderr) and report wall-clock ms per request",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="no valgrind: run the scenarios natively and report, per request, wall-clock ms, "
        "this process's CPU ms and the CPU ms of the PostgreSQL backend serving it (/proc)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.requests)
        return
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        sys.exit(f"unknown scenarios: {sorted(unknown)}")
    reuse = args.reuse and STATE.exists() and _database_exists(DB) and _database_exists(BARE_DB)
    if reuse:
        reuse = json.loads(STATE.read_text()).get("orders") == args.orders
    if not reuse:
        seed(args.orders)
    if args.profile or args.native:
        for scenario in args.scenarios:
            env = {**os.environ, "PANCAKE_PROFILE": args.profile or "", "PYTHONHASHSEED": "0"}
            child = [sys.executable, str(Path(__file__).resolve()), "--child", scenario]
            result = subprocess.run(
                [*child, "--requests", str(args.requests)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            report = json.loads(result.stdout.strip().splitlines()[-1])
            ms = report["seconds"] * 1000 / max(report["requests"], 1)
            print(json.dumps({"scenario": scenario, **report, "ms_per_request": round(ms, 2)}))
        return
    _helper()
    results = [measure(s, args.requests) for s in args.scenarios]
    print(
        json.dumps(
            {
                "callgrind": results,
                "orders": args.orders,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "git": subprocess.run(
                    ["git", "describe", "--always", "--dirty"],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                ).stdout.strip(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
