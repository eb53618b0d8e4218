"""localstripe for the tests: ``LocalStripe.start()`` runs the fake Stripe server
(``tests/localstripe_server.py``: localstripe with the few behaviours of Stripe it lacks) as a
subprocess on a free port, waits until it answers, and ``stop()`` ends it. No network: the
server is the ``localstripe`` package of the dev extra, on 127.0.0.1.

Tests use the fixtures of ``tests/conftest.py``: ``localstripe`` (session-wide, started on first
use) and ``stripe_settings``, which points the Stripe provider at it (keys, ``STRIPE_API_BASE``,
``STRIPE_JS_URL``: localstripe's fake Stripe.js at ``/js.stripe.com/v3/``). Browser tests use
the same two fixtures; ``LocalStripe.register_webhook(live_server.url +
"/providers/stripe/webhook")`` has localstripe post its signed events to a live server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

SERVER_SCRIPT = Path(__file__).with_name("localstripe_server.py")
SECRET_KEY = "sk_test_pancake_localstripe_0123456789"
PUBLISHABLE_KEY = "pk_test_pancake_localstripe_0123456789"
WEBHOOK_SECRET = "whsec_pancake_localstripe_0123456789"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStripe:
    port: int
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    log: object | None = None
    webhooks: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    @classmethod
    def start(cls, log_dir: Path, timeout: float = 30.0) -> LocalStripe:
        port = free_port()
        log_path = Path(log_dir) / f"localstripe-{port}.log"
        log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-P", str(SERVER_SCRIPT), "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        server = cls(port=port, process=process, log_path=log_path, log=log)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {log_path.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(server.js_url, timeout=1).close()  # noqa: S310
                return server
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def _post(self, path: str, data: dict | None = None, method: str = "POST") -> None:
        body = urlencode(data or {}, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET, name: str = "pancake"):
        """Have localstripe POST its events, signed with ``secret``, to ``url`` (it sends each
        about a second after the change)."""
        self._post(f"/_config/webhooks/{name}", {"url": url, "secret": secret})
        self.webhooks.append(name)

    def flush(self) -> None:
        """Forget every object (customers, intents, charges)."""
        self._post("/_config/data", method="DELETE")
