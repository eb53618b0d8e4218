"""The dashboard's shell without a browser: one word per environment ("Test"/"Live") on the
pages that used to say "production", the header's pickers still usable without JavaScript, and
role names shown by their labels."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from pancake.models import Environment
from stores.models import Role
from tests.factories import MembershipFactory

PAGES = [
    ("products:list", "Live mode: statuses and links below are for Live."),
    ("products:groups", "These are your Live groups."),
    ("dashboard:webhooks", "Live mode: these endpoints receive Live events."),
    ("dashboard:webhook-log", "Live mode: deliveries of Live events."),
    ("dashboard:developers", None),
]


@pytest.mark.parametrize(("name", "sentence"), PAGES)
def test_live_pages_never_say_production(owner_client, shop, name, sentence):
    owner_client.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    html = owner_client.get(reverse(name, args=[shop.pk])).content.decode()
    assert not re.search(r"[Pp]roduction\b(?!\.min\.js)", html)
    if sentence:
        assert sentence in html


def test_the_environment_label_is_live_and_the_wire_value_prod():
    assert Environment.PROD.value == "prod"
    with translation.override("en"):
        assert (str(Environment.PROD.label), str(Environment.TEST.label)) == ("Live", "Test")
    with translation.override("zh-hans"):
        assert str(Environment.PROD.label) == "正式"


def test_the_pickers_keep_their_buttons_for_browsers_without_javascript(owner_client, shop):
    html = owner_client.get(reverse("dashboard:store", args=[shop.pk])).content.decode()
    store_form = re.search(r'<form class="store-switcher js-autosubmit".*?</form>', html, re.S)
    language_form = re.search(r'<form class="lang-switcher js-autosubmit".*?</form>', html, re.S)
    assert 'class="btn btn--small js-autosubmit-button">Open</button>' in store_form.group(0)
    assert ">Change language</button>" in language_form.group(0)
    assert re.search(r'<script src="/static/js/dashboard[^"]*\.js" defer></script>', html)


def test_role_names_are_translated_on_the_team_page(owner_client, shop):
    MembershipFactory(store=shop, role=Role.MEMBER)
    html = owner_client.get(
        reverse("dashboard:team", args=[shop.pk]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "オーナー" in html and "メンバー" in html
    assert ">owner<" not in html and ">member<" not in html
