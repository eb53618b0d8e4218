import time

import jwt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pancake.api import ids
from stores.management.commands._common import load_rsa_private_key, parse_merchant_id


class Command(BaseCommand):
    help = (
        "Print an RS256 JWT (claims sub, iat, exp) signed with an API key's private key, for "
        'curl -H "Authorization: Bearer $TOKEN". Nothing is looked up or stored.'
    )
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--private-key", required=True, metavar="FILE", help="PEM private key")
        parser.add_argument("--merchant-id", required=True, help="MER_… or the merchant's UUID")
        parser.add_argument(
            "--lifetime",
            type=int,
            default=300,
            metavar="SECONDS",
            help="seconds until exp (default 300, at most 900)",
        )

    def handle(self, *args, private_key: str, merchant_id: str, lifetime: int, **options):
        limit = settings.API_JWT_MAX_LIFETIME_SECONDS
        if not 1 <= lifetime <= limit:
            raise CommandError(f"--lifetime must be between 1 and {limit} seconds")
        merchant_uuid = parse_merchant_id(merchant_id)
        key = load_rsa_private_key(private_key)
        now = int(time.time())
        claims = {"sub": ids.encode("MER", merchant_uuid), "iat": now, "exp": now + lifetime}
        self.stdout.write(jwt.encode(claims, key, algorithm="RS256"))
