"""The catalog's dashboard pages and the public purchase link, through Django's test client."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkout.models import CheckoutSession
from pancake.api.actor import merchant_actor
from products import services as product_services
from products.models import Product, ProductGroup, ProductVersion
from stores import services as store_services
from stores.context_processors import ENVIRONMENT_SESSION_KEY
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory

USD_ROW = {
    "price-0-currency": "USD",
    "price-0-amount": "29.00",
    "price-0-tax_category": "saas",
    "price-0-tax_behaviour": "exclusive",
}


@pytest.fixture
def shop(owner):
    """The owner's store, in USD and the US (the catalog's prices are in dollars)."""
    return store_services.store_create(
        merchant=owner, name="Maple Shop", default_currency="USD", country="US"
    )


def _url(name, store, *args):
    return reverse(f"products:{name}", args=[store.pk, *args])


def _set_environment(client, environment: str) -> None:
    session = client.session
    session[ENVIRONMENT_SESSION_KEY] = environment
    session.save()


def _actor(merchant, environment="test"):
    return merchant_actor(merchant, environment)


def make_product(store, *, kind="onetime", name="E-Book", prices=None, **fields) -> Product:
    if prices is None:
        prices = {"USD": {"amount": 2900, "taxCategory": "ebook"}}
    if kind == "subscription":
        fields.setdefault("billing_period", "monthly")
    return product_services.product_create(
        store=store, kind=kind, name=name, prices=prices, **fields
    )


def publish(owner, product) -> Product:
    return product_services.product_publish(
        actor=_actor(owner), product_id=product.pk, kind=product.kind
    )


def _form(kind="onetime", **fields) -> dict:
    data = {"kind": kind, "name": "Pro Plan", "description": "", **USD_ROW}
    if kind == "subscription":
        data.update({"billing_period": "monthly", "price-0-trial_amount": ""})
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _edit_form(product: Product, **changes) -> dict:
    """What the edit page submits when nothing is touched: its own initial values."""
    version = product.test_version
    data = {"name": version.name, "description": version.description or ""}
    for i, (currency, info) in enumerate(version.prices.items()):
        from pancake.money import to_display

        data.update(
            {
                f"price-{i}-currency": currency,
                f"price-{i}-amount": to_display(info["amount"], currency),
                f"price-{i}-tax_category": info["taxCategory"],
                f"price-{i}-tax_behaviour": "inclusive" if info["taxIncluded"] else "exclusive",
            }
        )
    if product.kind == "subscription":
        data["billing_period"] = version.billing_period
        data["trial_days"] = str((version.metadata or {}).get("trialDays") or "")
    data.update(changes)
    return data


class _Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append(attrs)


def _unlabelled_controls(html: str) -> list[dict]:
    parser = _Controls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("id") not in parser.label_for]


def _write_buttons(html: str) -> list[str]:
    names = ("Create product", "Deactivate", "Activate", "Publish", "Save changes", "Delete")
    return [name for name in names if f">{name}" in html]


# --- list ----------------------------------------------------------------------------------------


def test_product_list_shows_prices_in_the_viewers_locale_with_their_interval(owner_client, shop):
    make_product(shop, name="E-Book")
    make_product(
        shop,
        kind="subscription",
        name="Pro Plan",
        prices={
            "USD": {"amount": 2900, "taxCategory": "saas"},
            "JPY": {"amount": 4500, "taxCategory": "saas"},
        },
    )
    response = owner_client.get(_url("list", shop))
    assert response.status_code == 200
    html = response.content.decode()
    assert "E-Book" in html and "Pro Plan" in html
    assert "$29.00 / month" in html
    assert "¥4,500 / month" in html
    assert "<li>$29.00</li>" in html  # one-time: no interval
    assert "Subscription" in html and "One-time" in html
    assert "Not published" in html
    nav = re.search(r'<nav class="nav".*?</nav>', html, re.S).group(0)
    assert ">Products</a>" in nav and ">Groups</a>" in nav


def test_product_list_in_japanese_formats_amounts_with_babel(owner_client, shop):
    make_product(shop, prices={"JPY": {"amount": 4500, "taxCategory": "ebook"}})
    response = owner_client.get(_url("list", shop), HTTP_ACCEPT_LANGUAGE="ja")
    assert "￥4,500" in response.content.decode()


def test_empty_product_list_offers_to_create_one(owner_client, shop):
    html = owner_client.get(_url("list", shop)).content.decode()
    assert "No products yet" in html
    assert f'href="{_url("new", shop)}"' in html
    assert "Create product" in html


def test_product_list_shows_the_first_image_as_thumbnail_and_allows_its_host(owner_client, shop):
    make_product(
        shop,
        media=[
            {"type": "video", "url": "https://cdn.example.com/demo.mp4"},
            {"type": "image", "url": "https://cdn.example.com/cover.png", "alt": "Cover"},
        ],
    )
    response = owner_client.get(_url("list", shop))
    html = response.content.decode()
    assert 'src="https://cdn.example.com/cover.png" alt="Cover"' in html
    assert "img-src 'self' data: https:" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("rows", [1, 12])
def test_product_list_costs_the_same_queries_for_1_and_12_products(
    rows, owner_client, shop, django_assert_num_queries
):
    for i in range(rows):
        make_product(shop, kind="subscription" if i % 2 else "onetime", name=f"Product {i}")
    owner_client.get(_url("list", shop))  # warm the session
    # session, merchant, role, products, switcher, the bell's unread count (the session is not
    # written again)
    with django_assert_num_queries(6):
        response = owner_client.get(_url("list", shop))
    assert response.content.decode().count("data-product=") == rows


def test_copy_link_carries_the_permanent_purchase_url_for_the_environment(owner_client, shop):
    product = make_product(shop)
    html = owner_client.get(_url("list", shop)).content.decode()
    link = f"http://testserver/{shop.slug}/{product.slug}?env=test"
    assert f'data-copy-link="{link}"' in html
    assert f'href="{link}"' in html  # the no-JavaScript fallback

    publish(shop.memberships.get().merchant, product)
    _set_environment(owner_client, "prod")
    html = owner_client.get(_url("list", shop)).content.decode()
    assert f'data-copy-link="http://testserver/{shop.slug}/{product.slug}"' in html


# --- create --------------------------------------------------------------------------------------


def test_create_page_labels_every_input_and_shows_three_blank_price_rows(owner_client, shop):
    response = owner_client.get(_url("new", shop) + "?kind=subscription")
    assert response.status_code == 200
    html = response.content.decode()
    page = html.split("<template", 1)[0]  # the row template is for the script
    assert _unlabelled_controls(page) == []
    for i in range(3):
        assert f'name="price-{i}-currency"' in page
    assert 'name="price-3-currency"' not in page
    assert re.search(r'value="subscription"[^>]*checked', html)
    assert "Add currency" in html


def test_creating_a_onetime_product_stores_minor_units(owner_client, shop):
    data = _form(
        name="Field Guide",
        description="**Bold** guide",
        **{
            "price-1-currency": "JPY",
            "price-1-amount": "4500",
            "price-1-tax_category": "ebook",
            "price-1-tax_behaviour": "inclusive",
            "price-2-currency": "",
            "price-2-amount": "",
            "price-2-tax_category": "saas",
            "price-2-tax_behaviour": "exclusive",
        },
        image_url="https://cdn.example.com/guide.png",
        image_alt="The cover",
        success_url="https://example.com/thanks",
        metadata='{"sku": "FG-1"}',
    )
    response = owner_client.post(_url("new", shop), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(store=shop)
    assert response["Location"] == _url("list", shop) + f"?new={product.pk}"
    version = product.test_version
    assert product.kind == "onetime"
    assert version.number == 1
    assert version.name == "Field Guide"
    assert version.prices == {
        "USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": False},
        "JPY": {"amount": 4500, "taxCategory": "ebook", "taxIncluded": True},
    }
    assert version.media == [
        {"type": "image", "url": "https://cdn.example.com/guide.png", "alt": "The cover"}
    ]
    assert version.success_url == "https://example.com/thanks"
    assert version.metadata == {"sku": "FG-1"}
    assert "<strong>Bold</strong>" in version.description_html
    assert (product.test_status, product.prod_status, product.prod_version) == (
        "active",
        "inactive",
        None,
    )
    listing = owner_client.get(response["Location"]).content.decode()
    assert "Created “Field Guide”" in listing
    assert 'class="is-new"' in listing


def test_creating_a_subscription_with_a_paid_trial(owner_client, shop):
    data = _form(
        "subscription",
        billing_period="yearly",
        trial_days="14",
        **{
            "price-0-trial_amount": "1.00",
            "price-5-currency": "EUR",
            "price-5-amount": "27",
            "price-5-tax_category": "saas",
            "price-5-tax_behaviour": "inclusive",
        },
    )
    response = owner_client.post(_url("new", shop), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(store=shop)
    version = product.test_version
    assert product.kind == "subscription"
    assert version.billing_period == "yearly"
    assert version.metadata == {"trialDays": 14}
    assert version.prices == {
        "USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": False, "trialAmount": 100},
        "EUR": {"amount": 2700, "taxCategory": "saas", "taxIncluded": True},
    }
    html = owner_client.get(_url("list", shop)).content.decode()
    assert "$29.00 / year" in html and "€27.00 / year" in html


def test_a_onetime_product_ignores_subscription_fields(owner_client, shop):
    data = _form(billing_period="monthly", trial_days="7", **{"price-0-trial_amount": "1.00"})
    assert owner_client.post(_url("new", shop), data).status_code == 302
    version = Product.objects.get(store=shop).test_version
    assert version.billing_period is None
    assert version.metadata == {}
    assert "trialAmount" not in version.prices["USD"]


def test_too_many_decimals_re_renders_with_the_message_beside_the_amount(owner_client, shop):
    data = _form(name="Keep Me", description="My *text*", **{"price-0-amount": "29.999"})
    response = owner_client.post(_url("new", shop), data)
    assert response.status_code == 400
    html = response.content.decode()
    message = "Invalid prices.USD.amount: USD amounts have at most 2 decimal places"
    assert message in html
    # The message is tied to the USD row's amount input, which keeps what was typed.
    amount = re.search(r'<input[^>]*name="price-0-amount"[^>]*>', html).group(0)
    assert 'value="29.999"' in amount
    assert 'aria-invalid="true"' in amount
    assert re.search(r'aria-describedby="[^"]*id_price-0-amount_error', amount)
    error_block = re.search(r'<ul class="errorlist" id="id_price-0-amount_error">.*?</ul>', html)
    assert error_block and message in error_block.group(0)
    assert 'value="Keep Me"' in html
    assert "My *text*</textarea>" in html
    assert "Check the prices below." in html
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "fields, field_id, message",
    [
        (
            {"price-0-currency": "", "price-0-amount": ""},
            None,
            "Add at least one price.",
        ),
        ({"price-0-amount": ""}, "id_price-0-amount", "Enter an amount."),
        (
            {"price-0-trial_amount": "40.00", "trial_days": "7"},
            "id_price-0-trial_amount",
            "Invalid prices.USD.trialAmount: must be lower than amount",
        ),
        (
            {"price-0-trial_amount": "1.00"},
            "id_price-0-trial_amount",
            "Invalid prices.USD.trialAmount: a paid trial needs metadata.trialDays",
        ),
        ({"success_url": "javascript:alert(1)"}, "id_success_url", "Invalid successUrl"),
        ({"image_url": "ftp://example.com/x.png"}, "id_image_url", "Invalid media[0].url"),
        ({"metadata": "[1, 2]"}, "id_metadata", "Enter a JSON object"),
        ({"name": "   "}, "id_name", "This field is required."),
        (
            {
                "price-1-currency": "USD",
                "price-1-amount": "30.00",
                "price-1-tax_category": "saas",
                "price-1-tax_behaviour": "exclusive",
            },
            "id_price-1-currency",
            "USD already has a price above.",
        ),
    ],
)
def test_refusals_show_beside_their_field_and_never_500(
    owner_client, shop, fields, field_id, message
):
    response = owner_client.post(_url("new", shop), _form("subscription", **fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    if field_id:
        block = re.search(rf'<ul class="errorlist" id="{field_id}_error">.*?</ul>', html, re.S)
        assert block and message in block.group(0), html[:200]
    assert not Product.objects.exists()


def test_a_name_over_64_characters_is_refused(owner_client, shop):
    response = owner_client.post(_url("new", shop), _form(name="x" * 65))
    assert response.status_code == 400
    assert "at most 64 characters" in response.content.decode()


def test_uploading_an_image_stores_it_and_uses_its_absolute_url(
    owner_client, shop, settings, tmp_path
):
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    settings.BASE_URL = "https://pay.example.com"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "cover.png"
    response = owner_client.post(_url("new", shop), {**_form(), "image_file": buffer})
    assert response.status_code == 302, response.content.decode()[:2000]
    media = Product.objects.get(store=shop).test_version.media
    assert media[0]["type"] == "image"
    url = media[0]["url"]
    assert url.startswith(f"https://pay.example.com/media/products/{shop.pk}/")
    assert url.endswith(".png")
    assert len(list((tmp_path / "products" / str(shop.pk)).iterdir())) == 1


def test_an_upload_that_is_not_an_image_is_refused(owner_client, shop, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = io.BytesIO(b"<svg onload=alert(1)></svg>")
    fake.name = "cover.png"
    response = owner_client.post(_url("new", shop), {**_form(), "image_file": fake})
    assert response.status_code == 400
    assert not Product.objects.exists()
    assert not any(tmp_path.iterdir())


# --- edit and versions ---------------------------------------------------------------------------


def test_edit_page_shows_the_fields_history_and_both_statuses(owner_client, owner, shop):
    product = make_product(
        shop,
        kind="subscription",
        name="Pro Plan",
        metadata={"trialDays": 7, "tier": "pro"},
        prices={"USD": {"amount": 2900, "taxCategory": "saas", "trialAmount": 100}},
    )
    response = owner_client.get(_url("edit", shop, product.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert _unlabelled_controls(html.split("<template", 1)[0]) == []
    assert 'value="29.00"' in html and 'value="1.00"' in html
    assert re.search(r'name="trial_days"[^>]*value="7"', html)
    assert "&quot;tier&quot;: &quot;pro&quot;" in html
    assert "trialDays" not in html.split("Metadata (JSON)", 1)[1].split("</textarea>", 1)[0]
    assert "Version history" in html
    assert "Publish to Live" in html
    assert "not published" in html
    assert 'name="kind"' not in html


def test_saving_without_changes_creates_no_version(owner_client, shop):
    product = make_product(shop, description="Line one\nLine two")
    data = _edit_form(product, description="Line one\r\nLine two")  # browsers send CRLF
    response = owner_client.post(_url("edit", shop, product.pk), data, follow=True)
    assert response.status_code == 200
    assert "No changes — no new version created" in response.content.decode()
    assert ProductVersion.objects.filter(product=product).count() == 1


def test_saving_a_change_creates_version_2_shown_in_the_history(owner_client, shop):
    product = make_product(shop, kind="subscription", name="Pro Plan")
    data = _edit_form(product, name="Pro Plan (2026)", **{"price-0-amount": "35.00"})
    response = owner_client.post(_url("edit", shop, product.pk), data, follow=True)
    html = response.content.decode()
    assert "Saved as version 2." in html
    product.refresh_from_db()
    assert product.test_version.number == 2
    assert product.test_version.prices["USD"]["amount"] == 3500
    assert ProductVersion.objects.get(product=product, number=1).name == "Pro Plan"
    history = html.split("Version history", 1)[1]
    assert "Pro Plan (2026)" in history and "Pro Plan</td>" in history
    assert "Publish to Live" in html


def test_changing_the_billing_period_is_a_new_version(owner_client, shop):
    product = make_product(shop, kind="subscription")
    data = _edit_form(product, billing_period="quarterly")
    owner_client.post(_url("edit", shop, product.pk), data)
    product.refresh_from_db()
    assert (product.test_version.number, product.test_version.billing_period) == (2, "quarterly")


def test_an_edit_error_keeps_the_input_and_writes_nothing(owner_client, shop):
    product = make_product(shop)
    data = _edit_form(product, name="Renamed", **{"price-0-amount": "-1"})
    response = owner_client.post(_url("edit", shop, product.pk), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Renamed"' in html and 'value="-1"' in html
    assert "is not an amount" in html
    assert ProductVersion.objects.filter(product=product).count() == 1


def test_editing_keeps_other_media_items(owner_client, shop):
    video = {"type": "video", "url": "https://cdn.example.com/demo.mp4"}
    image = {"type": "image", "url": "https://cdn.example.com/a.png", "thumbnail": None}
    product = make_product(shop, media=[video, image])
    data = _edit_form(product, image_url="https://cdn.example.com/b.png", image_alt="B")
    owner_client.post(_url("edit", shop, product.pk), data)
    product.refresh_from_db()
    assert product.test_version.media == [
        video,
        {"type": "image", "url": "https://cdn.example.com/b.png", "alt": "B"},
    ]


# --- status and publish --------------------------------------------------------------------------


def test_status_toggle_acts_in_the_session_environment(owner_client, owner, shop):
    product = make_product(shop)
    response = owner_client.post(_url("status", shop, product.pk), {"status": "inactive"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("inactive", "inactive")

    publish(owner, product)
    _set_environment(owner_client, "prod")
    owner_client.post(_url("status", shop, product.pk), {"status": "inactive"})
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("inactive", "inactive")
    response = owner_client.post(
        _url("status", shop, product.pk), {"status": "active"}, follow=True
    )
    assert "“E-Book” is now active in Live." in response.content.decode()
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("inactive", "active")


def test_activating_an_unpublished_product_in_prod_explains_why_not(owner_client, shop):
    product = make_product(shop)
    _set_environment(owner_client, "prod")
    html = owner_client.get(_url("list", shop)).content.decode()
    assert ">Activate<" not in html  # no toggle until published; Publish is offered instead
    response = owner_client.post(_url("status", shop, product.pk), {"status": "active"})
    assert response.status_code == 400
    assert "publish it first" in response.content.decode()


def test_publish_then_publish_again_after_an_edit(owner_client, owner, shop):
    product = make_product(shop)
    response = owner_client.post(_url("publish", shop, product.pk), follow=True)
    html = response.content.decode()
    assert "Published “E-Book” version 1 to Live." in html
    assert "Version 1 live" in html
    product.refresh_from_db()
    assert (product.prod_version_id, product.prod_status) == (product.test_version_id, "active")
    assert "Publish again" not in html

    owner_client.post(
        _url("edit", shop, product.pk), _edit_form(product, name="E-Book, 2nd edition")
    )
    html = owner_client.get(_url("list", shop)).content.decode()
    assert "Publish again" in html
    assert "Version 1 live (test has 2)" in html
    owner_client.post(_url("publish", shop, product.pk))
    product.refresh_from_db()
    assert product.prod_version.number == 2


# --- Markdown preview ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, forbidden",
    [
        ("<script>alert(1)</script>", ["<script"]),
        ("[x](javascript:alert(1))", ['href="javascript', "<a "]),
        ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
        ('<img src=x onerror="alert(1)">', ["onerror"]),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', ["data:", "<script"]),
    ],
)
def test_preview_returns_only_sanitised_html(owner_client, shop, text, forbidden):
    response = owner_client.post(_url("preview", shop), {"text": text})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode().lower()
    for fragment in forbidden:
        assert fragment not in body
    assert "sandbox" in response["Content-Security-Policy"]


def test_preview_renders_markdown(owner_client, shop):
    response = owner_client.post(_url("preview", shop), {"text": "**Pro** plan\n\n- one"})
    assert "<strong>Pro</strong>" in response.content.decode()
    assert "<li>one</li>" in response.content.decode()


def test_preview_needs_sign_in_and_a_csrf_token(owner, shop):
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(_url("preview", shop), {"text": "x"})
    assert response.status_code == 403 or response.status_code == 302
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(owner)
    assert signed_in.post(_url("preview", shop), {"text": "x"}).status_code == 403
    assert Client().post(_url("preview", shop), {"text": "x"}).status_code == 302
    assert signed_in.get(_url("preview", shop)).status_code == 405


# --- groups --------------------------------------------------------------------------------------


def test_groups_create_edit_publish_and_delete(owner_client, shop):
    basic = make_product(shop, kind="subscription", name="Basic")
    pro = make_product(shop, kind="subscription", name="Pro")
    make_product(shop, name="E-Book")  # one-time: not offered

    page = owner_client.get(_url("group-new", shop)).content.decode()
    assert "Basic" in page and "Pro" in page and "E-Book" not in page
    assert _unlabelled_controls(page) == []

    response = owner_client.post(
        _url("group-new", shop),
        {
            "name": "Plans",
            "description": "Our plans",
            "product_ids": [str(pro.pk), str(basic.pk)],
            "shared_trial": "on",
        },
    )
    assert response.status_code == 302
    group = ProductGroup.objects.get(store=shop)
    assert (group.environment, group.shared_trial, group.self_service_plan_change) == (
        "test",
        True,
        False,
    )
    assert set(group.product_ids) == {basic.pk, pro.pk}
    html = owner_client.get(_url("groups", shop)).content.decode()
    assert "Plans" in html and "<li>Basic</li>" in html and "<li>Pro</li>" in html
    assert "Publish to Live" in html

    response = owner_client.post(
        _url("group-edit", shop, group.pk),
        {"name": "Plans 2026", "product_ids": [str(pro.pk)], "self_service_plan_change": "on"},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.shared_trial, group.self_service_plan_change) == (
        "Plans 2026",
        False,
        True,
    )
    assert group.product_ids == [pro.pk]

    response = owner_client.post(_url("group-publish", shop, group.pk), follow=True)
    assert "Published the group “Plans 2026” to Live." in response.content.decode()
    copy = ProductGroup.objects.get(store=shop, environment="prod")
    assert (copy.name, copy.product_ids) == ("Plans 2026", [pro.pk])

    _set_environment(owner_client, "prod")
    html = owner_client.get(_url("groups", shop)).content.decode()
    assert "Plans 2026" in html and "Publish to Live<" not in html
    _set_environment(owner_client, "test")

    confirm = owner_client.get(_url("group-delete", shop, group.pk))
    assert "Delete group" in confirm.content.decode()
    assert owner_client.post(_url("group-delete", shop, group.pk)).status_code == 302
    assert not ProductGroup.objects.filter(pk=group.pk).exists()
    assert Product.objects.filter(pk=pro.pk).exists()


@pytest.mark.parametrize("count", [1, 8])
def test_group_list_costs_the_same_queries_for_1_and_8_groups(
    count, owner_client, owner, shop, django_assert_num_queries
):
    plans = [make_product(shop, kind="subscription", name=f"Plan {i}") for i in range(3)]
    for i in range(count):
        product_services.group_create(
            actor=_actor(owner),
            store_id=shop.pk,
            name=f"Group {i}",
            product_ids=[p.pk for p in plans],
        )
    owner_client.get(_url("groups", shop))
    # session, merchant, role, products, groups, memberships, switcher, the bell's unread count
    with django_assert_num_queries(8):
        html = owner_client.get(_url("groups", shop)).content.decode()
    assert html.count("<li>Plan 2</li>") == count


def test_a_group_of_the_other_environment_sends_back_to_the_list(owner_client, shop):
    group = product_services.group_create(
        actor=_actor(shop.memberships.get().merchant), store_id=shop.pk, name="Plans"
    )
    _set_environment(owner_client, "prod")
    response = owner_client.get(_url("group-edit", shop, group.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("groups", shop)


def test_a_group_without_a_name_is_refused_inline(owner_client, shop):
    response = owner_client.post(_url("group-new", shop), {"name": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ProductGroup.objects.exists()


# --- roles and isolation -------------------------------------------------------------------------


@pytest.fixture
def member_client(shop):
    member = MerchantFactory()
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    client = Client()
    client.force_login(member)
    return client


def test_a_member_sees_products_and_groups_without_write_buttons(member_client, owner, shop):
    product = make_product(shop, kind="subscription")
    group = product_services.group_create(actor=_actor(owner), store_id=shop.pk, name="Plans")
    pages = [
        _url("list", shop),
        _url("edit", shop, product.pk),
        _url("groups", shop),
        _url("group-edit", shop, group.pk),
    ]
    for url in pages:
        response = member_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert _write_buttons(html) == [], url
        assert "Save group" not in html and "Add currency" not in html
    assert member_client.get(_url("group-delete", shop, group.pk)).status_code == 302
    edit = member_client.get(_url("edit", shop, product.pk)).content.decode()
    assert re.search(r'<input[^>]*name="name"[^>]*disabled', edit)
    assert "Copy link" in edit  # reading the link is fine


def test_a_members_forced_posts_change_nothing_and_show_the_refusal(member_client, owner, shop):
    product = make_product(shop, kind="subscription")
    group = product_services.group_create(actor=_actor(owner), store_id=shop.pk, name="Plans")
    attempts = [
        (_url("new", shop), _form()),
        (_url("edit", shop, product.pk), _edit_form(product, name="Hacked")),
        (_url("status", shop, product.pk), {"status": "inactive"}),
        (_url("publish", shop, product.pk), {}),
        (_url("group-new", shop), {"name": "Mine"}),
        (_url("group-edit", shop, group.pk), {"name": "Hacked"}),
        (_url("group-publish", shop, group.pk), {}),
        (_url("group-delete", shop, group.pk), {}),
    ]
    for url, data in attempts:
        response = member_client.post(url, data)
        assert response.status_code == 403, url
        assert "Insufficient permissions" in response.content.decode(), url
    product.refresh_from_db()
    group.refresh_from_db()
    assert Product.objects.count() == 1
    assert (product.test_version.number, product.test_status, product.prod_version) == (
        1,
        "active",
        None,
    )
    assert ProductGroup.objects.count() == 1 and group.name == "Plans"


def test_another_merchants_products_and_groups_are_404(client, owner, shop):
    product = make_product(shop)
    group = product_services.group_create(actor=_actor(owner), store_id=shop.pk, name="Plans")
    stranger = MerchantFactory()
    own_store = store_services.store_create(merchant=stranger, name="Other Shop")
    client.force_login(stranger)
    for url in [
        _url("list", shop),
        _url("new", shop),
        _url("edit", shop, product.pk),
        _url("groups", shop),
        _url("group-edit", shop, group.pk),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(_url("status", shop, product.pk), {"status": "inactive"}).status_code == 404
    assert client.post(_url("publish", shop, product.pk)).status_code == 404
    # Nor through their own store's URLs.
    assert client.get(_url("edit", own_store, product.pk)).status_code == 404
    assert client.post(_url("publish", own_store, product.pk)).status_code == 404
    assert client.get(_url("group-edit", own_store, group.pk)).status_code == 404
    product.refresh_from_db()
    assert (product.test_status, product.prod_version) == ("active", None)


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    response = client.get(_url("list", shop))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


# --- the permanent purchase link -----------------------------------------------------------------


def _link(product, **query) -> str:
    url = f"/{product.store.slug}/{product.slug}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _opens(client, product, **query):
    """The link answers a redirect to a fresh checkout session's page; that page, followed."""
    response = client.get(_link(product, **query), HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.status_code == 302, response.status_code
    assert re.search(r"/store/[\w-]+/checkout/[0-9a-f-]{36}$", response["Location"])
    assert response["Cache-Control"] == "no-store"
    return client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en-US")


def test_an_active_test_product_opens_a_checkout_with_env_test(client, shop):
    product = make_product(
        shop,
        kind="subscription",
        name="Pro Plan",
        description="**Everything** <script>alert(1)</script>",
        metadata={"trialDays": 7},
        prices={
            "USD": {"amount": 2900, "taxCategory": "saas", "trialAmount": 100},
            "JPY": {"amount": 4500, "taxCategory": "saas", "taxIncluded": True},
        },
        media=[{"type": "image", "url": "https://cdn.example.com/pro.png", "alt": "Pro"}],
    )
    before = CheckoutSession.objects.count()
    response = _opens(client, product, env="test")
    assert response.status_code == 200
    session = CheckoutSession.objects.latest("created_at")
    assert CheckoutSession.objects.count() == before + 1
    assert (session.environment, session.currency, session.with_trial) == ("test", "USD", True)
    html = response.content.decode()
    assert "Pro Plan" in html and "$29.00" in html
    assert "7-day trial for $1.00" in html
    assert "Test Mode - No real charges will be made" in html
    assert 'src="https://cdn.example.com/pro.png" alt="Pro"' in html
    assert "Merchant of Record" in html
    assert response["X-Robots-Tag"] == "noindex"


def test_the_link_picks_the_buyers_currency_when_the_product_has_it(client, shop):
    product = make_product(
        shop,
        prices={
            "USD": {"amount": 2900, "taxCategory": "saas"},
            "JPY": {"amount": 4500, "taxCategory": "saas", "taxIncluded": True},
        },
    )
    client.get(_link(product, env="test"), HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9")
    assert CheckoutSession.objects.latest("created_at").currency == "JPY"
    client.get(_link(product, env="test"), HTTP_ACCEPT_LANGUAGE="de-DE")  # no EUR price
    assert CheckoutSession.objects.latest("created_at").currency == "USD"  # the store's default
    shop.default_currency = "JPY"
    shop.save(update_fields=["default_currency"])
    client.get(_link(product, env="test"), HTTP_ACCEPT_LANGUAGE="de-DE")
    assert CheckoutSession.objects.latest("created_at").currency == "JPY"


def test_head_answers_without_opening_a_session(client, shop):
    product = make_product(shop)
    before = CheckoutSession.objects.count()
    assert client.head(_link(product, env="test")).status_code == 200
    assert CheckoutSession.objects.count() == before


def test_the_checkout_uses_the_stores_light_branding_allowed_by_a_style_hash(client, owner, shop):
    import base64
    import hashlib

    store_services.store_update(
        actor=_actor(owner),
        store_id=shop.pk,
        checkout_settings={
            "light": {"checkoutColorPrimary": "#123456", "checkoutBorderRadius": "4px"}
        },
    )
    product = make_product(shop)
    response = _opens(client, product, env="test")
    html = response.content.decode()
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "--brand-primary:#123456;" in css and "--brand-radius:4px;" in css
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_a_test_only_product_is_not_available_in_prod_until_published(
    client, owner, shop, live_payments
):
    product = make_product(shop)
    response = client.get(_link(product))
    assert response.status_code == 404
    assert "This product isn't available" in response.content.decode()

    publish(owner, product)
    response = _opens(client, product)
    assert response.status_code == 200
    html = response.content.decode()
    assert "$29.00" in html and "Test Mode" not in html


def test_an_inactive_product_is_not_available(client, owner, shop):
    product = make_product(shop)
    publish(owner, product)
    product_services.product_update_status(
        actor=_actor(owner, "prod"), product_id=product.pk, kind="onetime", status="inactive"
    )
    assert client.get(_link(product)).status_code == 404
    assert client.get(_link(product, env="test")).status_code == 302
    product_services.product_update_status(
        actor=_actor(owner), product_id=product.pk, kind="onetime", status="inactive"
    )
    response = client.get(_link(product, env="test"))
    assert response.status_code == 404
    assert "This product isn't available" in response.content.decode()


def test_a_deleted_or_inactive_store_and_unknown_slugs_are_not_available(
    client, owner, shop, live_payments
):
    product = make_product(shop)
    publish(owner, product)
    assert client.get(_link(product)).status_code == 302
    assert client.get(f"/{shop.slug}/no-such-product").status_code == 404
    assert client.get(f"/no-such-store/{product.slug}").status_code == 404

    store_services.store_update(actor=_actor(owner), store_id=shop.pk, status="inactive")
    assert client.get(_link(product)).status_code == 404
    store_services.store_update(actor=_actor(owner), store_id=shop.pk, status="active")
    assert client.get(_link(product)).status_code == 302

    shop.deleted_at = timezone.now()
    shop.save(update_fields=["deleted_at"])
    response = client.get(_link(product))
    assert response.status_code == 404
    assert "This product isn't available" in response.content.decode()


def test_the_published_version_is_shown_not_a_newer_test_version(
    client, owner, shop, live_payments
):
    product = make_product(shop, name="Old Name")
    publish(owner, product)
    product_services.product_update(
        actor=_actor(owner), product_id=product.pk, kind="onetime", name="New Name"
    )
    assert "Old Name" in _opens(client, product).content.decode()
    assert "New Name" in _opens(client, product, env="test").content.decode()


def test_a_trailing_slash_redirects_to_the_link_keeping_the_query(client, owner, shop):
    product = make_product(shop)
    response = client.get(_link(product) + "/?env=test")
    assert response.status_code == 302
    assert response["Location"] == _link(product, env="test")


def test_only_get_opens_a_checkout(client, owner, shop):
    product = make_product(shop)
    response = client.post(_link(product, env="test"))
    assert response.status_code in (403, 405)  # CSRF or method: never a write


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/dashboard/onboarding", None),
        ("/admin/login", "/admin/login/?next=/admin/login"),  # the admin's own catch-all
        ("/accounts/login", "/accounts/login/"),
        ("/api/docs", "/api/docs/"),
        ("/login/magic", None),
    ],
)
def test_other_routes_are_not_taken_by_the_purchase_link(client, db, path, expected):
    response = client.get(path)
    if expected:
        assert response.status_code in (301, 302)
        assert response["Location"] == expected
    else:
        assert response.status_code == 404


def test_dashboard_routes_still_resolve(owner_client, shop):
    assert owner_client.get(reverse("dashboard:login")).status_code == 302  # signed in → home
    assert owner_client.get(reverse("dashboard:store", args=[shop.pk])).status_code == 200
    settings_page = owner_client.get(reverse("dashboard:settings", args=[shop.pk]))
    assert settings_page.status_code == 302  # to its first section
    assert settings_page.url == reverse("dashboard:settings-details", args=[shop.pk])
    assert owner_client.get(f"/dashboard/{shop.pk}").status_code == 301
    assert owner_client.get("/healthz").content == b"ok"
    assert Client().get("/admin/login/").status_code == 200


def test_a_onetime_products_metadata_round_trips_untouched(owner_client, shop):
    product = make_product(shop, metadata={"trialDays": 3, "sku": "A-1"})
    html = owner_client.get(_url("edit", shop, product.pk)).content.decode()
    textarea = re.search(r'<textarea[^>]*name="metadata"[^>]*>(.*?)</textarea>', html, re.S)
    metadata = textarea.group(1).replace("&quot;", '"')
    owner_client.post(_url("edit", shop, product.pk), _edit_form(product, metadata=metadata))
    assert ProductVersion.objects.filter(product=product).count() == 1
