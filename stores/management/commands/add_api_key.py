from django.core.management.base import BaseCommand, CommandError

from pancake.api import versions
from pancake.api.errors import PancakeError
from stores.management.commands._common import find_merchant, read_text
from stores.services import api_key_create


class Command(BaseCommand):
    help = (
        "Register an RSA public key (PEM, 2048 bits or more) as an API key of a merchant and "
        "print the key id. The private key stays with you: sign requests with it, or mint a "
        "JWT for curl with `mint_jwt`."
    )

    def add_arguments(self, parser):
        parser.add_argument("merchant", metavar="EMAIL", help="the merchant's email (or MER_… id)")
        parser.add_argument("--env", required=True, choices=["test", "prod"], dest="environment")
        parser.add_argument("--public-key", required=True, metavar="FILE", help="public key (PEM)")
        parser.add_argument(
            "--api-version",
            default=versions.LATEST,
            choices=[versions.SDK, versions.DOCS],
            help=f"response format for this key (default {versions.LATEST}, the SDK's)",
        )
        parser.add_argument("--name", default=None, help="a label shown in the dashboard")

    def handle(self, *args, merchant: str, environment: str, public_key: str, **options):
        owner = find_merchant(merchant)
        pem = read_text(public_key, "public key")
        if "PRIVATE KEY" in pem:
            raise CommandError(
                f"{public_key} holds a private key. Register the public key only, e.g. "
                f"`openssl pkey -in {public_key} -pubout -out public.pem`"
            )
        name = options["name"] or f"{environment} key (CLI)"
        try:
            key = api_key_create(
                merchant=owner,
                name=name,
                environment=environment,
                public_key_pem=pem,
                api_version=options["api_version"],
            )
        except PancakeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Added {key.environment} API key {key.name!r} for {owner.email} "
            f"(API version {key.api_version})"
        )
        self.stdout.write(f"Key id:      {key.pk}")
        self.stdout.write(f"Merchant id: {owner.short_id}")
