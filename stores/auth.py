"""Merchant sign-in: passwordless magic links (single use, 15 minutes, no account enumeration)
beside django-allauth's Google and GitHub providers."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from pancake.celery import registered
from stores.models import MagicLink, Merchant, normalize_email


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _is_local_path(url: str) -> bool:
    """A path on this site only: '/x' yes; '//evil', '/\\evil', 'https://evil' no."""
    return (
        bool(url)
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(url, allowed_hosts=set())
    )


def rate_take(bucket: str, limit: int, window: int = 3600) -> bool:
    """Count one more try in ``bucket`` (a cache counter living ``window`` seconds from its
    first try); False once ``limit`` tries were counted."""
    key = f"sign-in-rate:{_hash(bucket)}"
    cache.add(key, 0, timeout=window)
    try:
        taken = cache.incr(key)
    except ValueError:
        taken = 1
    return taken <= limit


def link_issue(
    *, email: str, max_age: int, next_url: str = "", store=None, environment: str = ""
) -> tuple[str, MagicLink]:
    """A new single-use sign-in link for ``email``: (the token, which only the link carries,
    and its row, which keeps the token's hash). A link with a ``store`` opens that store's
    customer portal in ``environment``; one without signs a merchant in to the dashboard."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = MagicLink.objects.create(
        email=normalize_email(email),
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=max_age),
        next_url=next_url,
        store=store,
        environment=environment,
    )
    return token, link


def link_claim(token: str, *, store=None) -> MagicLink | None:
    """Use a sign-in link: its row, or None if the link is unknown, used, expired or not for
    ``store`` (None: the dashboard's). The conditional UPDATE makes the link work exactly
    once."""
    now = timezone.now()
    with transaction.atomic():
        link = MagicLink.objects.select_for_update().filter(token_hash=_hash(token)).first()
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        if link.store_id != (store.pk if store is not None else None):
            return None
        claimed = MagicLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            return None
    link.used_at = now
    return link


def magic_link_request(*, email: str, next_url: str = "") -> None:
    """Email a sign-in link. The answer is the same whether or not the address has an account
    (the account is created when the link is used), and the rate is capped per address."""
    email = normalize_email(email)
    if not rate_take(f"magic-link:{email}", settings.MAGIC_LINK_RATE_PER_HOUR):
        return
    token, _link = link_issue(
        email=email,
        max_age=settings.MAGIC_LINK_MAX_AGE_SECONDS,
        next_url=next_url if _is_local_path(next_url) else "",
    )
    url = settings.BASE_URL + reverse("dashboard:magic-link", args=[token])
    send = registered("stores.tasks.send_magic_link")
    transaction.on_commit(lambda: send.delay(email, url))


def magic_link_consume(token: str) -> tuple[Merchant, str] | None:
    """The merchant the link signs in (created on first use), or None if the link is unknown,
    used, expired or a customer-portal link."""
    with transaction.atomic():
        link = link_claim(token)
        if link is None:
            return None
        merchant, _ = Merchant.objects.get_or_create(email=link.email)
        if not merchant.is_active:
            return None
    return merchant, link.next_url


def safe_next(request, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up happens through magic links and social providers, never a password form."""

    def is_open_for_signup(self, request):
        return True

    def get_login_redirect_url(self, request):
        return reverse("dashboard:home")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True
