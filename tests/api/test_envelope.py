"""Every /v1/ response is the JSON envelope, whatever produced it."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory, override_settings
from rest_framework import serializers

from pancake.api import auth, ratelimit
from pancake.api.errors import RateLimited
from stores import api as store_actions
from stores import services
from stores.models import Store
from tests.api.helpers import assert_error, assert_ok, body_of, short
from tests.helpers import ApiClient

CREATE = "/v1/actions/store/create-store"


def test_success_is_a_data_object_without_errors(api):
    body = assert_ok(api.post("store/create-store", {"name": "Shop"}))
    assert set(body) == {"data"}
    assert set(body["data"]) == {"store"}


def test_unknown_action_is_a_404_envelope(api):
    response = api.post("store/no-such-action", {})
    error = assert_error(response, 404, layer="gateway")
    assert "/v1/actions/store/no-such-action" in error["message"]


@pytest.mark.parametrize("path", ["/v1", "/v1/", "/v1/nothing", "/v1/actions", "/v1/actions/store"])
def test_unknown_v1_paths_are_404_envelopes(db, path):
    assert_error(Client().post(path), 404)
    assert_error(Client().get(path), 404)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_than_post_are_a_405_envelope(api, method):
    response = getattr(Client(), method)(CREATE)
    assert_error(response, 405, "Method not allowed: use POST")


def test_trailing_slash_is_a_404_envelope_and_never_a_redirect(api):
    response = api.raw(CREATE + "/", b'{"name":"X"}', sign_path=CREATE + "/")
    assert_error(response, 404)
    assert "Location" not in response
    assert not Store.objects.exists()
    assert_error(Client().get(CREATE + "/"), 404)


@override_settings(API_MAX_BODY_BYTES=64)
def test_body_over_the_limit_is_a_413_envelope(api):
    response = api.post("store/create-store", {"name": "x" * 100})
    assert_error(response, 413, "Request body too large")
    assert not Store.objects.exists()
    assert_ok(api.post("store/create-store", {"name": "small"}))


@override_settings(API_MAX_BODY_BYTES=64)
def test_oversized_unsigned_body_is_refused_before_authentication(db):
    response = Client().post(CREATE, data=b"{" + b" " * 200 + b"}", content_type="application/json")
    assert_error(response, 413)


@override_settings(API_RATE_LIMIT=(1, 60, 2))  # bursts of 2, then a token a minute
def test_exceeding_the_rate_limit_is_a_429_with_retry_after(api, make_api):
    # Buckets are per merchant (fresh ids per test), so no cache.clear() that would flush a
    # shared Redis.
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC), tick=False) as clock:
        assert_ok(api.post("store/create-store", {"name": "1"}))
        assert_ok(api.post("store/create-store", {"name": "2"}))
        response = api.post("store/create-store", {"name": "3"})
        assert_error(response, 429, "Too many requests, please retry later")
        assert response["Retry-After"] == "60"
        assert Store.objects.count() == 2
        # Another credential has its own bucket.
        assert_ok(make_api().post("store/create-store", {"name": "other"}))
        # The next token lets the caller in again.
        clock.shift(timedelta(seconds=60))
        assert_ok(api.post("store/create-store", {"name": "4"}))


@override_settings(API_PUBLIC_RATE_LIMIT=(1, 60, 2), API_RATE_LIMIT=(100, 1, 200))
def test_public_store_slug_calls_are_also_limited_per_client_ip(store):
    other = Store.objects.create(name="Other", slug="other-abc123")
    octets = uuid.uuid4().bytes
    ip, elsewhere_ip = (f"10.{octets[i]}.{octets[i + 1]}.{octets[i + 2]}" for i in (0, 3))
    request = RequestFactory().post(CREATE, REMOTE_ADDR=ip)
    for s in (store, other):
        ratelimit.check(request, auth.Actor(kind=auth.STORE_SLUG, environment="test", store=s))
    with pytest.raises(RateLimited):
        ratelimit.check(request, auth.Actor(kind=auth.STORE_SLUG, environment="test", store=store))
    elsewhere = RequestFactory().post(CREATE, REMOTE_ADDR=elsewhere_ip)
    ratelimit.check(elsewhere, auth.Actor(kind=auth.STORE_SLUG, environment="test", store=other))


def test_malformed_json_is_400_invalid_json_body(api):
    response = api.raw(CREATE, b'{"name": "x"')
    assert_error(response, 400, "Invalid JSON body")


@pytest.mark.parametrize(
    "raw", [b'{"name": NaN}', b'{"name": "x", "n": Infinity}', b'{"name": "x", "n": -Infinity}']
)
def test_python_only_json_constants_are_400_invalid_json_body(api, raw):
    assert_error(api.raw(CREATE, raw), 400, "Invalid JSON body")
    assert not Store.objects.exists()


def test_absurdly_nested_json_is_400_not_500(api):
    assert_error(api.raw(CREATE, b"[" * 100_000 + b"]" * 100_000), 400, "Invalid JSON body")


def test_body_that_is_not_utf8_is_400_invalid_json_body(api):
    assert_error(api.raw(CREATE, b'{"name": "\xff\xfe"}'), 400, "Invalid JSON body")


@pytest.mark.parametrize("raw", [b'["name"]', b'"name"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_400(api, raw):
    error = assert_error(api.raw(CREATE, raw), 400)
    assert error["message"].startswith("Invalid JSON body")


def test_missing_field_is_400_naming_it(api):
    assert_error(
        api.post("store/create-store", {}), 400, "Missing required field: name", layer="store"
    )
    assert_error(
        api.post("store/create-store", {"name": None}), 400, "Missing required field: name"
    )
    assert_error(api.raw(CREATE, b""), 400, "Missing required field: name")


def test_unknown_fields_are_ignored(api):
    body = assert_ok(
        api.post("store/create-store", {"name": "Shop", "colour": "blue", "storeId": "x"})
    )
    assert body["data"]["store"]["name"] == "Shop"
    assert "warnings" not in body


def test_unhandled_exception_is_a_500_envelope_without_traceback(api, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(services, "store_create", explode)
    response = api.post("store/create-store", {"name": "Boom"})
    assert_error(response, 500, "Internal server error", layer="gateway")
    content = response.content.decode()
    assert "hunter2" not in content
    assert "Traceback" not in content
    assert "RuntimeError" not in content


def test_failure_after_the_service_ran_rolls_the_effect_back(api, monkeypatch):
    class Broken(serializers.Serializer):
        def to_representation(self, instance):
            raise RuntimeError("render failed")

    monkeypatch.setattr(store_actions.CreateStore, "Output", Broken)
    assert_error(api.post("store/create-store", {"name": "Half"}), 500)
    assert not Store.objects.exists()


def test_action_view_is_csrf_exempt(merchant, rsa_private_key, api):
    strict = ApiClient(api.merchant, rsa_private_key, client=Client(enforce_csrf_checks=True))
    strict.client.force_login(api.merchant)  # a session cookie must not make CSRF apply
    assert_ok(strict.post("store/create-store", {"name": "No CSRF"}))


def test_missing_authentication_is_a_401_envelope(db):
    response = Client().post(CREATE, data=b'{"name":"X"}', content_type="application/json")
    assert_error(response, 401, "Missing authentication", layer="user")


def test_options_answers_json(db):
    response = Client().options(CREATE)
    assert response.status_code == 200
    assert body_of(response)["data"] == {"methods": ["POST"]}


def test_scan_prompt_answers_501_in_the_envelope(api):
    response = api.post("verification/scan-prompt", {"prompt": "hello", "locale": "en"})
    assert_error(response, 501, "Content safety scanning is not available on this server")


def test_scan_prompt_still_requires_authentication(db):
    response = Client().post(
        "/v1/actions/verification/scan-prompt",
        data=b'{"prompt":"x"}',
        content_type="application/json",
    )
    assert_error(response, 401)


def test_error_chain_lists_root_cause_first(api, monkeypatch):
    from pancake.api.errors import Forbidden, NotFound

    def chained(**kwargs):
        try:
            raise NotFound("Merchant is not a member of this store", layer="store")
        except NotFound as inner:
            raise Forbidden("Cannot create store", layer="gateway") from inner

    monkeypatch.setattr(services, "store_create", chained)
    response = api.post("store/create-store", {"name": "x"})
    assert response.status_code == 404
    errors = body_of(response)["errors"]
    assert errors == [
        {"message": "Merchant is not a member of this store", "layer": "store"},
        {"message": "Cannot create store", "layer": "gateway"},
    ]


def test_every_failure_kind_carries_pancake_version(api, store):
    responses = [
        api.post("store/no-such-action", {}),
        Client().get(CREATE),
        api.raw(CREATE, b"{"),
        api.post("store/update-store", {"id": short("STO", store.pk), "name": ""}),
        Client().post(CREATE),
    ]
    for response in responses:
        assert response["Pancake-Version"] == "2026-09-23", response.content
        assert json.loads(response.content)["data"] is None


# --- the middleware keeps whatever a view produced inside the envelope ----------------------------


def _through_middleware(response, path="/v1/actions/store/create-store"):
    from pancake.api.middleware import ApiEnvelopeMiddleware

    request = RequestFactory().post(path)
    return ApiEnvelopeMiddleware(lambda r: response)(request)


def test_redirect_under_v1_becomes_a_404_envelope():
    from django.http import HttpResponsePermanentRedirect

    response = _through_middleware(HttpResponsePermanentRedirect("/v1/actions/store/create-store/"))
    assert_error(response, 404)
    assert "Location" not in response


@pytest.mark.parametrize("status", [400, 403, 404, 500, 502])
def test_html_error_pages_under_v1_become_envelopes(status):
    from django.http import HttpResponse

    response = _through_middleware(HttpResponse("<h1>Oops</h1>", status=status))
    assert_error(response, status)
    assert b"<h1>" not in response.content


def test_csrf_failure_page_becomes_a_403_envelope():
    from django.http import HttpResponseForbidden

    page = HttpResponseForbidden("<h1>Forbidden (403)</h1><p>CSRF verification failed.</p>")
    assert_error(_through_middleware(page), 403, "Forbidden: CSRF check failed")


def test_json_error_without_errors_array_is_rewritten_as_an_envelope():
    from django.http import JsonResponse

    response = _through_middleware(JsonResponse({"data": None}, status=500))
    assert_error(response, 500, "Internal server error")


def test_pages_outside_v1_are_left_alone():
    from django.http import HttpResponse

    page = HttpResponse("<h1>Oops</h1>", status=500)
    assert _through_middleware(page, path="/dashboard/") is page


def test_exception_under_v1_is_a_500_envelope_and_oversize_a_413():
    from django.core.exceptions import RequestDataTooBig

    from pancake.api.middleware import ApiEnvelopeMiddleware

    middleware = ApiEnvelopeMiddleware(lambda r: None)
    request = RequestFactory().post(CREATE)
    crashed = middleware.process_exception(request, RuntimeError("secret"))
    assert_error(crashed, 500, "Internal server error")
    assert b"secret" not in crashed.content
    assert_error(middleware.process_exception(request, RequestDataTooBig()), 413)
    assert (
        middleware.process_exception(RequestFactory().post("/dashboard/"), RuntimeError()) is None
    )
