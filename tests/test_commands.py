"""Management commands: create_merchant, add_api_key, mint_jwt, demo."""

from __future__ import annotations

import importlib.util
import io
import json
import stat
import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.test import Client

from pancake.api import ids
from products.models import Product
from stores.models import ApiKey, Merchant, Role, Store, StoreMembership
from tests.factories import MerchantFactory, make_api_key, private_pem, public_pem, rsa_key
from tests.helpers import sign_headers

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def create_store_with(client: Client, **headers):
    return client.post(
        "/v1/actions/store/create-store",
        data=json.dumps({"name": "From the CLI"}).encode(),
        content_type="application/json",
        **headers,
    )


# --- create_merchant -----------------------------------------------------------------------------


def test_create_merchant_prints_both_id_forms_and_finds_the_same_merchant_again():
    out = run("create_merchant", "  Alice@Example.COM ")
    merchant = Merchant.objects.get()
    assert merchant.email == "alice@example.com"
    assert "Created merchant alice@example.com" in out
    assert ids.encode("MER", merchant.pk) in out
    assert str(merchant.pk) in out

    again = run("create_merchant", "alice@example.com")
    assert "Found existing merchant" in again
    assert ids.encode("MER", merchant.pk) in again
    assert Merchant.objects.count() == 1


def test_create_merchant_rejects_a_malformed_email():
    with pytest.raises(CommandError, match="Not a valid email address"):
        run("create_merchant", "not-an-email")
    assert not Merchant.objects.exists()


# --- add_api_key ---------------------------------------------------------------------------------


def test_add_api_key_registers_the_public_key_with_its_environment_and_version(tmp_path, key_pool):
    merchant = MerchantFactory(email="bob@example.com")
    key = key_pool[1]
    path = write(tmp_path / "public.pem", public_pem(key))
    out = run(
        "add_api_key",
        "Bob@example.com",
        "--env",
        "prod",
        "--public-key",
        path,
        "--api-version",
        "2026-01-15",
        "--name",
        "Deploy key",
    )
    api_key = ApiKey.objects.get(merchant=merchant)
    assert f"Key id:      {api_key.pk}" in out
    assert (api_key.environment, api_key.api_version, api_key.name) == (
        "prod",
        "2026-01-15",
        "Deploy key",
    )
    assert api_key.public_key_pem.strip() == public_pem(key).strip()


def test_add_api_key_defaults_to_the_sdk_api_version(tmp_path, key_pool):
    merchant = MerchantFactory(email="carol@example.com")
    path = write(tmp_path / "public.pem", public_pem(key_pool[2]))
    run("add_api_key", "carol@example.com", "--env", "test", "--public-key", path)
    api_key = ApiKey.objects.get(merchant=merchant)
    assert (api_key.environment, api_key.api_version) == ("test", "2026-09-23")


def test_add_api_key_rejects_keys_smaller_than_2048_bits(tmp_path):
    MerchantFactory(email="dave@example.com")
    path = write(tmp_path / "small.pem", public_pem(rsa_key(1024)))
    with pytest.raises(CommandError, match="at least 2048 bits"):
        run("add_api_key", "dave@example.com", "--env", "test", "--public-key", path)
    assert not ApiKey.objects.exists()


def test_add_api_key_for_an_unknown_merchant_says_how_to_create_one(tmp_path, key_pool):
    path = write(tmp_path / "public.pem", public_pem(key_pool[0]))
    with pytest.raises(CommandError, match="No merchant 'nobody@example.com'.*create_merchant"):
        run("add_api_key", "nobody@example.com", "--env", "test", "--public-key", path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not a key", "Invalid public key"),
        (None, "holds a private key"),
    ],
)
def test_add_api_key_rejects_files_that_are_not_a_public_key(tmp_path, key_pool, content, message):
    MerchantFactory(email="erin@example.com")
    path = write(tmp_path / "key.pem", content or private_pem(key_pool[0]))
    with pytest.raises(CommandError, match=message):
        run("add_api_key", "erin@example.com", "--env", "test", "--public-key", path)
    assert not ApiKey.objects.exists()


def test_add_api_key_reports_a_missing_file(tmp_path):
    MerchantFactory(email="frank@example.com")
    with pytest.raises(CommandError, match="Cannot read public key file"):
        run(
            "add_api_key", "frank@example.com", "--env", "test", "--public-key", str(tmp_path / "x")
        )


def test_add_api_key_refuses_a_key_registered_twice(tmp_path, key_pool):
    MerchantFactory(email="gina@example.com")
    path = write(tmp_path / "public.pem", public_pem(key_pool[3]))
    run("add_api_key", "gina@example.com", "--env", "test", "--public-key", path)
    with pytest.raises(CommandError, match="already registered"):
        run("add_api_key", "gina@example.com", "--env", "prod", "--public-key", path)
    assert ApiKey.objects.count() == 1


# --- mint_jwt ------------------------------------------------------------------------------------


@pytest.mark.parametrize("id_form", ["short", "uuid"])
def test_minted_jwt_authenticates_a_real_request(tmp_path, key_pool, id_form):
    merchant = MerchantFactory()
    key = key_pool[0]
    make_api_key(merchant, key, environment="test")
    merchant_id = ids.encode("MER", merchant.pk) if id_form == "short" else str(merchant.pk)
    key_file = write(tmp_path / "private.pem", private_pem(key))

    token = run("mint_jwt", "--private-key", key_file, "--merchant-id", merchant_id).strip()

    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["sub"] == ids.encode("MER", merchant.pk)
    assert claims["exp"] - claims["iat"] == 300
    response = create_store_with(Client(), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    store_id = response.json()["data"]["store"]["id"]
    store = Store.objects.get(pk=ids.parse_id(store_id, "STO"))
    assert StoreMembership.objects.get(store=store).merchant == merchant


def test_mint_jwt_lifetime_is_capped_at_15_minutes(tmp_path, key_pool):
    key_file = write(tmp_path / "private.pem", private_pem(key_pool[0]))
    merchant_id = ids.encode("MER", MerchantFactory().pk)
    token = run(
        "mint_jwt", "--private-key", key_file, "--merchant-id", merchant_id, "--lifetime", "900"
    )
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900
    with pytest.raises(CommandError, match="between 1 and 900"):
        run(
            "mint_jwt", "--private-key", key_file, "--merchant-id", merchant_id, "--lifetime", "901"
        )


def test_mint_jwt_rejects_a_store_id_and_a_public_key(tmp_path, key_pool):
    key = key_pool[0]
    private_file = write(tmp_path / "private.pem", private_pem(key))
    public_file = write(tmp_path / "public.pem", public_pem(key))
    store_id = ids.encode("STO", MerchantFactory().pk)
    with pytest.raises(CommandError, match="expected MER_ prefix"):
        run("mint_jwt", "--private-key", private_file, "--merchant-id", store_id)
    merchant_id = ids.encode("MER", MerchantFactory().pk)
    with pytest.raises(CommandError, match="does not contain a PEM private key"):
        run("mint_jwt", "--private-key", public_file, "--merchant-id", merchant_id)


# --- demo ----------------------------------------------------------------------------------------


def demo_rows() -> dict:
    merchant = Merchant.objects.get(email="demo@pancake.local")
    return {
        "merchants": Merchant.objects.filter(email="demo@pancake.local").count(),
        "stores": Store.objects.filter(
            memberships__merchant=merchant, memberships__role=Role.OWNER
        ).count(),
        "products": Product.objects.filter(store__memberships__merchant=merchant).count(),
        "keys": ApiKey.objects.filter(merchant=merchant).count(),
    }


def test_demo_twice_creates_everything_once_and_reuses_the_key_file(tmp_path, settings):
    settings.BASE_URL = "http://127.0.0.1:8000"
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    key_file = tmp_path / ".demo" / "demo-api-key.pem"
    first = run("demo", key_file=str(key_file))
    pem = key_file.read_text()
    second = run("demo", key_file=str(key_file))

    assert demo_rows() == {"merchants": 1, "stores": 1, "products": 1, "keys": 1}
    assert key_file.read_text() == pem
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "API key registered" in first and "API key found" in second

    merchant = Merchant.objects.get(email="demo@pancake.local")
    store = Store.objects.get(name="Demo Store")
    assert store.memberships.get().role == Role.OWNER
    product = Product.objects.get(store=store)
    assert product.kind == "onetime"
    assert product.test_version.name == "Demo E-Book"
    assert product.test_version.prices["USD"]["amount"] == 2900
    assert product.test_version.prices["USD"]["taxCategory"] == "ebook"
    api_key = ApiKey.objects.get(merchant=merchant)
    assert (api_key.environment, api_key.api_version) == ("test", "2026-09-23")

    merchant_id = ids.encode("MER", merchant.pk)
    for expected in (
        "http://127.0.0.1:8000/login/",
        "demo@pancake.local",
        "printed in this console",
        merchant_id,
        ids.encode("STO", store.pk),
        f'new WaffoPancake({{ merchantId: "{merchant_id}", privateKey: fs.readFileSync(',
        'baseUrl: "http://127.0.0.1:8000" })',
        f"http://127.0.0.1:8000/{store.slug}/{product.slug}?env=test",
        "4242 4242 4242 4242",
    ):
        assert expected in second, expected


def test_demo_key_file_signs_requests_that_verify(tmp_path):
    key_file = tmp_path / "demo-api-key.pem"
    run("demo", key_file=str(key_file))
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    merchant = Merchant.objects.get(email="demo@pancake.local")
    body = json.dumps({"name": "Signed with the demo key"}).encode()
    path = "/v1/actions/store/create-store"
    response = Client().post(
        path,
        data=body,
        content_type="application/json",
        **sign_headers(key, merchant.short_id, path, body),
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["store"]["name"] == "Signed with the demo key"


def test_demo_replaces_a_lost_key_file_without_keeping_the_old_key(tmp_path):
    key_file = tmp_path / "demo-api-key.pem"
    run("demo", key_file=str(key_file))
    old = ApiKey.objects.get()
    key_file.unlink()
    out = run("demo", key_file=str(key_file))
    assert "API key registered" in out
    assert key_file.exists()
    new = ApiKey.objects.get()
    assert new.pk != old.pk
    assert demo_rows() == {"merchants": 1, "stores": 1, "products": 1, "keys": 1}


def test_demo_uses_the_configured_base_url_in_its_instructions(tmp_path, settings):
    settings.BASE_URL = "https://pay.example.com"
    out = run("demo", key_file=str(tmp_path / "k.pem"))
    assert "Open https://pay.example.com/login/" in out
    assert 'baseUrl: "https://pay.example.com"' in out


# --- dev.py --------------------------------------------------------------------------------------


@pytest.fixture
def dev_script(monkeypatch):
    """dev.py as a module, with the venv and browser steps stubbed and pytest's exit code faked."""
    spec = importlib.util.spec_from_file_location("pancake_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ensure_venv", lambda: None)
    monkeypatch.setattr(module, "ensure_browser", lambda: True)
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append((cmd, kwargs.get("env") or {}))
        return subprocess.CompletedProcess(cmd, module.FAKE_CODE)

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    module.calls = calls
    return module


@pytest.mark.parametrize(("pytest_code", "expected"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_dev_test_exits_with_pytests_code_but_no_tests_is_a_failure(
    dev_script, pytest_code, expected
):
    dev_script.FAKE_CODE = pytest_code
    assert dev_script.main(["test"]) == expected


def test_dev_test_runs_the_whole_suite_on_two_workers_or_the_given_args(dev_script, monkeypatch):
    monkeypatch.delenv("PANCAKE_TEST_WORKERS", raising=False)
    monkeypatch.delenv("CELERY_TASK_ALWAYS_EAGER", raising=False)
    dev_script.FAKE_CODE = 0
    dev_script.main(["test"])
    dev_script.main(["test", "tests/sdk", "-x"])
    (whole, env), (some, _) = dev_script.calls
    assert whole[1:] == ["-m", "pytest", "--create-db", "-p", "xdist", "-n", "2"]
    assert some[1:] == ["-m", "pytest", "--create-db", "tests/sdk", "-x"]
    assert env["CELERY_TASK_ALWAYS_EAGER"] == "1"


def test_dev_without_a_known_command_prints_usage(dev_script, capsys):
    assert dev_script.main([]) == 2
    assert "python3.11 dev.py demo" in capsys.readouterr().out
