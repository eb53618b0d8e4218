"""The dashboard in English, Chinese and Japanese: language negotiation, the language
switcher, translated pages, and catalogs that are complete and compiled."""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils.translation import to_locale

from products import services as product_services
from stores import services
from tests.factories import make_api_key

SET_LANGUAGE = "/i18n/setlang/"
LOCALES = [to_locale(code) for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# The sign-in page's heading and button, and the dashboard's nav labels, per language.
SIGN_IN = {
    "en": ("Sign in to", "Email me a sign-in link"),
    "zh-hans": ("登录", "通过邮件发送登录链接"),
    "ja": ("にサインイン", "サインインリンクをメールで受け取る"),
}
NAV = {
    "en": [
        "Home",
        "Analytics",
        "Products",
        "Groups",
        "Payments",
        "Refund tickets",
        "Subscriptions",
        "Customers",
        "Finance",
        "Settings",
        "Team",
        "Developers",
    ],
    "zh-hans": [
        "首页",
        "分析",
        "商品",
        "组",
        "付款",
        "退款工单",
        "订阅",
        "客户",
        "财务",
        "设置",
        "团队",
        "开发者",
    ],
    "ja": [
        "ホーム",
        "分析",
        "商品",
        "グループ",
        "支払い",
        "返金チケット",
        "サブスクリプション",
        "顧客",
        "財務",
        "設定",
        "チーム",
        "開発者",
    ],
}


class _Page(HTMLParser):
    """Collects the <h1> text, button texts, <nav> link texts, <html lang> and the language
    switcher's form, label and options."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = ""
        self.buttons: list[str] = []
        self.nav_links: list[str] = []
        self.switcher: dict | None = None
        self.label_for: dict[str, str] = {}
        self.options: list[dict] = []
        self._stack: list[str] = []
        self._label: str | None = None
        self._in_switcher = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "form" and attrs.get("action") == SET_LANGUAGE:
            self.switcher = {**attrs, "inputs": {}, "buttons": []}
            self._in_switcher = True
        if self._in_switcher and tag == "input":
            self.switcher["inputs"][attrs.get("name")] = attrs.get("value")
        if self._in_switcher and tag == "select":
            self.switcher["select"] = attrs
        if self._in_switcher and tag == "option":
            self.options.append(attrs)
        if tag == "label":
            self._label = attrs.get("for")
        if tag in ("h1", "button", "a", "label"):
            self._text = ""
        self._stack.append(tag)

    def handle_endtag(self, tag):
        text = " ".join(self._text.split())
        if tag == "h1":
            self.h1 = text
        elif tag == "button":
            self.buttons.append(text)
            if self._in_switcher:
                self.switcher["buttons"].append(text)
        elif tag == "a" and "nav" in self._stack:
            self.nav_links.append(text)
        elif tag == "label" and self._label:
            self.label_for[self._label] = text
            self._label = None
        elif tag == "form":
            self._in_switcher = False
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        self._text += data


def _page(response) -> _Page:
    assert response.status_code == 200, response.status_code
    page = _Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def dashboard_store(client, merchant):
    store = services.store_create(merchant=merchant, name="Maple Shop")
    client.force_login(merchant)
    return store


# --- negotiation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.5", "ja"),
        ("zh-CN", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("en-US", "en"),
        ("", "en"),
        ("fr", "en"),
    ],
)
def test_sign_in_page_follows_accept_language(client, db, accept, language):
    response = client.get(reverse("dashboard:login"), HTTP_ACCEPT_LANGUAGE=accept)
    page = _page(response)
    heading, button = SIGN_IN[language]
    assert page.lang == language
    assert response["Content-Language"] == language
    assert heading in page.h1
    assert settings.PLATFORM_NAME in page.h1
    assert button in page.buttons


def test_sign_in_page_in_japanese_and_chinese_is_fully_translated(client, db):
    for accept, title in (("ja", "サインイン"), ("zh-CN", "登录")):
        html = client.get(reverse("dashboard:login"), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        assert f"<title>{title} · {settings.PLATFORM_NAME}</title>" in html
        for english in (
            "Sign in to",
            "Email me a sign-in link",
            "Skip to content",
            "Change language",
        ):
            assert english not in html


# --- the switcher --------------------------------------------------------------------------------


def test_switcher_is_a_labelled_form_posting_to_set_language(client, db):
    page = _page(client.get(reverse("dashboard:login") + "?next=/x/", HTTP_ACCEPT_LANGUAGE="ja"))
    form = page.switcher
    assert form is not None, "no language switcher"
    assert form["method"] == "post"
    assert reverse("set_language") == SET_LANGUAGE
    assert form["inputs"]["csrfmiddlewaretoken"]
    assert form["inputs"]["next"] == "/login/?next=/x/"
    select = form["select"]
    assert select["name"] == "language"
    assert page.label_for[select["id"]] == "言語"
    assert form["buttons"] == ["言語を変更"]
    assert [(o["value"], "selected" in o) for o in page.options] == [
        ("en", False),
        ("zh-hans", False),
        ("ja", True),
    ]
    assert [o["lang"] for o in page.options] == ["en", "zh-hans", "ja"]


def test_switching_language_persists_in_a_cookie(client, db):
    login = reverse("dashboard:login")
    response = client.post(SET_LANGUAGE, {"language": "ja", "next": login})
    assert response.status_code == 302
    assert response["Location"] == login
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"

    # The cookie wins over the browser's Accept-Language on later requests.
    page = _page(client.get(login, HTTP_ACCEPT_LANGUAGE="en-US,en"))
    assert page.lang == "ja"
    assert SIGN_IN["ja"][1] in page.buttons

    client.post(SET_LANGUAGE, {"language": "zh-hans", "next": login})
    page = _page(client.get(login, HTTP_ACCEPT_LANGUAGE="ja"))
    assert page.lang == "zh-hans"
    assert SIGN_IN["zh-hans"][1] in page.buttons

    client.post(SET_LANGUAGE, {"language": "en", "next": login})
    page = _page(client.get(login, HTTP_ACCEPT_LANGUAGE="ja"))
    assert page.lang == "en"
    assert SIGN_IN["en"][1] in page.buttons


def test_set_language_refuses_unknown_languages_and_foreign_redirects(client, db):
    response = client.post(SET_LANGUAGE, {"language": "xx", "next": "/login/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies

    response = client.post(SET_LANGUAGE, {"language": "ja", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signed_in_switch_keeps_the_merchant_on_the_same_page(client, dashboard_store):
    store_url = reverse("dashboard:store", args=[dashboard_store.pk])
    page = _page(client.get(store_url))
    assert page.switcher["inputs"]["next"] == store_url
    response = client.post(SET_LANGUAGE, {"language": "ja", "next": store_url})
    assert response["Location"] == store_url
    assert _page(client.get(store_url)).nav_links == NAV["ja"]


# --- the dashboard -------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "language"), [("ja", "ja"), ("zh-CN", "zh-hans"), ("en", "en")])
def test_dashboard_nav_and_header_are_translated(client, dashboard_store, accept, language):
    response = client.get(
        reverse("dashboard:store", args=[dashboard_store.pk]), HTTP_ACCEPT_LANGUAGE=accept
    )
    page = _page(response)
    assert page.lang == language
    assert page.nav_links == NAV[language]
    html = response.content.decode()
    test_mode = {"en": "Test mode", "zh-hans": "测试模式", "ja": "テストモード"}[language]
    assert re.search(rf'id="test-mode-badge">{test_mode}<', html)
    sign_out = {"en": "Sign out", "zh-hans": "退出登录", "ja": "サインアウト"}[language]
    assert sign_out in page.buttons
    assert "Maple Shop" in html  # merchant data is never translated


@pytest.mark.parametrize(
    ("name", "ja", "zh"),
    [
        ("settings-details", "ストアの詳細を保存", "保存店铺详情"),
        ("team", "チームメンバーを招待", "邀请团队成员"),
        ("developers", "API キーを作成", "创建 API 密钥"),
    ],
)
def test_dashboard_pages_are_translated(client, dashboard_store, name, ja, zh):
    url = reverse(f"dashboard:{name}", args=[dashboard_store.pk])
    assert ja in client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert zh in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


def test_products_list_is_translated_into_japanese(client, dashboard_store):
    product_services.product_create(
        store=dashboard_store,
        kind="onetime",
        name="E-Book",
        prices={"JPY": {"amount": 4500, "taxCategory": "ebook"}},
    )
    response = client.get(
        reverse("products:list", args=[dashboard_store.pk]), HTTP_ACCEPT_LANGUAGE="ja"
    )
    page = _page(response)
    html = response.content.decode()
    assert page.lang == "ja"
    assert page.h1 == "商品"
    assert f"<title>商品 · Maple Shop · {settings.PLATFORM_NAME}</title>" in html
    assert page.nav_links == NAV["ja"]
    assert re.search(r'class="btn btn--primary" href="[^"]+">商品を作成</a>', html)
    for japanese in ("価格", "買い切り", "未公開", "リンクをコピー", "購入リンク"):
        assert japanese in html
    for english in ("Create product", "Not published", "One-time", "Copy link", "Purchase link"):
        assert english not in html
    assert "E-Book" in html  # merchant data is never translated


def test_plural_strings_use_the_single_form_in_chinese_and_japanese(
    client, dashboard_store, merchant, key_pool
):
    for key in key_pool[:2]:
        make_api_key(merchant, key)
    url = reverse("dashboard:store", args=[dashboard_store.pk])
    assert "キーが 2 件あります。" in client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "您有 2 个密钥。" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "You have 2 keys." in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the catalogs --------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _catalog(locale: str):
    path = Path(settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing: run makemessages -l {locale}"
    with path.open("rb") as f:
        return path, read_po(f, locale=locale)


def _entries(catalog):
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield message, ids, strings


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def test_every_non_default_language_has_a_catalog():
    assert LOCALES == ["zh_Hans", "ja"]
    for locale in LOCALES:
        _catalog(locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_keeps_placeholders(locale):
    path, catalog = _catalog(locale)
    assert not catalog.fuzzy, f"{path}: the header is marked fuzzy, msgfmt would skip it"
    assert catalog.num_plurals == 1, "Chinese and Japanese have one plural form"
    problems = []
    count = 0
    for message, ids, strings in _entries(catalog):
        count += 1
        where = f"{path.name}:{message.lineno} {ids[0]!r}"
        if message.fuzzy:
            problems.append(f"{where}: fuzzy")
        if len(ids) > 1 and len(strings) != 1:
            problems.append(f"{where}: expected only msgstr[0], got {len(strings)} forms")
        if not all(s and s.strip() for s in strings):
            problems.append(f"{where}: untranslated")
            continue
        expected = set().union(*(_placeholders(i) for i in ids))
        for string in strings:
            if _placeholders(string) != expected:
                problems.append(f"{where}: placeholders {_placeholders(string)} != {expected}")
            if _tags(string) != _tags(ids[0]):
                problems.append(f"{where}: HTML tags {_tags(string)} != {_tags(ids[0])}")
        if message.python_format and "python-format" not in message.flags:
            problems.append(f"{where}: missing the python-format flag")
        problems.extend(f"{where}: {error}" for error in message.check(catalog))
    assert count > 200, f"{path} has only {count} messages"
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po_file(locale):
    """The committed .mo is what Django loads: it must hold exactly the .po's translations
    (a machine without gettext cannot recompile it)."""
    path, catalog = _catalog(locale)
    with path.with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for message, ids, strings in _entries(catalog):
        context = message.context
        if len(ids) > 1:
            got = (
                compiled.npgettext(context, ids[0], ids[1], 1)
                if context
                else compiled.ngettext(ids[0], ids[1], 1)
            )
        else:
            got = compiled.pgettext(context, ids[0]) if context else compiled.gettext(ids[0])
        if got != strings[0]:
            stale.append(ids[0])
    assert stale == [], f"{path.with_suffix('.mo')} is stale: run compilemessages"
