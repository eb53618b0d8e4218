"""The SDK's Store shape and store/update-store semantics."""

import re

import pytest

from stores.models import MERCHANT_WRITABLE_NOTIFICATION_KEYS, NOTIFICATION_KEYS, Store
from tests.api.helpers import TIMESTAMP_RE, assert_error, assert_ok, short

STORE_FIELDS = {
    "id",
    "name",
    "status",
    "logo",
    "supportEmail",
    "website",
    "slug",
    "prodEnabled",
    "notificationSettings",
    "checkoutSettings",
    "deletedAt",
    "createdAt",
    "updatedAt",
}
SDK_NOTIFICATION_KEYS = {
    "emailOrderConfirmation",
    "emailSubscriptionConfirmation",
    "emailSubscriptionCycled",
    "emailSubscriptionCanceled",
    "emailSubscriptionRevoked",
    "emailSubscriptionPastDue",
    "emailTrialStarted",
    "emailTrialEnding",
    "emailUpcomingCharge",
    "emailSubscriptionPlanChanged",
    "emailRefundSucceeded",
    "notifyNewOrders",
    "notifyNewSubscriptions",
    "notifySubscriptionCanceled",
    "notifySubscriptionEnded",
    "notifySubscriptionPastDue",
    "notifySubscriptionRenewed",
    "notifySubscriptionUncanceled",
    "notifySubscriptionPlanChanged",
    "notifyChargeback",
    "notifyRefundSucceeded",
}
WRITABLE = {k for k in SDK_NOTIFICATION_KEYS if k.startswith("notify")} | {
    "emailUpcomingCharge",
    "emailTrialEnding",
}


def _update(api, store, **fields):
    return api.post("store/update-store", {"id": short("STO", store.pk), **fields})


def _store(response) -> dict:
    return assert_ok(response)["data"]["store"]


# --- shape --------------------------------------------------------------------------------------


def test_created_store_has_exactly_the_sdk_store_fields(api):
    store = _store(api.post("store/create-store", {"name": "My Store"}))
    assert set(store) == STORE_FIELDS
    assert re.fullmatch(r"STO_[0-9A-Za-z]{22}", store["id"])
    assert store["name"] == "My Store"
    assert store["status"] == "active"
    assert store["logo"] is None
    assert store["supportEmail"] is None
    assert store["website"] is None
    assert re.fullmatch(r"my-store-[0-9a-z]{6}", store["slug"])
    assert store["prodEnabled"] is False
    assert store["checkoutSettings"] is None
    assert store["deletedAt"] is None
    assert TIMESTAMP_RE.match(store["createdAt"])
    assert TIMESTAMP_RE.match(store["updatedAt"])


def test_notification_settings_carry_the_21_sdk_keys_all_on(api):
    settings = _store(api.post("store/create-store", {"name": "S"}))["notificationSettings"]
    assert len(settings) == 21
    assert set(settings) == SDK_NOTIFICATION_KEYS
    assert all(value is True for value in settings.values())


def test_model_constants_match_the_sdk():
    assert set(NOTIFICATION_KEYS) == SDK_NOTIFICATION_KEYS
    assert set(MERCHANT_WRITABLE_NOTIFICATION_KEYS) == WRITABLE
    assert len(WRITABLE) == 12


def test_every_store_gets_its_own_slug(api):
    first = _store(api.post("store/create-store", {"name": "Same Name"}))
    second = _store(api.post("store/create-store", {"name": "Same Name"}))
    assert first["slug"] != second["slug"]
    assert first["slug"].startswith("same-name-")


@pytest.mark.parametrize("name", ["☕☕☕", "店", "!!!"])
def test_names_without_latin_letters_still_get_a_slug(api, name):
    store = _store(api.post("store/create-store", {"name": name}))
    assert store["name"] == name
    assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{6}", store["slug"])


def test_create_store_trims_the_name(api):
    assert _store(api.post("store/create-store", {"name": "  Padded  "}))["name"] == "Padded"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_name_outside_1_to_100_characters_is_400(api, name):
    response = api.post("store/create-store", {"name": name})
    assert_error(response, 400, "Store name must be between 1 and 100 characters")
    assert not Store.objects.exists()


def test_name_of_100_characters_is_accepted(api):
    assert _store(api.post("store/create-store", {"name": "x" * 100}))["name"] == "x" * 100


@pytest.mark.parametrize("name", [["a"], {"a": 1}, True])
def test_name_that_is_not_a_string_is_400(api, name):
    assert_error(api.post("store/create-store", {"name": name}), 400)


# --- partial updates ------------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(api, store):
    full = _store(
        _update(
            api,
            store,
            name="Full",
            logo="https://cdn.example.com/logo.png",
            supportEmail="Help@Example.com",
            website="https://example.com",
            status="inactive",
        )
    )
    assert full["supportEmail"] == "help@example.com"
    renamed = _store(_update(api, store, name="Renamed"))
    assert renamed["name"] == "Renamed"
    for key in ("logo", "supportEmail", "website", "status", "slug", "createdAt", "id"):
        assert renamed[key] == full[key], key
    assert renamed["notificationSettings"] == full["notificationSettings"]


def test_update_with_only_the_id_changes_nothing_but_answers_the_store(api, store):
    before = _store(_update(api, store))
    assert before["name"] == "My Store"


def test_update_refreshes_updated_at_but_not_created_at(api, store):
    created = store.created_at
    _store(_update(api, store, name="Later"))
    store.refresh_from_db()
    assert store.created_at == created
    assert store.updated_at >= created


def test_null_and_blank_clear_optional_fields(api, store):
    _update(
        api, store, logo="https://x.example/l.png", supportEmail="a@b.co", website="https://a.b"
    )
    cleared = _store(_update(api, store, logo=None, supportEmail=None, website=None))
    assert (
        cleared["logo"] is None and cleared["supportEmail"] is None and cleared["website"] is None
    )
    _update(api, store, logo="https://x.example/l.png")
    assert _store(_update(api, store, logo=""))["logo"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("logo", "not a url"),
        ("logo", "javascript:alert(1)"),
        ("website", "ftp//nope"),
        ("supportEmail", "nope"),
        ("status", "deleted"),
        ("name", ""),
    ],
)
def test_invalid_values_are_400_naming_the_field(api, store, field, value):
    error = assert_error(_update(api, store, **{field: value}), 400)
    assert field in error["message"] or "Store name" in error["message"]
    store.refresh_from_db()
    assert store.name == "My Store"


def test_name_over_100_characters_is_400_on_update(api, store):
    response = _update(api, store, name="y" * 101)
    assert_error(response, 400, "Store name must be between 1 and 100 characters")


def test_status_can_move_between_active_and_inactive(api, store):
    assert _store(_update(api, store, status="inactive"))["status"] == "inactive"
    assert _store(_update(api, store, status="active"))["status"] == "active"


def test_merchants_cannot_suspend_a_store(api, store):
    response = _update(api, store, status="suspended")
    assert_error(response, 403, "Only platform staff can suspend a store")
    store.refresh_from_db()
    assert store.status == "active"


def test_merchants_cannot_reinstate_a_suspended_store(api, store):
    Store.objects.filter(pk=store.pk).update(status="suspended")
    assert_error(_update(api, store, status="active"), 403)
    assert _store(_update(api, store, name="Still suspended"))["status"] == "suspended"


def test_read_only_store_fields_are_ignored(api, store):
    before = _store(_update(api, store))
    after = _store(
        _update(
            api,
            store,
            slug="stolen-slug",
            prodEnabled=True,
            deletedAt="2026-01-01T00:00:00.000Z",
            createdAt="2020-01-01T00:00:00.000Z",
        )
    )
    for key in ("slug", "prodEnabled", "deletedAt", "createdAt"):
        assert after[key] == before[key], key
    store.refresh_from_db()
    assert store.deleted_at is None and store.prod_enabled is False


def test_update_store_needs_an_id(api):
    assert_error(api.post("store/update-store", {"name": "x"}), 400, "Missing required field: id")


def test_webhook_settings_are_ignored_with_a_warning(api, store):
    body = assert_ok(_update(api, store, webhookSettings={"url": "https://hooks.example.com"}))
    assert body["warnings"]
    assert "webhookSettings" in body["warnings"][0]["message"]
    assert body["warnings"][0]["layer"] == "store"


# --- notificationSettings ---------------------------------------------------------------------


def test_notification_settings_write_the_writable_keys(api, store):
    body = assert_ok(
        _update(
            api,
            store,
            notificationSettings={key: False for key in WRITABLE},
        )
    )
    settings = body["data"]["store"]["notificationSettings"]
    assert "warnings" not in body
    for key in SDK_NOTIFICATION_KEYS:
        assert settings[key] is (key not in WRITABLE), key


def test_non_writable_notification_keys_are_dropped_and_named_in_warnings(api, store):
    body = assert_ok(
        _update(
            api,
            store,
            notificationSettings={
                "notifyNewOrders": False,
                "emailOrderConfirmation": False,
                "emailRefundSucceeded": False,
                "madeUp": False,
            },
        )
    )
    settings = body["data"]["store"]["notificationSettings"]
    assert settings["notifyNewOrders"] is False
    assert settings["emailOrderConfirmation"] is True
    assert settings["emailRefundSucceeded"] is True
    assert "madeUp" not in settings
    assert len(settings) == 21
    message = " ".join(w["message"] for w in body["warnings"])
    for key in ("emailOrderConfirmation", "emailRefundSucceeded", "madeUp"):
        assert key in message
    assert "notifyNewOrders" not in message


def test_notification_settings_merge_partially(api, store):
    _update(api, store, notificationSettings={"notifyNewOrders": False})
    settings = _store(_update(api, store, notificationSettings={"notifyChargeback": False}))[
        "notificationSettings"
    ]
    assert settings["notifyNewOrders"] is False
    assert settings["notifyChargeback"] is False
    assert sum(1 for v in settings.values() if v is False) == 2


def test_null_notification_settings_turn_everything_back_on(api, store):
    _update(api, store, notificationSettings={"notifyNewOrders": False, "emailTrialEnding": False})
    settings = _store(_update(api, store, notificationSettings=None))["notificationSettings"]
    assert len(settings) == 21
    assert all(value is True for value in settings.values())


@pytest.mark.parametrize("value", ["false", 0, None, [False]])
def test_notification_values_must_be_booleans(api, store, value):
    response = _update(api, store, notificationSettings={"notifyNewOrders": value})
    error = assert_error(response, 400)
    assert "notificationSettings.notifyNewOrders" in error["message"]


@pytest.mark.parametrize("value", [[], "all", 1])
def test_notification_settings_must_be_an_object_or_null(api, store, value):
    assert_error(_update(api, store, notificationSettings=value), 400)


# --- checkoutSettings -------------------------------------------------------------------------


def test_checkout_settings_merge_partially_over_the_defaults(api, store):
    first = _store(
        _update(api, store, checkoutSettings={"light": {"checkoutColorPrimary": "#ff0000"}})
    )["checkoutSettings"]
    assert set(first) == {"defaultDarkMode", "light", "dark"}
    assert first["defaultDarkMode"] is False
    assert first["light"]["checkoutColorPrimary"] == "#FF0000"
    assert first["light"]["checkoutColorBackground"] == "#FFFFFF"
    assert first["dark"]["checkoutBorderRadius"] == "8px"
    theme_keys = {
        "checkoutLogo",
        "checkoutColorPrimary",
        "checkoutColorBackground",
        "checkoutColorCard",
        "checkoutColorText",
        "checkoutBorderRadius",
    }
    assert set(first["light"]) == set(first["dark"]) == theme_keys

    second = _store(
        _update(
            api,
            store,
            checkoutSettings={"defaultDarkMode": True, "dark": {"checkoutBorderRadius": "4px"}},
        )
    )["checkoutSettings"]
    assert second["light"]["checkoutColorPrimary"] == "#FF0000"
    assert second["dark"]["checkoutBorderRadius"] == "4px"
    assert second["defaultDarkMode"] is True


def test_null_checkout_settings_reset_to_defaults(api, store):
    _update(api, store, checkoutSettings={"light": {"checkoutColorPrimary": "#123456"}})
    assert _store(_update(api, store, checkoutSettings=None))["checkoutSettings"] is None
    fresh = _store(_update(api, store, checkoutSettings={"defaultDarkMode": True}))
    assert fresh["checkoutSettings"]["light"]["checkoutColorPrimary"] == "#7CCB02"


def test_null_theme_resets_that_theme_only(api, store):
    _update(
        api,
        store,
        checkoutSettings={
            "light": {"checkoutColorPrimary": "#111111"},
            "dark": {"checkoutColorPrimary": "#222222"},
        },
    )
    settings = _store(_update(api, store, checkoutSettings={"light": None}))["checkoutSettings"]
    assert settings["light"]["checkoutColorPrimary"] == "#7CCB02"
    assert settings["dark"]["checkoutColorPrimary"] == "#222222"


@pytest.mark.parametrize(
    ("radius", "stored"),
    [(12, "12px"), (0, "0px"), (16, "16px"), ("1rem", "1rem"), ("0.5rem", "0.5rem"), ("6", "6px")],
)
def test_border_radius_is_a_css_length_up_to_16px_and_integers_are_px(api, store, radius, stored):
    settings = _store(
        _update(api, store, checkoutSettings={"light": {"checkoutBorderRadius": radius}})
    )["checkoutSettings"]
    assert settings["light"]["checkoutBorderRadius"] == stored


@pytest.mark.parametrize(
    "radius", ["17px", 17, -1, 10**400, "1.5rem", "abc", "-1px", "8pt", True, "8 px", []]
)
def test_invalid_border_radius_is_400_naming_the_field(api, store, radius):
    response = _update(api, store, checkoutSettings={"dark": {"checkoutBorderRadius": radius}})
    error = assert_error(response, 400, layer="store")
    assert "checkoutSettings.dark.checkoutBorderRadius" in error["message"]
    store.refresh_from_db()
    assert store.checkout_settings is None


def test_null_theme_value_resets_that_value_to_its_default(api, store):
    _update(api, store, checkoutSettings={"dark": {"checkoutBorderRadius": "2px"}})
    settings = _store(
        _update(api, store, checkoutSettings={"dark": {"checkoutBorderRadius": None}})
    )["checkoutSettings"]
    assert settings["dark"]["checkoutBorderRadius"] == "8px"


@pytest.mark.parametrize("colour", ["red", "#12345", "#GGGGGG", "123456", "", 123])
def test_invalid_colour_is_400_naming_the_field(api, store, colour):
    response = _update(api, store, checkoutSettings={"light": {"checkoutColorText": colour}})
    error = assert_error(response, 400)
    assert "checkoutSettings.light.checkoutColorText" in error["message"]


@pytest.mark.parametrize(
    "logo",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/logo.png",
        "https://",
        "https://[oops/logo.png",
        "https://cdn.example.com/\u0000.png",
        "https://cdn.example.com/" + "a" * 2000,
        5,
        ["https://cdn.example.com/logo.png"],
    ],
)
def test_invalid_checkout_logo_is_400_on_every_database(api, store, logo):
    response = _update(api, store, checkoutSettings={"dark": {"checkoutLogo": logo}})
    error = assert_error(response, 400, layer="store")
    assert "checkoutSettings.dark.checkoutLogo" in error["message"]


def test_checkout_logo_must_be_an_http_url_or_null(api, store):
    error = assert_error(
        _update(api, store, checkoutSettings={"light": {"checkoutLogo": "javascript:alert(1)"}}),
        400,
    )
    assert "checkoutSettings.light.checkoutLogo" in error["message"]
    ok = _store(
        _update(
            api, store, checkoutSettings={"light": {"checkoutLogo": "https://cdn.example/x.png"}}
        )
    )
    assert ok["checkoutSettings"]["light"]["checkoutLogo"] == "https://cdn.example/x.png"


def test_default_dark_mode_must_be_a_boolean(api, store):
    error = assert_error(_update(api, store, checkoutSettings={"defaultDarkMode": "yes"}), 400)
    assert "checkoutSettings.defaultDarkMode" in error["message"]


def test_invalid_checkout_settings_leave_the_whole_update_undone(api, store):
    response = _update(
        api,
        store,
        name="Should not stick",
        notificationSettings={"notifyNewOrders": False},
        checkoutSettings={"light": {"checkoutColorPrimary": "nope"}},
    )
    assert_error(response, 400)
    store.refresh_from_db()
    assert store.name == "My Store"
    assert store.notifications["notifyNewOrders"] is True
