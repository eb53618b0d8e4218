"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Playwright's sync API runs an asyncio loop in this thread, so Django's async-safety check is
relaxed (DJANGO_ALLOW_ASYNC_UNSAFE) while the browser runs. Playwright never downloads a
browser here: the system chromium is used. Without it these tests skip, unless
PANCAKE_REQUIRE_BROWSER=1 (CI), where they fail.
"""

import os
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import sync_playwright

from tests.browser.helpers import PHONE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install -y chromium"
    if os.environ.get("PANCAKE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    # Only while Playwright's loop runs: a session-wide setting would leak into subprocesses
    # of other tests (``check --deploy`` warns about it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def live(live_server, transactional_db, settings):
    """The live server, with emailed links pointing at it and fresh rate-limit counters."""
    settings.BASE_URL = live_server.url
    cache.clear()
    mail.outbox.clear()
    return live_server


class Pages:
    """Opens browser pages that may talk only to the live server, and collects what would
    be a bug on any page: requests to another host, failed assets or fetches, console errors
    (CSP violations included), uncaught exceptions."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.problems: list[str] = []
        self.origins = [base_url]

    def allow(self, origin: str) -> None:
        """Let pages also talk to ``origin`` (another server the test runs on this machine,
        such as the fake Stripe server whose Stripe.js a checkout page loads)."""
        self.origins.append(origin)

    def new(self, viewport=PHONE, locale="en-US"):
        """A page in a fresh context; ``locale`` is the browser's language (Accept-Language)."""
        context = self.browser.new_context(
            locale=locale, viewport=viewport, accept_downloads=True, base_url=self.base_url
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("request", self._check_request)
        page.on("console", self._check_console)
        page.on("response", self._check_response)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        return page

    def _check_request(self, request):
        url = request.url
        if not (url.startswith(tuple(self.origins)) or url.startswith(("blob:", "data:"))):
            self.problems.append(f"request to another host: {url}")

    def _check_response(self, response):
        # A page may answer 4xx on purpose (an expired link); its assets and fetches may not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.url}")

    def _check_console(self, message):
        # Chrome logs every 4xx document as "Failed to load resource"; _check_response
        # covers those that matter.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live):
    pages = Pages(browser, live.url)
    yield pages
    pages.close()
    assert pages.problems == []
