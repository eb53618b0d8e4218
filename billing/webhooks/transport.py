"""The HTTP POST of one attempt, with urllib3: to the address the SSRF check judged (the name is
not resolved a second time), over a keep-alive pool per receiver address and worker thread, TLS
verified against the URL's name; the answer is the status code and the first SNIPPET bytes of
the body. Nothing here touches the database."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

from billing.models import WebhookDelivery
from billing.webhooks import channels, urls

SNIPPET = 1000
DRAIN = 64 * 1024  # read at most this much more of a response to keep its connection
POOLS_PER_THREAD = 64

_local = threading.local()  # each worker thread's pools (``_pool``)


def timeout_seconds() -> float:
    """How long an attempt waits for the receiver's answer (WEBHOOK_TIMEOUT_SECONDS)."""
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def _ca_bundle() -> dict:
    """TLS is verified as requests did: against REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) when
    set, else certifi's bundle."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    bundle = bundle or certifi.where()
    return {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}


def _pool(url: str, address: str):
    """(connection pool, request target, Host header) for POSTing ``url`` to ``address``, the
    address the SSRF check just judged. The pool connects to that address itself: no second
    resolution of the name (DNS rebinding), no proxy from the environment (which would make the
    check moot), no ~/.netrc credentials; the name still goes in Host, in TLS SNI and in the
    certificate check. urllib3 itself, not requests: a third of the client's CPU per POST.

    One pool per (scheme, address, port, name) and worker thread, the least recently used
    closed beyond POOLS_PER_THREAD: receivers' keep-alive connections are reused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    key = (scheme, address, port, parts.hostname)
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = OrderedDict()
    pool = pools.get(key)
    if pool is None:
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                maxsize=1,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                server_hostname=parts.hostname,
                assert_hostname=parts.hostname,
                **_ca_bundle(),
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, maxsize=1, retries=False)
        pools[key] = pool
        if len(pools) > POOLS_PER_THREAD:
            pools.popitem(last=False)[1].close()
    else:
        pools.move_to_end(key)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return pool, target, parts.netloc.rpartition("@")[2]


def _read_snippet(response) -> str:
    """The first SNIPPET bytes of the body. The rest is drained (at most DRAIN bytes, within the
    timeout) so the connection can be reused; otherwise, or on any error, it is closed. The
    status code is the answer: a body that breaks off changes nothing."""
    deadline = time.monotonic() + timeout_seconds()
    head = b""
    try:
        head = response.read(SNIPPET, decode_content=True) or b""
        drained = 0
        while drained <= DRAIN and time.monotonic() < deadline:
            chunk = response.read(16 * 1024, decode_content=True)
            if not chunk:
                response.release_conn()
                break
            drained += len(chunk)
        else:
            response.close()
    except Exception:  # noqa: BLE001 - a broken body: the connection goes, the status stands
        response.close()
    return head.decode("utf-8", "replace")[:SNIPPET]


def post(delivery: WebhookDelivery) -> dict:
    """POST one claimed delivery; what came back: ``status_code`` (None without an answer),
    ``snippet``, ``error``, ``signed_at`` and ``duration_ms``."""
    started = time.monotonic()
    result = {"status_code": None, "snippet": "", "error": "", "signed_at": None}
    try:
        address = urls.resolve_checked(delivery.url, delivery.environment)
        body, headers, result["signed_at"] = channels.request_for(delivery)
        pool, target, host = _pool(delivery.url, address)
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host},
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=min(5.0, timeout_seconds()), read=timeout_seconds()),
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            result["status_code"] = response.status
            result["snippet"] = _read_snippet(response)
        finally:
            response.release_conn()  # a no-op once the connection went back to the pool
    except urls.UnsafeDestination as exc:
        result["error"] = f"Refused destination: {exc}"
    except urllib3.exceptions.TimeoutError:
        result["error"] = f"No answer within {timeout_seconds():g} s"
    except urllib3.exceptions.HTTPError as exc:
        result["error"] = f"Connection failed: {_failure_name(exc)}"
    result["duration_ms"] = int((time.monotonic() - started) * 1000)
    return result


def _failure_name(exc: Exception) -> str:
    """The names the attempt log has always shown (requests' exception classes)."""
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "SSLError"
    if isinstance(exc, urllib3.exceptions.LocationValueError):
        return "InvalidURL"
    return "ConnectionError"
