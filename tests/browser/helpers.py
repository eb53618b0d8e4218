"""Helpers of the browser tests: the phone-size viewport pages open in, the links the dashboard
emails, and signing in through them; the hosted checkout's steps by their labels (step 1's
details, the test processor's card page) and the test cards."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

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


# --- the hosted checkout ---------------------------------------------------------------------

VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
THREE_DS = "4000 0027 6000 3184"
CVC = "857"
FUTURE = f"12/{(datetime.now(UTC).year + 5) % 100:02d}"
BUYER = "buyer@example.com"
CARD_PAGE = re.compile(r"/test-processor/pay/tp_[0-9a-f-]+/$")
THREE_DS_PAGE = re.compile(r"/test-processor/3ds/tp_[0-9a-f-]+/$")


def fill_details(
    page,
    *,
    email=BUYER,
    country="US",
    state="CA",
    postcode="94105",
    city=None,
    address=None,
    business_name=None,
    tax_id=None,
):
    """Step 1 by its labels. Only the fields the country needs are filled."""
    expect(page.get_by_role("heading", name="Your details", level=1)).to_be_visible()
    if email is not None:
        page.get_by_label("Email", exact=True).fill(email)
    given = {"country": country, "state": state, "postcode": postcode, "tax_id": tax_id}
    final = {name: value for name, value in given.items() if value}
    with page.expect_response(summary_of(**final)):
        page.get_by_label("Country", exact=True).select_option(country)
        if state:
            page.get_by_label("State / province", exact=True).select_option(state)
        if address:
            page.get_by_label("Address", exact=True).fill(address)
        if city:
            page.get_by_label("City", exact=True).fill(city)
        if postcode:
            page.get_by_label("Postcode", exact=True).fill(postcode)
        if business_name or tax_id:
            page.get_by_label("I'm purchasing as a business").check()
            page.get_by_label("Business name", exact=True).fill(business_name or "")
            # Labelled as the country names it (USt-IdNr., N° TVA …): found by its name.
            page.locator('input[name="tax_id"]').fill(tax_id or "")


def summary_of(**wanted):
    """The live summary's answer for these details: the page asks for it (debounced) as the
    buyer types; waiting for it before submitting keeps the two requests apart (the SQLite test
    database serves one writer at a time)."""

    def match(response) -> bool:
        url = urlsplit(response.url)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        return url.path.endswith("/summary") and all(query.get(k) == v for k, v in wanted.items())

    return match


def submit_details(page):
    page.get_by_role("button", name="Continue to payment").click()


def pay(page, number=VISA, *, button=re.compile(r"^Pay ")):
    """The test processor's card page: a card, a future expiry, the CVC, a name; then pay."""
    expect(page).to_have_url(CARD_PAGE)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill(FUTURE)
    page.get_by_label("CVC").fill(CVC)
    page.get_by_label("Name on card").fill("Ada Buyer")
    page.get_by_role("button", name=button).click()
