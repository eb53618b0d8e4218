"""GraphiQL for a signed-in merchant: the page loads only this origin's assets (the pages'
Content-Security-Policy stays strict), and its endpoint runs the /v1/graphql schema as the
session's merchant in the current environment, behind the session and the CSRF token."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from pancake.api import ids
from stores import services
from tests.factories import MerchantFactory
from tests.graphql import seed

STORES = "{ stores { id name } }"


@pytest.fixture
def owner(db):
    return MerchantFactory(email="explorer@example.com")


@pytest.fixture
def shop(owner):
    return services.store_create(merchant=owner, name="Explorer Shop")


@pytest.fixture
def browser_client(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def _csrf(client, shop) -> str:
    response = client.get(reverse("dashboard:graphiql", args=[shop.pk]))
    assert response.status_code == 200
    match = re.search(r'data-csrf-token="([^"]+)"', response.content.decode())
    assert match, "the page hands the CSRF token to graphiql.js"
    return match.group(1)


def _post(client, shop, query, token=None, **extra):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    return client.post(
        reverse("dashboard:graphiql", args=[shop.pk]),
        data=json.dumps({"query": query, **extra}),
        content_type="application/json",
        **headers,
    )


def test_the_page_renders_for_a_member_with_same_origin_assets_only(browser_client, shop):
    response = browser_client.get(reverse("dashboard:graphiql", args=[shop.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    # one nonce per response, for the <style> GraphiQL's dialogs add (and nothing else inline)
    (nonce,) = re.findall(r'data-style-nonce="([^"]+)"', html)
    assert f"style-src 'self' 'nonce-{nonce}'" in policy
    again = browser_client.get(reverse("dashboard:graphiql", args=[shop.pk]))
    assert nonce not in again["Content-Security-Policy"]
    assert 'id="graphiql"' in html
    assert f'data-endpoint="/dashboard/{shop.pk}/developers/graphql"' in html
    sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert sources
    assert not [s for s in sources if re.match(r"(https?:)?//", s)], sources
    for asset in (
        "vendor/graphiql/graphiql.min.js",
        "vendor/graphiql/graphiql.min.css",
        "vendor/graphiql/react.production.min.js",
        "vendor/graphiql/react-dom.production.min.js",
        "js/graphiql.js",
    ):
        assert f"{settings.STATIC_URL}{asset}" in sources or f"/{settings.STATIC_URL}{asset}" in (
            sources
        ), asset
    # No inline scripts or styles: every <script> has a src, no style attributes or elements.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"<style\b|\sstyle=", html)


def test_vendored_assets_reference_nothing_on_another_host():
    root = Path(settings.BASE_DIR) / "static" / "vendor" / "graphiql"
    css = (root / "graphiql.min.css").read_text()
    assert "data:font" not in css and not re.search(r"url\((['\"]?)(https?:)?//", css)
    for font in re.findall(r"url\((fonts/[^)]+)\)", css):
        assert (root / font).is_file(), font
    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT" in (root / name).read_text()


def test_the_developers_page_links_to_the_explorer(browser_client, shop):
    response = browser_client.get(reverse("dashboard:developers", args=[shop.pk]))
    assert reverse("dashboard:graphiql", args=[shop.pk]) in response.content.decode()


def test_the_endpoint_answers_for_the_signed_in_merchants_stores(browser_client, shop):
    token = _csrf(browser_client, shop)
    response = _post(browser_client, shop, STORES, token)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "data": {"stores": [{"id": ids.encode("STO", shop.pk), "name": "Explorer Shop"}]}
    }


def test_the_endpoint_runs_in_the_dashboards_current_environment(browser_client, owner, shop):
    book = seed.onetime(shop)
    seed.orders(shop, book, 2, environment="test")
    seed.orders(shop, book, 1, environment="prod")
    token = _csrf(browser_client, shop)
    body = _post(browser_client, shop, "{ onetimeOrdersCount }", token).json()
    assert body == {"data": {"onetimeOrdersCount": 2}}
    browser_client.post(
        reverse("dashboard:environment"),
        {"environment": "prod", "csrfmiddlewaretoken": token},
    )
    body = _post(browser_client, shop, "{ onetimeOrdersCount }", token).json()
    assert body == {"data": {"onetimeOrdersCount": 1}}


def test_the_endpoint_sees_no_other_merchants_store(browser_client, shop):
    other = services.store_create(merchant=MerchantFactory(), name="Not Yours")
    token = _csrf(browser_client, shop)
    body = _post(
        browser_client,
        shop,
        "query($id: ID!) { store(id: $id) { id } }",
        token,
        variables={"id": ids.encode("STO", other.pk)},
    ).json()
    assert body == {"data": {"store": None}}


def test_the_endpoint_keeps_the_api_rules(browser_client, shop):
    token = _csrf(browser_client, shop)
    assert _post(browser_client, shop, "mutation { stores { id } }", token).status_code == 403
    response = _post(browser_client, shop, "{ stores { nope } }", token)
    assert response.status_code == 400
    assert "nope" in response.json()["errors"][0]["message"]


def test_the_endpoint_refuses_a_missing_csrf_token(browser_client, shop):
    response = _post(browser_client, shop, STORES)
    assert response.status_code == 403
    assert b"Explorer Shop" not in response.content


def test_anonymous_users_are_refused(shop):
    # Without a session there is no CSRF cookie either: refused before the view runs.
    response = _post(Client(enforce_csrf_checks=True), shop, STORES)
    assert response.status_code == 403
    assert b"Explorer Shop" not in response.content
    # Even past the CSRF check, the view wants a signed-in merchant.
    client = Client()
    response = _post(client, shop, STORES)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert client.get(reverse("dashboard:graphiql", args=[shop.pk])).status_code == 302


def test_a_non_member_gets_404(shop):
    client = Client()
    client.force_login(MerchantFactory())
    assert client.get(reverse("dashboard:graphiql", args=[shop.pk])).status_code == 404
    assert _post(client, shop, STORES).status_code == 404
