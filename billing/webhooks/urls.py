"""Which URLs may receive webhooks: http(s) only; in prod only https and no
private, loopback, link-local or otherwise non-public addresses. ``WEBHOOK_ALLOW_LOOPBACK`` lets a
developer (and the tests) receive on 127.0.0.1 in any environment; the test environment always
allows http and loopback. Checked when an endpoint is saved and again, after resolving the host,
right before each delivery."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from pancake.api.errors import InvalidInput


class UnsafeDestination(Exception):
    """The URL points somewhere webhooks must not go."""


def _allow_loopback(environment: str) -> bool:
    return environment == "test" or bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False))


def _check_address(ip, environment: str) -> None:
    """Loopback: in test, or with WEBHOOK_ALLOW_LOOPBACK. Private networks: only with
    WEBHOOK_ALLOW_PRIVATE (an on-premises deployment). Link-local (cloud metadata services),
    multicast, unspecified and reserved addresses: never."""
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        if _allow_loopback(environment):
            return
        raise UnsafeDestination("loopback addresses cannot receive webhooks")
    if ip.is_link_local:
        raise UnsafeDestination("link-local addresses cannot receive webhooks")
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        raise UnsafeDestination("this address cannot receive webhooks")
    if ip.is_private and not getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False):
        raise UnsafeDestination("private addresses cannot receive webhooks")


def _https_required(environment: str, host: str | None) -> bool:
    """Production needs https, except to loopback when WEBHOOK_ALLOW_LOOPBACK is on."""
    if environment != "prod":
        return False
    if getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False) and _is_loopback_name(host or ""):
        return False
    return True


def _is_loopback_name(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"Invalid {field}: {reason}", layer="store", field=field)


def check_url(url: object, environment: str, *, field: str = "url") -> str:
    """The URL if it may be saved for ``environment``; 400 naming the reason (and ``field``, the
    input the URL came in) otherwise. Host names are judged when resolved at delivery; literal
    addresses are judged now."""
    if not isinstance(url, str) or len(url) > 2000 or not url.strip():
        raise InvalidInput(f"Invalid {field}: expected an http(s) URL", layer="store", field=field)
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(field, "only http(s) URLs can receive webhooks")
    if scheme != "https" and _https_required(environment, parts.hostname):
        raise _refuse(field, "production webhooks need https")
    if parts.username or parts.password:
        raise _refuse(field, "credentials in the URL are not allowed")
    host = parts.hostname
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if _is_loopback_name(host):
            ip = ipaddress.ip_address("127.0.0.1")
        else:
            return url
    try:
        _check_address(ip, environment)
    except UnsafeDestination as exc:
        raise _refuse(field, str(exc)) from None
    return url


def resolve_checked(url: str, environment: str) -> str:
    """Resolve the URL's host, check every address it has (raises UnsafeDestination) and return
    the one to connect to: the caller connects to that address itself, so a name that resolves
    elsewhere a moment later (DNS rebinding) cannot take the request past the check."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeDestination("only http(s) URLs can receive webhooks")
    if scheme != "https" and _https_required(environment, parts.hostname):
        raise UnsafeDestination("only https URLs can receive production webhooks")
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"cannot resolve {parts.hostname}: {exc}") from None
    if not infos:
        raise UnsafeDestination(f"cannot resolve {parts.hostname}: no address")
    for info in infos:
        _check_address(ipaddress.ip_address(info[4][0]), environment)
    return infos[0][4][0]
