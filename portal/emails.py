"""The portal's one email: a buyer's sign-in link, in the language of the page that asked."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from checkout import languages
from pancake.text import header_text
from stores.models import Store


def send_sign_in_link(email: str, url: str, store_id: str, language: str = "en") -> None:
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return
    minutes = settings.MAGIC_LINK_MAX_AGE_SECONDS // 60
    with translation.override(languages.to_django(language)):
        subject = _("Sign in to %(store)s") % {"store": store.name}
        context = {"url": url, "store": store, "minutes": minutes, "subject": subject}
        text = render_to_string("emails/portal_sign_in.txt", context)
        html = render_to_string("emails/portal_sign_in.html", context)
    message = EmailMultiAlternatives(
        header_text(subject), text, settings.DEFAULT_FROM_EMAIL, [email]
    )
    message.attach_alternative(html, "text/html")
    message.send()
