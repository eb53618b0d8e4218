"""The merchant dashboard's pages through Django's test client, driven by label."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stores import services
from stores.models import ApiKey, MembershipStatus, Role, Store, StoreMembership
from tests.factories import MembershipFactory, MerchantFactory, make_api_key, public_pem, rsa_key
from tests.html_checks import alerts, field_errors, unlabelled_controls

MAGIC_PATH = re.compile(r"/login/magic/[^/\s]+/")
INVITE_PATH = re.compile(r"/invite/[^/\s]+/")
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # magic_link_request counts requests per address in the cache; tests reuse addresses.
    cache.clear()
    yield
    cache.clear()


def _login_as(client, merchant):
    client.force_login(merchant)
    return client


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.pk, *args])


def _last_link(pattern: re.Pattern) -> str:
    assert mail.outbox, "no email was sent"
    match = pattern.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def _request_magic_link(client, capture, email: str, next_url: str = "") -> str:
    data = {"email": email, **({"next": next_url} if next_url else {})}
    with capture(execute=True):
        response = client.post(reverse("dashboard:login"), data)
    assert response.status_code == 200
    assert mail.outbox[-1].to == [email.strip().lower()]
    return _last_link(MAGIC_PATH)


# --- sign-in -------------------------------------------------------------------------------------


def test_login_page_asks_for_an_email_and_hides_unconfigured_providers(client, db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = client.get(reverse("dashboard:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_email">Email</label>' in html
    assert "Continue with Google" not in html
    assert "Continue with GitHub" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_login_shows_configured_providers_as_post_forms(client, db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "cid", "secret": "s", "key": ""}], "SCOPE": ["email"]},
        "github": {"APPS": [{"client_id": "cid", "secret": "s", "key": ""}], "SCOPE": ["email"]},
    }
    html = client.get(reverse("dashboard:login")).content.decode()
    assert "Continue with Google" in html
    assert "Continue with GitHub" in html
    assert re.search(r'<form method="post" action="/accounts/google/login/[^"]*">', html)
    assert re.search(r'<form method="post" action="/accounts/github/login/[^"]*">', html)


def test_login_never_reveals_whether_an_account_exists(
    client, db, django_capture_on_commit_callbacks
):
    MerchantFactory(email="known@example.com")
    answers = []
    for email in ("known@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("dashboard:login"), {"email": email})
        answers.append(
            (
                response.status_code,
                [t.name for t in response.templates][:1],
                # Only the address and the per-render CSRF mask (language switcher) may differ.
                CSRF_VALUE.sub("CSRF", response.content.decode().replace(email, "EMAIL")),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    assert "Check your email" in answers[0][2]
    # Both addresses get a link; the unknown one gets its account when the link is used.
    assert [m.to for m in mail.outbox] == [["known@example.com"], ["nobody@example.com"]]


def test_login_with_an_invalid_email_shows_the_error_tied_to_the_input(client, db):
    response = client.post(reverse("dashboard:login"), {"email": "not-an-email"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="id_email_error"' in html
    assert mail.outbox == []


def test_signed_in_merchant_visiting_login_goes_to_the_dashboard(owner_client):
    response = owner_client.get(reverse("dashboard:login"))
    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")


def test_magic_link_page_needs_a_click_and_works_exactly_once(
    client, db, django_capture_on_commit_callbacks
):
    path = _request_magic_link(client, django_capture_on_commit_callbacks, " New@Example.com ")
    # Opening the link (as a mail scanner would) does not use it up.
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        assert "Sign in" in response.content.decode()
        assert response.headers["Cache-Control"] == "no-store"
    assert "_auth_user_id" not in client.session

    response = client.post(path)
    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    assert client.session["_auth_user_id"]
    assert client.get(reverse("dashboard:home")).url == reverse("dashboard:onboarding")

    other = Client()
    again = other.post(path)
    assert again.status_code == 400
    html = again.content.decode()
    assert "expired or was already used" in html
    assert f'href="{reverse("dashboard:login")}"' in html
    assert "_auth_user_id" not in other.session


def test_magic_link_expires_after_15_minutes(client, db, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        early = _request_magic_link(client, django_capture_on_commit_callbacks, "a@example.com")
        late = _request_magic_link(client, django_capture_on_commit_callbacks, "b@example.com")
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert client.post(early).status_code == 302
    client.logout()
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        response = client.post(late)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_unknown_magic_link_is_a_friendly_400(client, db):
    response = client.post(reverse("dashboard:magic-link", args=["made-up-token"]))
    assert response.status_code == 400
    assert "Get a new sign-in link" in response.content.decode()


# --- home, onboarding, environment -------------------------------------------------------------


def test_home_sends_each_merchant_to_the_right_place(client, owner, db):
    assert client.get("/").url == reverse("dashboard:login")
    client.force_login(owner)
    assert client.get("/").url == reverse("dashboard:onboarding")
    store = services.store_create(merchant=owner, name="First")
    assert client.get("/").url == reverse("dashboard:store", args=[store.pk])


def test_home_remembers_the_current_store(owner_client, owner):
    first = services.store_create(merchant=owner, name="First")
    second = services.store_create(merchant=owner, name="Second")
    assert owner_client.get("/").url == reverse("dashboard:store", args=[first.pk])
    assert owner_client.get(reverse("dashboard:store", args=[second.pk])).status_code == 200
    assert owner_client.get("/").url == reverse("dashboard:store", args=[second.pk])
    switched = owner_client.get(reverse("dashboard:switch-store"), {"store": str(first.pk)})
    assert switched.url == reverse("dashboard:store", args=[first.pk])


def test_onboarding_creates_a_store_owned_by_the_merchant(owner_client, owner):
    page = owner_client.get(reverse("dashboard:onboarding"))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="JP">Japan</option>' in html
    assert '<option value="EU">' not in html and '<option value="ZZ">' not in html
    assert unlabelled_controls(html) == []

    response = owner_client.post(
        reverse("dashboard:onboarding"),
        {"name": "  Tea & Co  ", "default_currency": "JPY", "country": "JP"},
        follow=True,
    )
    store = Store.objects.get()
    assert (store.name, store.default_currency, store.country) == ("Tea & Co", "JPY", "JP")
    assert re.fullmatch(r"tea-co-[0-9a-f]{6}", store.slug)
    membership = StoreMembership.objects.get(store=store)
    assert (membership.merchant, membership.role, membership.status) == (owner, "owner", "active")
    # Onboarding goes on with the store's first product.
    assert response.redirect_chain == [(reverse("dashboard:first-product", args=[store.pk]), 302)]
    html = response.content.decode()
    assert "Your store “Tea &amp; Co” is ready." in html
    assert "Your first product" in html


def test_onboarding_rejects_bad_input_without_creating_anything(owner_client):
    response = owner_client.post(
        reverse("dashboard:onboarding"), {"name": "   ", "default_currency": "XXX", "country": "EU"}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"name", "default_currency", "country"}
    assert Store.objects.count() == 0


def test_onboarding_shows_the_store_limit_inline(owner_client, owner, settings):
    settings.MAX_STORES_PER_MERCHANT = 1
    services.store_create(merchant=owner, name="Only one")
    response = owner_client.post(
        reverse("dashboard:onboarding"), {"name": "Two", "default_currency": "USD", "country": "US"}
    )
    assert response.status_code == 403
    assert "Store limit reached" in response.content.decode()
    assert Store.objects.count() == 1


def test_store_home_shows_the_store_and_next_steps(owner_client, shop):
    response = owner_client.get(reverse("dashboard:store", args=[shop.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        shop.name,
        shop.slug,
        "Test mode",
        "Getting started",
        "Add an API key or a webhook",
    ):
        assert text in html
    assert reverse("dashboard:developers", args=[shop.pk]) in html
    assert reverse("dashboard:first-product", args=[shop.pk]) in html
    assert reverse("dashboard:settings", args=[shop.pk]) in html
    assert owner_client.session["store_id"] == str(shop.pk)


def test_environment_toggle_lives_in_the_session(owner_client, shop):
    home = reverse("dashboard:store", args=[shop.pk])
    assert 'id="test-mode-badge"' in owner_client.get(home).content.decode()
    response = owner_client.post(
        reverse("dashboard:environment"), {"environment": "prod", "next": home}
    )
    assert response.url == home
    assert owner_client.session["environment"] == "prod"
    html = owner_client.get(home).content.decode()
    assert 'id="test-mode-badge"' not in html
    assert 'value="prod" aria-pressed="true"' in html
    owner_client.post(reverse("dashboard:environment"), {"environment": "bogus", "next": home})
    assert owner_client.session["environment"] == "prod"
    offsite = owner_client.post(
        reverse("dashboard:environment"), {"environment": "test", "next": "https://evil.example/"}
    )
    assert offsite.url == reverse("dashboard:home")
    assert owner_client.session["environment"] == "test"


# --- settings ------------------------------------------------------------------------------------


def _details(store, **changes):
    data = {
        "name": store.name,
        "support_email": store.support_email or "",
        "website": store.website or "",
        "description": store.description,
        "default_currency": store.default_currency,
        "timezone": store.timezone,
        "logo": store.logo or "",
        "status": store.status,
    }
    data.update(changes)
    return data


def _branding(**changes):
    data = {"default_dark_mode": "on"}
    for theme, colours in (
        ("light", ("#112233", "#FFFFFF", "#F3F4F6", "#111827")),
        ("dark", ("#ADFF85", "#0A1A1F", "#0A1A1F", "#FFFFFF")),
    ):
        data[f"{theme}_logo"] = ""
        for short, colour in zip(("primary", "background", "card", "text"), colours, strict=True):
            data[f"{theme}_{short}"] = colour
        data[f"{theme}_radius"] = "12"
    data.update(changes)
    return data


def test_owner_updates_store_details(owner_client, shop):
    response = owner_client.post(
        _url("settings-details", shop),
        _details(
            shop,
            name="Maple Shop EU",
            support_email=" Help@Maple.example ",
            website="https://maple.example",
            timezone="Europe/Berlin",
            status="inactive",
            logo="https://maple.example/logo.png",
        ),
    )
    assert response.status_code == 302
    assert response.url == _url("settings-details", shop) + "?saved=details#details"
    shop.refresh_from_db()
    assert shop.name == "Maple Shop EU"
    assert shop.support_email == "help@maple.example"
    assert shop.timezone == "Europe/Berlin"
    assert shop.status == "inactive"
    assert shop.logo == "https://maple.example/logo.png"


def test_settings_pages_label_every_input(owner_client, shop):
    pages = {
        name: owner_client.get(_url(f"settings-{name}", shop))
        for name in ("details", "notifications", "branding")
    }
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    html = {name: r.content.decode() for name, r in pages.items()}
    assert all(unlabelled_controls(one) == [] for one in html.values())
    assert html["branding"].count('type="color"') == 8
    for label in ("New orders", "Chargebacks", "Email customers before their trial ends"):
        assert label in html["notifications"]
    assert 'name="emailOrderConfirmation"' not in html["notifications"]  # not merchant-writable
    assert "Reset to default" in html["branding"]
    assert "Type the store name to confirm" in html["details"]
    # One section per page: no other section's form on it.
    assert 'type="color"' not in html["details"] + html["notifications"]
    assert 'name="notifyNewOrders"' not in html["details"] + html["branding"]
    assert 'name="support_email"' not in html["notifications"] + html["branding"]


def test_the_old_settings_address_opens_the_first_section(owner_client, shop):
    response = owner_client.get(_url("settings", shop))
    assert response.status_code == 302
    assert response.url == _url("settings-details", shop)


def test_the_sections_sub_navigation_marks_the_current_page(owner_client, shop):
    html = owner_client.get(_url("settings-notifications", shop)).content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
    assert _url("settings-notifications", shop) in current
    assert _url("settings-details", shop) in html and _url("settings-branding", shop) in html


def test_a_saved_section_confirms_beside_its_button_only(owner_client, shop):
    response = owner_client.post(
        _url("settings-notifications", shop), {"notifyNewOrders": "on"}, follow=True
    )
    html = response.content.decode()
    note = re.search(
        r'Save notifications</button><p class="saved-note" role="status" id="saved-note">'
        r"Saved\.</p>",
        html,
    )
    assert note, "the confirmation sits right after the button that saved"
    # The other sections' pages carry no confirmation.
    for other in ("details", "branding"):
        assert (
            "saved-note" not in owner_client.get(_url(f"settings-{other}", shop)).content.decode()
        )
    # A forged ?saved= for another section shows nothing here.
    forged = owner_client.get(_url("settings-details", shop) + "?saved=notifications")
    assert "saved-note" not in forged.content.decode()


def test_an_invalid_section_comes_back_on_its_own_page(owner_client, shop):
    response = owner_client.post(_url("settings-details", shop), _details(shop, name=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "saved-note" not in html
    assert 'type="color"' not in html  # not the branding section


def test_notification_settings_save_the_twelve_writable_keys(owner_client, shop):
    data = {"notifyNewOrders": "on", "emailTrialEnding": "on", "emailOrderConfirmation": ""}
    response = owner_client.post(_url("settings-notifications", shop), data)
    assert response.status_code == 302
    shop.refresh_from_db()
    assert len(shop.notification_settings) == 12
    assert shop.notifications["notifyNewOrders"] is True
    assert shop.notifications["emailTrialEnding"] is True
    assert shop.notifications["notifyChargeback"] is False
    assert shop.notifications["emailOrderConfirmation"] is True


def test_checkout_branding_saves_in_the_sdk_shape_and_resets(owner_client, shop):
    response = owner_client.post(_url("settings-branding", shop), _branding())
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.checkout_settings["defaultDarkMode"] is True
    assert shop.checkout_settings["light"] == {
        "checkoutLogo": None,
        "checkoutColorPrimary": "#112233",
        "checkoutColorBackground": "#FFFFFF",
        "checkoutColorCard": "#F3F4F6",
        "checkoutColorText": "#111827",
        "checkoutBorderRadius": "12px",
    }
    html = owner_client.get(_url("settings-branding", shop)).content.decode()
    assert 'value="#112233"' in html

    response = owner_client.post(_url("settings-branding-reset", shop))
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.checkout_settings is None


def test_checkout_branding_rejects_a_radius_over_16px(owner_client, shop):
    response = owner_client.post(
        _url("settings-branding", shop), _branding(light_radius="17", dark_primary="red")
    )
    assert response.status_code == 400
    form = response.context["branding_form"]
    assert set(form.errors) == {"light_radius", "dark_primary"}
    shop.refresh_from_db()
    assert shop.checkout_settings is None


def test_member_sees_settings_read_only_and_cannot_change_them(client, shop):
    member = MerchantFactory()
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    _login_as(client, member)
    page = client.get(_url("settings-details", shop))
    assert page.status_code == 200
    html = page.content.decode()
    assert "can see its settings but not change them" in html
    assert "Save store details" not in html
    assert re.search(r'<input type="text" name="name" value="Maple Shop"[^>]* disabled', html)
    assert "Delete store" not in html

    for name, data in (
        ("settings-details", _details(shop, name="Hijacked")),
        ("settings-notifications", {"notifyNewOrders": ""}),
        ("settings-branding", _branding()),
        ("settings-branding-reset", {}),
    ):
        response = client.post(_url(name, shop), data)
        assert response.status_code == 403, name
        assert "Insufficient permissions" in response.content.decode()
    shop.refresh_from_db()
    assert shop.name == "Maple Shop"
    assert shop.notification_settings == {}
    assert shop.checkout_settings is None


def test_only_the_owner_deletes_a_store_by_typing_its_name(client, owner, shop):
    admin = MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    _login_as(client, admin)
    assert (
        "Type the store name to confirm"
        not in client.get(_url("settings-details", shop)).content.decode()
    )
    refused = client.post(_url("settings-delete", shop), {"confirm_name": "Maple Shop"})
    assert refused.status_code == 403
    assert "Only store owner can delete store" in refused.content.decode()

    _login_as(client, owner)
    wrong = client.post(_url("settings-delete", shop), {"confirm_name": "Maple"})
    assert wrong.status_code == 400
    shop.refresh_from_db()
    assert shop.deleted_at is None

    response = client.post(
        _url("settings-delete", shop), {"confirm_name": "Maple Shop"}, follow=True
    )
    shop.refresh_from_db()
    assert shop.deleted_at is not None
    assert response.redirect_chain[-1][0] == reverse("dashboard:onboarding")
    assert client.get(_url("settings", shop)).status_code == 404


STORE_PAGES = [
    ("get", "store", ()),
    ("get", "settings", ()),
    ("post", "settings-details", ()),
    ("post", "settings-branding-reset", ()),
    ("post", "settings-delete", ()),
    ("get", "team", ()),
    ("post", "team", ()),
    ("post", "team-leave", ()),
    ("get", "developers", ()),
    ("post", "developers", ()),
]


@pytest.mark.parametrize("method,name,args", STORE_PAGES)
def test_another_merchants_store_pages_are_404(client, shop, method, name, args):
    _login_as(client, MerchantFactory())
    response = getattr(client, method)(_url(name, shop, *args), {})
    assert response.status_code == 404
    assert shop.name not in response.content.decode()


def test_an_invited_but_not_accepted_member_cannot_open_the_store(client, owner, shop):
    invited = MerchantFactory()
    MembershipFactory(
        store=shop, merchant=invited, role=Role.ADMIN, status=MembershipStatus.INVITED
    )
    _login_as(client, invited)
    assert client.get(_url("store", shop)).status_code == 404
    assert client.get("/").url == reverse("dashboard:onboarding")


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    response = client.get(_url("settings", shop))
    assert response.status_code == 302
    assert response.url == f"{reverse('dashboard:login')}?next={_url('settings', shop)}"


# --- team ----------------------------------------------------------------------------------------


def test_invite_then_accept_after_signing_in_by_magic_link(
    owner_client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _url("team", shop), {"email": " Friend@Example.com ", "role": "admin"}
        )
    assert response.status_code == 302
    membership = StoreMembership.objects.get(store=shop, merchant__email="friend@example.com")
    assert (membership.role, membership.status) == ("admin", "invited")
    assert mail.outbox[-1].to == ["friend@example.com"]
    invite_path = _last_link(INVITE_PATH)
    team_html = owner_client.get(_url("team", shop)).content.decode()
    assert "friend@example.com" in team_html and "Invited" in team_html

    friend = Client()
    response = friend.get(invite_path)
    assert response.status_code == 302
    login_url = response.url
    assert login_url == f"{reverse('dashboard:login')}?next={invite_path.replace(':', '%3A')}"
    login_page = friend.get(login_url).content.decode()
    assert f'name="next" value="{invite_path}"' in login_page

    magic = _request_magic_link(
        friend, django_capture_on_commit_callbacks, "friend@example.com", next_url=invite_path
    )
    signed_in = friend.post(magic)
    assert signed_in.url == invite_path

    page = friend.get(invite_path)
    assert page.status_code == 200
    assert "Join Maple Shop as Admin" in page.content.decode()
    membership.refresh_from_db()
    assert membership.status == "invited"

    accepted = friend.post(invite_path)
    assert accepted.url == reverse("dashboard:store", args=[shop.pk])
    membership.refresh_from_db()
    assert (membership.role, membership.status) == ("admin", "active")
    assert membership.accepted_at is not None
    assert friend.get(_url("team", shop)).status_code == 200


def test_an_invitation_cannot_be_accepted_by_someone_else(
    owner_client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_url("team", shop), {"email": "friend@example.com", "role": "member"})
    invite_path = _last_link(INVITE_PATH)
    stranger = _login_as(Client(), MerchantFactory(email="stranger@example.com"))
    page = stranger.get(invite_path).content.decode()
    assert "This invitation was sent to <strong>friend@example.com</strong>" in page
    response = stranger.post(invite_path)
    assert response.status_code == 403
    assert StoreMembership.objects.get(merchant__email="friend@example.com").status == "invited"
    assert not StoreMembership.objects.filter(merchant__email="stranger@example.com").exists()


def test_a_tampered_invitation_link_is_a_friendly_400(owner_client):
    response = owner_client.get(reverse("dashboard:invite-accept", args=["not-a-real-token"]))
    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()


def test_inviting_an_existing_member_shows_the_conflict_inline(owner_client, owner, shop):
    response = owner_client.post(_url("team", shop), {"email": owner.email, "role": "member"})
    assert response.status_code == 409
    html = response.content.decode()
    assert field_errors(html, "email") == ["This merchant is already a member of the store"]
    assert alerts(html) == []


def test_an_admin_asking_to_invite_an_admin_sees_why_beside_the_role(client, shop):
    admin = MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    _login_as(client, admin)
    response = client.post(_url("team", shop), {"email": "new@example.com", "role": "admin"})
    assert response.status_code == 403
    html = response.content.decode()
    assert field_errors(html, "role") == ["Only the store owner can grant or change the admin role"]
    assert field_errors(html, "email") == [] and alerts(html) == []
    assert not StoreMembership.objects.filter(merchant__email="new@example.com").exists()


def test_owner_changes_roles_removes_members_and_transfers_ownership(owner_client, owner, shop):
    admin, member = MerchantFactory(), MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)

    response = owner_client.post(_url("team-role", shop, member.pk), {"role": "admin"})
    assert response.status_code == 302
    assert StoreMembership.objects.get(store=shop, merchant=member).role == "admin"

    refused = owner_client.post(_url("team-role", shop, owner.pk), {"role": "member"})
    assert refused.status_code == 403
    assert "transfer ownership instead" in refused.content.decode()

    confirm = owner_client.get(_url("team-remove", shop, member.pk))
    assert confirm.status_code == 200
    assert "Remove member" in confirm.content.decode()
    assert owner_client.post(_url("team-remove", shop, member.pk)).status_code == 302
    assert not StoreMembership.objects.filter(store=shop, merchant=member).exists()

    unconfirmed = owner_client.post(_url("team-transfer", shop), {"merchant": str(admin.pk)})
    assert unconfirmed.status_code == 400
    response = owner_client.post(
        _url("team-transfer", shop), {"merchant": str(admin.pk), "confirm": "on"}
    )
    assert response.status_code == 302
    roles = dict(StoreMembership.objects.filter(store=shop).values_list("merchant_id", "role"))
    assert roles == {admin.pk: "owner", owner.pk: "admin"}


def test_admin_cannot_remove_another_admin_and_member_sees_no_invite_form(client, shop):
    admin, other_admin, member = MerchantFactory(), MerchantFactory(), MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    MembershipFactory(store=shop, merchant=other_admin, role=Role.ADMIN)
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)

    _login_as(client, admin)
    response = client.post(_url("team-remove", shop, other_admin.pk))
    assert response.status_code == 403
    assert "Only the store owner can remove an admin" in response.content.decode()
    assert StoreMembership.objects.filter(store=shop, merchant=other_admin).exists()

    _login_as(client, member)
    html = client.get(_url("team", shop)).content.decode()
    assert "Send invitation" not in html
    assert "Leave store" in html
    refused = client.post(_url("team", shop), {"email": "x@example.com", "role": "member"})
    assert refused.status_code == 403
    assert not StoreMembership.objects.filter(merchant__email="x@example.com").exists()


def test_a_non_owner_can_leave_the_store(client, shop):
    member = MerchantFactory()
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    _login_as(client, member)
    assert client.get(_url("team-leave", shop)).status_code == 200
    response = client.post(_url("team-leave", shop))
    assert response.url == reverse("dashboard:home")
    assert not StoreMembership.objects.filter(store=shop, merchant=member).exists()
    assert client.get(_url("store", shop)).status_code == 404


# --- developers ----------------------------------------------------------------------------------


def _key_form(pem: str, **changes):
    data = {"name": "Server", "environment": "test", "api_version": "2026-09-23", "public_key": pem}
    data.update(changes)
    return data


def test_developers_page_shows_the_merchant_id_and_a_ready_snippet(owner_client, owner, shop):
    response = owner_client.get(_url("developers", shop))
    assert response.status_code == 200
    html = response.content.decode()
    assert owner.short_id.startswith("MER_")
    assert f'merchantId: "{owner.short_id}"' in html
    assert "privateKey: process.env.WAFFO_PRIVATE_KEY" in html
    assert 'baseUrl: "http://testserver"' in html
    assert "Generate key pair and create" in html
    assert "Upload an existing public key (PEM)" in html
    assert "No API keys yet" in html
    assert unlabelled_controls(html) == []


def test_uploading_a_2048_bit_public_key_creates_an_api_key(owner_client, owner, shop, key_pool):
    pem = public_pem(key_pool[0])
    response = owner_client.post(
        _url("developers", shop), _key_form(pem, environment="prod", api_version="2026-01-15")
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(merchant=owner)
    assert (key.name, key.environment, key.api_version) == ("Server", "prod", "2026-01-15")
    assert key.public_key_pem.strip() == pem.strip()
    html = owner_client.get(_url("developers", shop)).content.decode()
    assert "Server" in html and "never" in html
    assert '<span class="badge badge--prod">Live</span>' in html  # the toggle's word

    again = owner_client.post(_url("developers", shop), _key_form(pem, name="Again"))
    assert again.status_code == 409
    assert field_errors(again.content.decode(), "public_key") == [
        "This public key is already registered"
    ]
    assert ApiKey.objects.filter(merchant=owner).count() == 1


def test_a_1024_bit_public_key_is_refused(owner_client, owner, shop):
    response = owner_client.post(_url("developers", shop), _key_form(public_pem(rsa_key(1024))))
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "public_key") == [
        "Invalid public key: RSA keys must have at least 2048 bits"
    ]
    assert alerts(html) == []  # beside the key, not above the form
    assert 'aria-describedby="id_public_key_helptext id_public_key_error"' in html
    assert not ApiKey.objects.exists()


def test_a_missing_public_key_asks_for_one(owner_client, shop):
    response = owner_client.post(_url("developers", shop), _key_form(""))
    assert response.status_code == 400
    assert "Paste a public key" in response.content.decode()


def test_the_generate_button_posts_as_json(owner_client, owner, shop, key_pool):
    response = owner_client.post(
        _url("developers", shop),
        _key_form(public_pem(key_pool[1]), name="From the browser"),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    body = response.json()
    key = ApiKey.objects.get(merchant=owner)
    assert body["key"] == {
        "id": str(key.pk),
        "name": "From the browser",
        "environment": "test",
        "apiVersion": "2026-09-23",
    }
    bad = owner_client.post(
        _url("developers", shop),
        _key_form(public_pem(rsa_key(1024))),
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400
    assert "2048" in bad.json()["errors"]["public_key"][0]["message"]


def test_changing_an_api_keys_version(owner_client, owner, shop, key_pool):
    key = make_api_key(owner, key_pool[0])
    response = owner_client.post(
        _url("api-key-version", shop, key.pk), {f"{key.pk}-api_version": "2026-01-15"}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.api_version == "2026-01-15"


def test_deleting_an_api_key_asks_first_and_is_immediate(owner_client, owner, shop, key_pool):
    key = make_api_key(owner, key_pool[0], name="Old server")
    confirm = owner_client.get(_url("api-key-delete", shop, key.pk))
    assert confirm.status_code == 200
    assert "Delete API key" in confirm.content.decode()
    assert ApiKey.objects.filter(pk=key.pk).exists()
    response = owner_client.post(_url("api-key-delete", shop, key.pk))
    assert response.status_code == 302
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert owner_client.post(_url("api-key-delete", shop, key.pk)).status_code == 404


def test_another_merchants_api_key_cannot_be_changed_or_deleted(owner_client, shop, key_pool):
    stranger_key = make_api_key(MerchantFactory(), key_pool[2])
    assert owner_client.post(_url("api-key-delete", shop, stranger_key.pk)).status_code == 404
    response = owner_client.post(
        _url("api-key-version", shop, stranger_key.pk),
        {f"{stranger_key.pk}-api_version": "2026-01-15"},
    )
    assert response.status_code == 404
    stranger_key.refresh_from_db()
    assert stranger_key.api_version == "2026-09-23"
    assert owner_client.get(_url("api-key-delete", shop, uuid.uuid4())).status_code == 404
