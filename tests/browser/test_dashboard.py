"""The dashboard in a real browser, at phone size, driven by label and keyboard."""

import re
import textwrap

import pytest
from playwright.sync_api import expect

from pancake.api import ids
from stores import services
from stores.models import ApiKey, MembershipStatus, Merchant, Role, Store, StoreMembership
from tests.browser.helpers import MAGIC, emailed_link, sign_in
from tests.node_sdk import run_node

INVITE = r"http://[^\s]+/invite/[^/\s]+/"


@pytest.mark.browser
def test_magic_link_sign_in_from_the_emailed_link_lands_on_onboarding(pages, live):
    page = pages.new()
    sign_in(page, live, "first.timer@example.com")
    expect(page).to_have_url(f"{live.url}/onboarding/")
    expect(page.get_by_role("heading", name="Create your store")).to_be_visible()
    assert Merchant.objects.filter(email="first.timer@example.com").exists()

    # The link worked once: opening it again explains what happened.
    link = emailed_link(MAGIC, "first.timer@example.com")
    other = pages.new()
    other.goto(link)
    other.get_by_role("button", name="Sign in").click()
    expect(
        other.get_by_role("heading", name=re.compile("expired or was already used"))
    ).to_be_visible()
    expect(other.get_by_role("link", name="Get a new sign-in link")).to_have_attribute(
        "href", "/login/"
    )


@pytest.mark.browser
def test_onboarding_creates_a_store_and_lands_on_its_dashboard(pages, live):
    page = pages.new()
    sign_in(page, live, "maker@example.com")
    expect(page).to_have_url(f"{live.url}/onboarding/")

    name = page.get_by_label("Store name")
    expect(name).to_be_focused()
    page.keyboard.type("Northern Lights Software")
    page.keyboard.press("Tab")
    currency = page.get_by_label("Default currency")
    expect(currency).to_be_focused()
    currency.select_option("CAD")
    page.keyboard.press("Tab")
    country = page.get_by_label("Country")
    expect(country).to_be_focused()
    country.select_option(label="Canada")
    country.focus()
    page.keyboard.press("Tab")
    create = page.get_by_role("button", name="Create store")
    expect(create).to_be_focused()
    page.keyboard.press("Enter")

    # Onboarding goes on with the first product, which can wait.
    expect(page.get_by_role("heading", name="Your first product")).to_be_visible()
    store = Store.objects.get(name="Northern Lights Software")
    expect(page).to_have_url(f"{live.url}/dashboard/{store.pk}/welcome/product/")
    expect(page.get_by_text("Your store “Northern Lights Software” is ready.")).to_be_visible()
    page.get_by_role("link", name="Skip for now").click()
    expect(page.get_by_role("heading", name="Northern Lights Software")).to_be_visible()
    expect(page).to_have_url(f"{live.url}/dashboard/{store.pk}/")
    assert (store.default_currency, store.country) == ("CAD", "CA")
    owner = StoreMembership.objects.get(store=store)
    assert (owner.merchant.email, owner.role, owner.status) == (
        "maker@example.com",
        "owner",
        "active",
    )
    expect(page.get_by_text(store.slug)).to_be_visible()
    expect(page.locator("#test-mode-badge")).to_have_text("Test mode")
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()

    # The header's live/test switch is a plain form; the badge follows the session.
    page.get_by_role("button", name="Live").click()
    expect(page.locator("#test-mode-badge")).to_have_count(0)
    expect(page.get_by_role("button", name="Live")).to_have_attribute("aria-pressed", "true")


@pytest.mark.browser
def test_api_key_made_in_the_browser_signs_requests_from_the_unmodified_sdk(pages, live):
    page = pages.new()
    sign_in(page, live, "dev@example.com")
    merchant = Merchant.objects.get(email="dev@example.com")
    store = services.store_create(merchant=merchant, name="Key Shop")
    page.goto(f"/dashboard/{store.pk}/developers/")

    expect(page.get_by_label("Merchant ID", exact=True)).to_have_value(merchant.short_id)
    snippet = page.locator("#sdk-snippet").inner_text()
    merchant_id = re.search(r'merchantId: "([^"]+)"', snippet).group(1)
    base_url = re.search(r'baseUrl: "([^"]+)"', snippet).group(1)
    assert merchant_id == merchant.short_id
    assert base_url == live.url

    page.get_by_label("Key name").fill("Browser key")
    expect(page.get_by_label("Environment")).to_have_value("test")
    expect(page.get_by_label("API version", exact=True)).to_have_value("2026-09-23")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Generate key pair and create").click()
    download = download_info.value
    assert download.suggested_filename == "pancake-browser-key-test.pem"
    private_pem = open(download.path()).read()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert private_pem.rstrip().endswith("-----END PRIVATE KEY-----")

    expect(page.get_by_text("This is the only time the private key is shown.")).to_be_visible()
    expect(page.get_by_role("link", name="Download private key (.pem)")).to_be_visible()
    key = ApiKey.objects.get(merchant=merchant)
    assert (key.name, key.environment, key.api_version) == ("Browser key", "test", "2026-09-23")
    assert "PRIVATE" not in key.public_key_pem

    script = textwrap.dedent(
        """
        import { WaffoPancake } from "@waffo/pancake-ts";
        const client = new WaffoPancake({
          merchantId: process.env.PANCAKE_MERCHANT_ID,
          privateKey: process.env.PANCAKE_PRIVATE_KEY,
          baseUrl: process.env.PANCAKE_BASE_URL,
        });
        const { store } = await client.stores.create({ name: "From the browser key" });
        console.log(JSON.stringify({ id: store.id }));
        """
    )
    result = run_node(
        script,
        env={
            "PANCAKE_MERCHANT_ID": merchant_id,
            "PANCAKE_PRIVATE_KEY": private_pem,
            "PANCAKE_BASE_URL": base_url,
        },
    )
    created = Store.objects.get(pk=ids.parse_id(result["id"], "STO"))
    assert created.name == "From the browser key"
    membership = StoreMembership.objects.get(store=created)
    assert (membership.merchant_id, membership.role) == (merchant.pk, Role.OWNER)
    key.refresh_from_db()
    assert key.last_used_at is not None

    page.get_by_role("link", name=re.compile("show my keys")).click()
    row = page.get_by_role("row", name=re.compile("Browser key"))
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("never")


@pytest.mark.browser
def test_inviting_a_teammate_who_signs_in_and_accepts(pages, live):
    owner_page = pages.new()
    sign_in(owner_page, live, "boss@example.com")
    boss = Merchant.objects.get(email="boss@example.com")
    store = services.store_create(merchant=boss, name="Team Shop")
    owner_page.goto(f"/dashboard/{store.pk}/")
    owner_page.get_by_role("navigation", name="Store").get_by_role("link", name="Team").click()
    expect(owner_page.get_by_role("heading", name="Team", exact=True)).to_be_visible()

    owner_page.get_by_label("Email address").fill("helper@example.com")
    owner_page.get_by_label("Role", exact=True).select_option("admin")
    owner_page.get_by_role("button", name="Send invitation").click()
    expect(owner_page.get_by_text("Invitation sent to helper@example.com.")).to_be_visible()
    invited_row = owner_page.get_by_role("row", name=re.compile("helper@example.com"))
    expect(invited_row).to_contain_text("Invited")

    invite_link = emailed_link(INVITE, "helper@example.com")
    helper_page = pages.new()
    helper_page.goto(invite_link)
    expect(helper_page).to_have_url(re.compile(r"/login/\?next=/invite/"))
    helper_page.get_by_label("Email").fill("helper@example.com")
    helper_page.get_by_label("Email").press("Enter")
    expect(helper_page.get_by_role("heading", name="Check your email")).to_be_visible()
    helper_page.goto(emailed_link(MAGIC, "helper@example.com"))
    helper_page.get_by_role("button", name="Sign in").click()

    expect(helper_page.get_by_role("heading", name="Join Team Shop as Admin")).to_be_visible()
    accept = helper_page.get_by_role("button", name="Accept invitation")
    accept.focus()
    helper_page.keyboard.press("Enter")
    expect(helper_page).to_have_url(f"{live.url}/dashboard/{store.pk}/")
    expect(helper_page.get_by_text("Welcome to Team Shop.")).to_be_visible()

    membership = StoreMembership.objects.get(store=store, merchant__email="helper@example.com")
    assert (membership.role, membership.status) == (Role.ADMIN, MembershipStatus.ACTIVE)
    owner_page.reload()
    row = owner_page.get_by_role("row", name=re.compile("helper@example.com"))
    expect(row).to_contain_text("Active")
    expect(row.get_by_label("Role of helper@example.com")).to_have_value("admin")


@pytest.mark.browser
def test_checkout_branding_preview_follows_the_inputs_and_resets(pages, live):
    page = pages.new(viewport={"width": 1280, "height": 900})
    sign_in(page, live, "designer@example.com")
    merchant = Merchant.objects.get(email="designer@example.com")
    store = services.store_create(merchant=merchant, name="Colour Shop")
    page.goto(f"/dashboard/{store.pk}/settings/branding/")

    light = page.get_by_role("group", name="Light theme")
    preview = page.locator('[data-preview="light"]')

    def preview_var(name):
        return preview.evaluate(f"el => getComputedStyle(el).getPropertyValue('{name}').trim()")

    assert preview_var("--brand-primary").lower() == "#7ccb02"
    light.get_by_label("Primary colour").fill("#123456")
    assert preview_var("--brand-primary") == "#123456"
    radius = light.get_by_label("Corner radius (px)")
    radius.fill("3")
    assert preview_var("--brand-radius") == "3px"
    page.get_by_label("Use the dark theme by default").check()
    expect(page.locator('[data-preview="dark"]')).to_have_class(re.compile("is-default"))

    page.get_by_role("button", name="Save branding").click()
    expect(page.get_by_text("Checkout branding saved.")).to_be_visible()
    store.refresh_from_db()
    assert store.checkout_settings["defaultDarkMode"] is True
    assert store.checkout_settings["light"]["checkoutColorPrimary"] == "#123456"
    assert store.checkout_settings["light"]["checkoutBorderRadius"] == "3px"
    assert preview_var("--brand-primary") == "#123456"

    page.get_by_role("button", name="Reset to default").click()
    expect(page.get_by_text("Checkout branding reset to the default.")).to_be_visible()
    store.refresh_from_db()
    assert store.checkout_settings is None
    expect(
        page.get_by_role("group", name="Light theme").get_by_label("Primary colour")
    ).to_have_value("#7ccb02")
