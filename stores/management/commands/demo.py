"""Demo data for a first run: a merchant, a store, a product and a test API key whose private
key is written to ``.demo/demo-api-key.pem``. Safe to run again: everything is found, not
duplicated, and an existing key file is reused."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pancake.api import ids, signatures, versions
from pancake.api.errors import PancakeError
from products.models import Product, ProductKind
from products.services import product_create
from stores.management.commands._common import load_rsa_private_key
from stores.models import ApiKey, Merchant, Role, Store
from stores.services import api_key_create, merchant_get_or_create, store_create

DEMO_EMAIL = "demo@pancake.local"
DEMO_STORE = "Demo Store"
DEMO_PRODUCT = "Demo E-Book"
DEMO_PRICES = {"USD": {"amount": 2900, "taxCategory": "ebook", "taxIncluded": False}}
DEMO_KEY_NAME = "Demo key"


def default_key_path() -> Path:
    return Path(settings.BASE_DIR) / ".demo" / "demo-api-key.pem"


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """PKCS#8 PEM, readable by its owner only, written under a temporary name then moved so
    a half-written file never replaces a good one."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = (
        f"Create demo data (merchant {DEMO_EMAIL}, {DEMO_STORE!r}, {DEMO_PRODUCT!r} and a test "
        "API key) and print how to sign in and call the API. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--key-file",
            default=None,
            help="where the demo private key lives (default: .demo/demo-api-key.pem in the repo)",
        )

    def handle(self, *args, **options):
        key_path = Path(options["key_file"]) if options["key_file"] else default_key_path()
        notes: list[str] = []
        with transaction.atomic():
            merchant, created = merchant_get_or_create(email=DEMO_EMAIL)
            notes.append(f"merchant {'created' if created else 'found'}")
            store, created = self._store(merchant)
            notes.append(f"store {'created' if created else 'found'}")
            product, created = self._product(store)
            notes.append(f"product {'created' if created else 'found'}")
            api_key, created = self._api_key(merchant, key_path)
            notes.append(f"API key {'registered' if created else 'found'}")
        self._print(merchant, store, product, api_key, key_path, notes)

    # --- the demo objects ---------------------------------------------------------------------

    def _store(self, merchant: Merchant) -> tuple[Store, bool]:
        store = (
            Store.objects.filter(
                name=DEMO_STORE,
                deleted_at__isnull=True,
                memberships__merchant=merchant,
                memberships__role=Role.OWNER,
            )
            .order_by("created_at")
            .first()
        )
        if store is not None:
            return store, False
        return store_create(merchant=merchant, name=DEMO_STORE, default_currency="USD"), True

    def _product(self, store: Store) -> tuple[Product, bool]:
        product = (
            Product.objects.filter(store=store, test_version__name=DEMO_PRODUCT)
            .order_by("created_at")
            .first()
        )
        if product is not None:
            return product, False
        product = product_create(
            store=store,
            kind=ProductKind.ONETIME,
            name=DEMO_PRODUCT,
            prices=DEMO_PRICES,
            description="A sample one-time product created by `manage.py demo`.",
        )
        return product, True

    def _api_key(self, merchant: Merchant, path: Path) -> tuple[ApiKey, bool]:
        """Reuse the key file when it holds a usable RSA key; register its public key unless
        it already is. Otherwise make a new key pair and retire the old demo key."""
        private_key = None
        if path.exists():
            try:
                private_key = load_rsa_private_key(path)
                _, fingerprint = signatures.parse_public_key(_public_pem(private_key))
            except (CommandError, PancakeError) as exc:
                self.stderr.write(f"Replacing unusable demo key file {path}: {exc}")
                private_key = None
            else:
                existing = ApiKey.objects.filter(merchant=merchant, fingerprint=fingerprint).first()
                if existing is not None:
                    return existing, False
        if private_key is None:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write_private_key(path, private_key)
        ApiKey.objects.filter(merchant=merchant, name=DEMO_KEY_NAME).delete()
        key = api_key_create(
            merchant=merchant,
            name=DEMO_KEY_NAME,
            environment="test",
            public_key_pem=_public_pem(private_key),
            api_version=versions.LATEST,
        )
        return key, True

    # --- output -------------------------------------------------------------------------------

    def _print(self, merchant, store, product, api_key, key_path: Path, notes: list[str]) -> None:
        base_url = settings.BASE_URL
        merchant_id = merchant.short_id
        key_file = _display(key_path)
        console_email = settings.EMAIL_BACKEND.endswith("console.EmailBackend")
        mail_note = (
            "Email goes to the console backend, so the sign-in link is printed in this console;"
            if console_email
            else "The sign-in link is sent by email;"
        )
        out = self.stdout.write
        out(self.style.SUCCESS(f"Pancake demo data is ready ({', '.join(notes)})."))
        out("")
        out("Sign in to the dashboard")
        out(f"  Open {base_url}/login/ and enter {DEMO_EMAIL}.")
        out(f"  {mail_note} open it within 15 minutes.")
        out("")
        store_id, product_id = ids.encode("STO", store.pk), ids.encode("PROD", product.pk)
        out(f"  Merchant id  {merchant_id}  (UUID {merchant.pk})")
        out(f"  Store        {DEMO_STORE}  {store_id}  (slug {store.slug})")
        out(f"  Product      {DEMO_PRODUCT}, USD 29.00, test mode  {product_id}")
        out(
            f"  API key      {api_key.pk}  ({api_key.environment}, API version "
            f"{api_key.api_version}); private key: {key_file}"
        )
        out("")
        out("Buy it as a customer would (test mode: nothing is charged)")
        out(f"  Open {base_url}/{store.slug}/{product.slug}?env=test")
        out("  and pay with the test card 4242 4242 4242 4242, any future expiry, any CVC.")
        out("")
        out("Call the API with the official SDK (npm install @waffo/pancake-ts):")
        out("")
        out('  import fs from "node:fs";')
        out('  import { WaffoPancake } from "@waffo/pancake-ts";')
        out(
            f'  const client = new WaffoPancake({{ merchantId: "{merchant_id}", '
            f'privateKey: fs.readFileSync("{key_file}", "utf8"), baseUrl: "{base_url}" }});'
        )
        out('  const { store } = await client.stores.create({ name: "My Store" });')
        out("")
        out("Or with curl and a short-lived JWT:")
        out("")
        out(
            f"  TOKEN=$(python manage.py mint_jwt --private-key {key_file} "
            f"--merchant-id {merchant_id})"
        )
        out(
            f'  curl -X POST {base_url}/v1/actions/store/create-store -H "Authorization: Bearer '
            f'$TOKEN" -H "Content-Type: application/json" -d \'{{"name": "My Store"}}\''
        )
        out("")
        out(f"API reference: {base_url}/api/docs/ (OpenAPI: {base_url}/v1/openapi.json)")
