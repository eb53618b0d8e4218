"""Merchant-facing emails (HTML + text), rendered from templates. Subjects go through
``header_text``: a store name stored with a line break still sends."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from pancake.text import header_text
from stores.models import MembershipStatus, StoreMembership
from stores.services import invite_token


def send(to: str, subject: str, template: str, context: dict) -> None:
    """One email of ``templates/emails/<template>.{txt,html}``: text with an HTML alternative,
    in the active language."""
    context = {"platform_name": settings.PLATFORM_NAME, "subject": subject, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(header_text(subject), text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


def send_magic_link(email: str, url: str) -> None:
    send(email, f"Sign in to {settings.PLATFORM_NAME}", "magic_link", {"url": url, "minutes": 15})


def send_team_invite(membership_id: str) -> None:
    membership = (
        StoreMembership.objects.select_related("store", "merchant", "invited_by")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None or membership.status != MembershipStatus.INVITED:
        return
    url = settings.BASE_URL + reverse("dashboard:invite-accept", args=[invite_token(membership)])
    send(
        membership.merchant.email,
        f"You're invited to {membership.store.name} on {settings.PLATFORM_NAME}",
        "team_invite",
        {"membership": membership, "url": url},
    )
