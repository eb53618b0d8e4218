"""The finance emails (the payout email's 6-digit code, the payout account set or changed) are
multi-part: a text body and an HTML alternative in the merchant emails' card, in the language
the merchant reads the dashboard in (English, Chinese, Japanese)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from stores.models import PayoutSetup

pytestmark = pytest.mark.django_db

CARD = "max-width:560px;margin:0 auto;background:#FFFFFF;border-radius:8px"

# language → (code email: subject start, text line, HTML heading, HTML footer), (account email:
# subject, text line, HTML heading, HTML link text)
WORDS = {
    "en": (
        (
            "Your payout email code:",
            "Your code to verify the payout email of Ann & Co is:",
            "Verify your payout email",
            "entered as the payout contact email of Ann &amp; Co on Pancake",
        ),
        (
            "The payout account of Ann & Co was set",
            "Payouts now go to the account ending in 3000.",
            "Payout account changed",
            "Open the payout setup",
        ),
    ),
    "zh-hans": (
        (
            "您的收款邮箱验证码：",
            "用于验证 Ann & Co 收款邮箱的验证码是：",
            "验证您的收款邮箱",
            "Pancake 上 Ann &amp; Co 的收款联系邮箱",
        ),
        ("Ann & Co 的收款账户已设置", "3000", "收款账户已更改", "打开收款设置"),
    ),
    "ja": (
        (
            "受取用メールの確認コード:",
            "Ann & Co の受取用メールを確認するコード:",
            "受取用メールの確認",
            "Pancake の Ann &amp; Co の受取用連絡先メール",
        ),
        (
            "Ann & Co の受取口座が設定されました",
            "3000",
            "受取口座が変更されました",
            "受取設定を開く",
        ),
    ),
}


@pytest.fixture
def owner(client, merchant, store):
    store.name = "Ann & Co"
    store.save(update_fields=["name"])
    client.force_login(merchant)
    return client


def parts(message) -> tuple[str, str]:
    """(text, HTML) of a sent message: exactly one HTML alternative."""
    assert message.content_subtype == "plain"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


def post(client, store, step, data, language, capture):
    with capture(execute=True):
        response = client.post(
            reverse(f"dashboard:finance-payout-{step}", args=[store.pk]),
            data,
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 302


@pytest.mark.parametrize("language", WORDS)
def test_the_code_email_has_text_and_html(
    owner, store, language, django_capture_on_commit_callbacks
):
    subject, line, heading, footer = WORDS[language][0]
    post(
        owner, store, "email", {"email": "pay@example.com"}, language,
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    [message] = mail.outbox
    assert message.to == ["pay@example.com"]
    assert message.subject.startswith(subject)
    text, html = parts(message)
    code = re.search(r"^(\d{6})$", text, re.M).group(1)
    assert message.subject.endswith(code)
    assert line in text and "&amp;" not in text  # text is not HTML-escaped
    assert f'id="code">{code}</p>' in html
    assert heading in html and footer in html and CARD in html
    assert f'<html lang="{language}">' in html
    # The code verifies the email (the step goes on as before).
    owner.post(reverse("dashboard:finance-payout-code", args=[store.pk]), {"code": code})
    assert PayoutSetup.objects.get(store=store).email_verified_at is not None


@pytest.mark.parametrize("language", WORDS)
def test_the_account_email_has_text_and_html(
    owner, store, language, django_capture_on_commit_callbacks
):
    subject, line, heading, link = WORDS[language][1]
    account = {"holder": "Ann Ltd", "bank_country": "DE"}
    first = {**account, "account_number": "DE02120300000000202051"}
    post(owner, store, "account", first, language, django_capture_on_commit_callbacks)
    second = {**account, "account_number": "DE89 3704 0044 0532 0130 00"}
    post(owner, store, "account", second, language, django_capture_on_commit_callbacks)
    added, changed = mail.outbox
    assert changed.to == ["owner@example.com"] and changed.subject == subject
    text, html = parts(changed)
    assert line in text and "3000" in html and heading in html and CARD in html
    finance = settings.BASE_URL + reverse("dashboard:finance", args=[store.pk])
    assert f'<a href="{finance}#payout-account">{link}</a>' in html
    assert f"{finance}#payout-account" in text
    assert "370400440532" not in text + html  # only the last 4 are ever sent
    added_text, added_html = parts(added)
    assert "2051" in added_text and heading not in added_html
