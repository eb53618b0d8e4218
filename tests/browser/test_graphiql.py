"""The GraphQL explorer in a real browser: it loads from this origin only (the pages fixture
fails on any request to another host, failed asset or CSP violation) and runs a query as the
signed-in merchant."""

import pytest
from playwright.sync_api import expect

from stores import services
from stores.models import Merchant
from tests.browser.helpers import sign_in

DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.browser
def test_the_explorer_loads_and_runs_a_query(pages, live):
    page = pages.new(viewport=DESKTOP)
    sign_in(page, live, "graphiql@example.com")
    merchant = Merchant.objects.get(email="graphiql@example.com")
    store = services.store_create(merchant=merchant, name="Explorer Shop")

    page.goto(f"/dashboard/{store.pk}/developers/")
    page.get_by_role("link", name="Open GraphQL explorer").click()
    expect(page.get_by_role("heading", name="GraphQL explorer", level=1)).to_be_visible()
    editor = page.locator("#graphiql .graphiql-query-editor")
    expect(editor).to_contain_text("stores")
    page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    result = page.locator("#graphiql .result-window")
    expect(result).to_contain_text("Explorer Shop")
    expect(result).to_contain_text('"name"')


@pytest.mark.browser
def test_the_explorer_dialogs_open_under_the_pages_policy(pages, live):
    page = pages.new(viewport=DESKTOP)
    sign_in(page, live, "dialogs@example.com")
    merchant = Merchant.objects.get(email="dialogs@example.com")
    store = services.store_create(merchant=merchant, name="Dialog Shop")
    page.goto(f"/dashboard/{store.pk}/developers/graphql")
    expect(page.locator("#graphiql .graphiql-query-editor")).to_contain_text("stores")
    for button, heading in (
        ("Open short keys dialog", "Short Keys"),
        ("Open settings dialog", "Settings"),
    ):
        page.get_by_role("button", name=button).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(heading)
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
