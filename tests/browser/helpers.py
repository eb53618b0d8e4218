"""Helpers of the browser tests: the phone-size viewport pages open in, the links the dashboard
emails, and signing in through them."""

import re

from django.core import mail
from playwright.sync_api import expect

MAGIC = r"http://[^\s]+/login/magic/[^/\s]+/"
PHONE = {"width": 390, "height": 844}


def emailed_link(pattern: str, to: str) -> str:
    """The newest link matching ``pattern`` in an email to ``to``."""
    for message in reversed(mail.outbox):
        if message.to == [to]:
            match = re.search(pattern, message.body)
            if match:
                return match.group(0)
    raise AssertionError(f"no email to {to} with {pattern}: {[m.subject for m in mail.outbox]}")


def sign_in(page, live, email: str) -> None:
    """Ask for a magic link on the sign-in page, then open it from the email and confirm."""
    page.goto("/login/")
    email_input = page.get_by_label("Email")
    expect(email_input).to_be_focused()
    email_input.fill(email)
    email_input.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = emailed_link(MAGIC, email)
    assert link.startswith(live.url)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
